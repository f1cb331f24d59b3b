import { sql } from 'kysely';
import type { VerifyCode } from '../../schema';
import type { Db } from '../store/database';
import { jsonb } from '../store/sql';

/** One verification to log. */
export interface CallRecord {
  workspaceId: string;
  at: Date;
  keyId: string | null;
  keyStart: string | null;
  ip: string | null;
  scopes: readonly string[];
  method: string | null;
  path: string | null;
  code: VerifyCode;
  latencyMs: number;
}

interface LastUse {
  at: Date;
  ip: string | null;
}

/**
 * Keeps the call log and `lastUsed` off the request path: verifications are buffered and written
 * in one multi-row insert per flush, and every key's last use is coalesced to one update per
 * flush. A crash loses at most one flush interval of call rows, never a key or an audit entry.
 */
export class CallRecorder {
  readonly #db: Db;
  readonly #maxBatch: number;
  #pending: CallRecord[] = [];
  #lastUse = new Map<string, LastUse>();
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();
  #onError: (error: unknown) => void;

  constructor(db: Db, options: { flushIntervalMs: number; maxBatch?: number; onError: (error: unknown) => void }) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#onError = options.onError;
    this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.#timer.unref();
  }

  /** Queues one call and notes the key's last use. */
  record(call: CallRecord): void {
    this.#pending.push(call);
    if (call.keyId) this.#lastUse.set(call.keyId, { at: call.at, ip: call.ip });
    if (this.#pending.length >= this.#maxBatch) void this.flush();
  }

  /** Notes a key's use without a call-log row (root keys on the management API). */
  noteUse(keyId: string, at: Date, ip: string | null): void {
    this.#lastUse.set(keyId, { at, ip });
  }

  /** The last use noted in memory but not yet written, so reads in this process see it at once. */
  pendingLastUse(keyId: string): LastUse | undefined {
    return this.#lastUse.get(keyId);
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
    const calls = this.#pending;
    const lastUse = this.#lastUse;
    if (calls.length === 0 && lastUse.size === 0) return;
    this.#pending = [];
    this.#lastUse = new Map();
    try {
      for (let offset = 0; offset < calls.length; offset += this.#maxBatch) {
        // The whole batch travels as one JSON parameter: one statement to build and send, however
        // many rows, which keeps the request thread's share of logging to a JSON.stringify.
        const rows = calls.slice(offset, offset + this.#maxBatch).map((call) => [
          call.workspaceId,
          call.at.toISOString(),
          call.keyId,
          call.keyStart,
          call.ip,
          call.scopes,
          call.method,
          call.path,
          call.code,
          call.latencyMs,
        ]);
        await sql`
          insert into calls (workspace_id, at, key_id, key_start, ip, scopes, method, path, code, latency_ms)
          select r->>0, (r->>1)::timestamptz, r->>2, r->>3, r->>4, r->5, r->>6, r->>7, r->>8, (r->>9)::real
          from jsonb_array_elements(${jsonb(rows)}) as r`.execute(this.#db);
      }
      if (lastUse.size > 0) await this.#writeLastUse(lastUse);
    } catch (error) {
      this.#onError(error);
    }
  }

  async #writeLastUse(lastUse: Map<string, LastUse>): Promise<void> {
    const rows = [...lastUse].map(([id, use]) => ({ id, at: use.at.toISOString(), ip: use.ip }));
    // One statement for every key used since the last flush; never moves lastUsed backwards.
    await sql`
      update keys set last_used_at = used.at, last_used_ip = used.ip
      from jsonb_to_recordset(${jsonb(rows)}) as used(id text, at timestamptz, ip text)
      where keys.id = used.id and (keys.last_used_at is null or keys.last_used_at < used.at)`.execute(this.#db);
  }
}
