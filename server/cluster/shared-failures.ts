import { sql } from 'kysely';
import type { RateLimit } from '../../schema';
import type { Db } from '../store/database';
import { BLOCKS_CHANNEL } from './invalidation';

/** What a failure counts against: a verifying source IP, a presented key prefix, or a root-key source IP. */
export type FailureKind = 'ip' | 'prefix' | 'root';

/** A source blocked across the cluster, as announced. */
export interface ClusterBlock {
  kind: FailureKind;
  source: string;
  /** Epoch milliseconds. */
  until: number;
}

/** How many failures of each kind a window tolerates, and how long a root-key lockout lasts. */
export interface SharedFailurePolicy {
  verifyFailuresPerIp: RateLimit;
  verifyFailuresPerPrefix: RateLimit;
  rootKeyFailures: RateLimit;
  rootKeyLockoutSeconds: number;
}

/** How often counted failures are written: a guessing flood costs one statement per interval, not per guess. */
const FLUSH_MS = 50;

/**
 * Brute-force counters shared by the replicas: each replica counts failures in memory as before,
 * and also adds them, in batches, to one counter per source and window in Postgres (UNLOGGED). The
 * replica whose batch takes a source over its limit announces the block, and every replica blocks
 * it, so spreading guesses over N replicas buys no more than one replica allows.
 */
export class SharedFailureCounter {
  readonly #db: Db;
  readonly #policy: SharedFailurePolicy;
  readonly #onError: (error: unknown) => void;
  readonly #onBlocked: (block: ClusterBlock) => void;
  #pending = new Map<string, { kind: FailureKind; source: string; windowStart: number; failures: number }>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    db: Db,
    policy: SharedFailurePolicy,
    handlers: { onError: (error: unknown) => void; onBlocked: (block: ClusterBlock) => void },
  ) {
    this.#db = db;
    this.#policy = policy;
    this.#onError = handlers.onError;
    this.#onBlocked = handlers.onBlocked;
    this.#timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  /** Counts one failure of `source` toward the cluster's count. */
  record(kind: FailureKind, source: string, now: number): void {
    const windowMs = this.#rule(kind).windowSeconds * 1000;
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const id = `${kind} ${windowStart} ${source}`;
    const entry = this.#pending.get(id);
    if (entry) entry.failures += 1;
    else this.#pending.set(id, { kind, source, windowStart, failures: 1 });
  }

  /** Writes the counted failures; announces each source that this batch took over its limit. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write()).catch(this.#onError);
    return this.#flushing;
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending.values()];
    this.#pending = new Map();
    const crossed: ClusterBlock[] = [];
    await this.#db.transaction().execute(async (trx) => {
      for (const entry of batch) {
        const rule = this.#rule(entry.kind);
        const { rows } = await sql<{ failures: number }>`
          insert into failure_counts as counter (kind, source, window_start, failures)
          values (${entry.kind}, ${entry.source}, ${entry.windowStart}, ${entry.failures})
          on conflict (kind, source, window_start) do update set failures = counter.failures + ${entry.failures}
          returning failures`.execute(trx);
        const total = Number(rows[0]?.failures ?? 0);
        // Announce once: the batch that crossed the limit, not every batch after it.
        if (total >= rule.limit && total - entry.failures < rule.limit) {
          const until =
            entry.kind === 'root'
              ? Date.now() + this.#policy.rootKeyLockoutSeconds * 1000
              : entry.windowStart + 2 * rule.windowSeconds * 1000;
          const block: ClusterBlock = { kind: entry.kind, source: entry.source, until };
          await sql`select pg_notify(${BLOCKS_CHANNEL}, ${JSON.stringify(block)})`.execute(trx);
          crossed.push(block);
        }
      }
    });
    // Told once per block, on the replica that announced it (to log and audit it once).
    for (const block of crossed) this.#onBlocked(block);
  }

  #rule(kind: FailureKind): RateLimit {
    if (kind === 'ip') return this.#policy.verifyFailuresPerIp;
    if (kind === 'prefix') return this.#policy.verifyFailuresPerPrefix;
    return this.#policy.rootKeyFailures;
  }

  /** Writes what is left and stops. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}

/** Reads an announced block, or null for a payload that is not one. */
export function parseBlock(payload: string): ClusterBlock | null {
  try {
    const block = JSON.parse(payload) as Partial<ClusterBlock>;
    const kinds: readonly string[] = ['ip', 'prefix', 'root'];
    if (typeof block.kind !== 'string' || !kinds.includes(block.kind)) return null;
    if (typeof block.source !== 'string' || typeof block.until !== 'number') return null;
    return block as ClusterBlock;
  } catch {
    return null;
  }
}

/** Drops counters of windows long past (the leader runs it). */
export async function pruneFailureCounts(db: Db, before: number): Promise<void> {
  await sql`delete from failure_counts where window_start < ${before}`.execute(db);
}
