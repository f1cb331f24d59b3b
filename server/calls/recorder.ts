import { sql } from 'kysely';
import type { Db } from '../store/database';
import { jsonb } from '../store/sql';
import { appendSegments } from './repository';
import { type CallRecord, fillSegment, type SegmentBuilder } from './segment';

export type { CallRecord } from './segment';

/** A key's last use waiting to be written; updated in place, so a busy key costs no allocation per call. */
interface LastUse {
  /** Epoch milliseconds. */
  at: number;
  ip: string | null;
}

/** Full segments held before a flush is started early, which bounds the memory a burst can take. */
const FLUSH_AT_FILLED_SEGMENTS = 64;

/**
 * Keeps the call log and `lastUsed` off the request path: verifications are added to the segment
 * being filled for their workspace (server/calls/segment.ts), and every flush interval the
 * segments are written, several per insert, and every key's last use in one update. A statement
 * has a fixed cost in the store, the same for one segment as for sixteen, so under load writing
 * each segment as it filled cost the embedded store's thread more than the rows themselves. A
 * crash loses at most one flush interval of call rows, never a key or an audit entry.
 */
export class CallRecorder {
  readonly #db: Db;
  /** The segment being filled, per workspace. */
  #open = new Map<string, SegmentBuilder>();
  /** Full segments waiting for the next flush. */
  #filled: SegmentBuilder[] = [];
  #lastUse = new Map<string, LastUse>();
  /** The two keys noted last, and their entries in #lastUse (see noteUse). */
  readonly #recentIds: (string | undefined)[] = [undefined, undefined];
  readonly #recentUses: (LastUse | undefined)[] = [undefined, undefined];
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();
  #onError: (error: unknown) => void;

  constructor(db: Db, options: { flushIntervalMs: number; onError: (error: unknown) => void }) {
    this.#db = db;
    this.#onError = options.onError;
    this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.#timer.unref();
  }

  /** Queues one call and notes the key's last use. */
  record(call: CallRecord): void {
    const filled = fillSegment(this.#open, call);
    if (call.keyId) this.noteUse(call.keyId, call.at, call.ip);
    if (filled && this.#filled.push(filled) === FLUSH_AT_FILLED_SEGMENTS) void this.flush();
  }

  /** Notes a key's use at `at` (epoch ms) without a call-log row (root keys on the management API). */
  noteUse(keyId: string, at: number, ip: string | null): void {
    // A verification notes its root key and its API key, and a busy caller repeats both: the two
    // entries used last are found without a lookup.
    let use =
      keyId === this.#recentIds[0]
        ? this.#recentUses[0]
        : keyId === this.#recentIds[1]
          ? this.#recentUses[1]
          : this.#lastUse.get(keyId);
    if (use === undefined) {
      use = { at, ip };
      this.#lastUse.set(keyId, use);
    } else if (at >= use.at) {
      use.at = at;
      use.ip = ip;
    }
    if (keyId !== this.#recentIds[0]) {
      this.#recentIds[1] = this.#recentIds[0];
      this.#recentUses[1] = this.#recentUses[0];
      this.#recentIds[0] = keyId;
      this.#recentUses[0] = use;
    }
  }

  /** The last use noted in memory but not yet written, so reads in this process see it at once. */
  pendingLastUse(keyId: string): { at: Date; ip: string | null } | undefined {
    const use = this.#lastUse.get(keyId);
    return use && { at: new Date(use.at), ip: use.ip };
  }

  /** Writes everything queued so far; concurrent calls wait for the same work. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  async #write(): Promise<void> {
    const segments = [...this.#filled, ...this.#open.values()];
    const lastUse = this.#lastUse;
    if (segments.length === 0 && lastUse.size === 0) return;
    this.#filled = [];
    this.#open = new Map();
    this.#lastUse = new Map();
    this.#recentIds.fill(undefined);
    this.#recentUses.fill(undefined);
    try {
      if (segments.length > 0) await appendSegments(this.#db, segments);
      if (lastUse.size > 0) await this.#writeLastUse(lastUse);
    } catch (error) {
      this.#onError(error);
    } finally {
      // Encoded before the first insert, written or failed: their buffers serve the next segments.
      for (const segment of segments) segment.release();
    }
  }

  async #writeLastUse(lastUse: Map<string, LastUse>): Promise<void> {
    const rows = [...lastUse].map(([id, use]) => ({ id, at: new Date(use.at).toISOString(), ip: use.ip }));
    // One statement for every key used since the last flush; never moves lastUsed backwards.
    await sql`
      update keys set last_used_at = used.at, last_used_ip = used.ip
      from jsonb_to_recordset(${jsonb(rows)}) as used(id text, at timestamptz, ip text)
      where keys.id = used.id and (keys.last_used_at is null or keys.last_used_at < used.at)`.execute(this.#db);
  }
}
