import type { Db } from '../store/database';
import { type LastUseRow, writeCallFlush } from './repository';
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
 * A key's lastUsed is written at most this often by the timed flush: a busy key would otherwise
 * cost a row update every flush. The exact time stays in memory (pendingLastUse) and in the call log.
 */
const LAST_USE_WRITE_MS = 1000;

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
  /** When each key's lastUsed was last written (its `at`), for keys written within LAST_USE_WRITE_MS. */
  #lastWritten = new Map<string, number>();
  /** The two keys noted last, and their entries in #lastUse (see noteUse). */
  readonly #recentIds: (string | undefined)[] = [undefined, undefined];
  readonly #recentUses: (LastUse | undefined)[] = [undefined, undefined];
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();
  #onError: (error: unknown) => void;

  constructor(db: Db, options: { flushIntervalMs: number; onError: (error: unknown) => void }) {
    this.#db = db;
    this.#onError = options.onError;
    this.#timer = setInterval(() => void this.flushDue(), options.flushIntervalMs);
    this.#timer.unref();
  }

  /** Queues one call and notes the key's last use. */
  record(call: CallRecord): void {
    const filled = fillSegment(this.#open, call);
    if (call.keyId) this.noteUse(call.keyId, call.at, call.ip);
    if (filled && this.#filled.push(filled) === FLUSH_AT_FILLED_SEGMENTS) void this.flushDue();
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

  /** Writes everything queued so far, every last use included; concurrent calls wait for the same work. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write(true));
    return this.#flushing;
  }

  /** The timed flush: as flush(), but a key whose lastUsed was written within LAST_USE_WRITE_MS waits. */
  flushDue(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write(false));
    return this.#flushing;
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  async #write(all: boolean): Promise<void> {
    const segments = [...this.#filled, ...this.#open.values()];
    const lastUse = this.#lastUse;
    if (segments.length === 0 && lastUse.size === 0) return;
    this.#filled = [];
    this.#open = new Map();
    this.#lastUse = new Map();
    this.#recentIds.fill(undefined);
    this.#recentUses.fill(undefined);
    const now = Date.now();
    for (const [id, written] of this.#lastWritten) if (now - written >= LAST_USE_WRITE_MS) this.#lastWritten.delete(id);
    const rows: LastUseRow[] = [];
    for (const [id, use] of lastUse) {
      const written = this.#lastWritten.get(id);
      // Written less than a second ago: kept for a later flush (the map is new and empty here).
      if (!all && written !== undefined && use.at - written < LAST_USE_WRITE_MS) this.#lastUse.set(id, use);
      else {
        rows.push({ id, at: new Date(use.at).toISOString(), ip: use.ip });
        this.#lastWritten.set(id, use.at);
      }
    }
    try {
      if (segments.length > 0 || rows.length > 0) await writeCallFlush(this.#db, segments, rows);
    } catch (error) {
      this.#onError(error);
    } finally {
      // Encoded before the first insert, written or failed: their buffers serve the next segments.
      for (const segment of segments) segment.release();
    }
  }
}
