import { sql } from 'kysely';
import type { RateLimit } from '../../schema';
import type { Db } from '../store/database';
import type { RateLimitState } from '../verify/rate-limit';

/*
 * Rate limits that hold across replicas. A key's limit is the cluster's: each fixed window's
 * tokens live in one shared counter in Postgres (an UNLOGGED table: it is rebuilt by use after a
 * crash), and a replica leases a block of them at a time, then spends its lease from memory. The
 * cluster never admits more than the limit in a window. It may refuse early while other replicas
 * hold unspent tokens: at most (replicas - 1) × the largest lease, that is (replicas - 1) × 1/8
 * of the limit (docs/operations.md). Keys without a rate limit never reach this module.
 */

/** A lease never exceeds this share of a window's limit, which bounds what other replicas can strand. */
const LEASE_SHARE = 8;

/** One key's lease for its current window. */
interface Lease {
  windowStart: number;
  windowMs: number;
  limit: number;
  /** Tokens of the lease not yet spent. */
  tokens: number;
  /** The size of the next lease: it doubles while demand keeps emptying leases, within the share. */
  nextSize: number;
  /** Tokens the whole cluster had taken from the window at the last lease. */
  clusterTaken: number;
  /** A lease request under way, shared by the verifications that wait for it. */
  pending: Promise<void> | null;
}

/** The verdict on one verification's token. */
export interface RateVerdict {
  allowed: boolean;
  state: RateLimitState;
}

/** Leases tokens from the cluster-wide counter and spends them locally. */
export class LeasedRateLimiter {
  readonly #db: Db;
  readonly #leases = new Map<string, Lease>();

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Spends a token from memory when this replica holds one for the key's current window; else
   * undefined, and `consume` must ask the cluster.
   */
  tryLocal(keyId: string, rule: RateLimit, now: number): RateVerdict | undefined {
    const lease = this.#current(keyId, rule, now);
    if (lease.tokens > 0) {
      lease.tokens -= 1;
      return { allowed: true, state: stateOf(lease) };
    }
    // The whole window is spent across the cluster: refuse without a round trip.
    if (lease.clusterTaken >= lease.limit) return { allowed: false, state: stateOf(lease) };
    return undefined;
  }

  /** Spends a token, leasing more from the cluster first when this replica has none left. */
  async consume(keyId: string, rule: RateLimit, now: number): Promise<RateVerdict> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const local = this.tryLocal(keyId, rule, now);
      if (local) return local;
      const lease = this.#current(keyId, rule, now);
      lease.pending ??= this.#lease(keyId, lease).finally(() => {
        lease.pending = null;
      });
      await lease.pending;
    }
    // Other verifications on this replica spent each fresh lease first: they were admitted, this one is not.
    const lease = this.#current(keyId, rule, now);
    return { allowed: false, state: stateOf(lease) };
  }

  #current(keyId: string, rule: RateLimit, now: number): Lease {
    const windowMs = rule.windowSeconds * 1000;
    const windowStart = Math.floor(now / windowMs) * windowMs;
    let lease = this.#leases.get(keyId);
    if (!lease || lease.windowStart !== windowStart || lease.windowMs !== windowMs || lease.limit !== rule.limit) {
      // A new window (or a changed rule) starts from no tokens; unspent ones of the last window lapse.
      lease = {
        windowStart,
        windowMs,
        limit: rule.limit,
        tokens: 0,
        nextSize: lease && lease.windowMs === windowMs ? Math.max(1, Math.floor(lease.nextSize / 2)) : 1,
        clusterTaken: 0,
        pending: null,
      };
      this.#leases.set(keyId, lease);
    }
    return lease;
  }

  async #lease(keyId: string, lease: Lease): Promise<void> {
    const cap = Math.max(1, Math.floor(lease.limit / LEASE_SHARE));
    const wanted = Math.min(lease.nextSize, cap, lease.limit);
    // The whole block, if the window still has it; else whatever is left, one token at a time.
    const block = await sql<{ taken: number }>`
      insert into rate_limit_leases as counter (key_id, window_start, taken)
      values (${keyId}, ${lease.windowStart}, ${wanted})
      on conflict (key_id, window_start) do update set taken = counter.taken + ${wanted}
        where counter.taken + ${wanted} <= ${lease.limit}
      returning taken`.execute(this.#db);
    let got = 0;
    let taken: number | undefined = block.rows[0]?.taken;
    if (taken !== undefined) got = wanted;
    else {
      const single = await sql<{ taken: number }>`
        update rate_limit_leases set taken = taken + 1
        where key_id = ${keyId} and window_start = ${lease.windowStart} and taken < ${lease.limit}
        returning taken`.execute(this.#db);
      taken = single.rows[0]?.taken ?? lease.limit;
      got = single.rows.length;
    }
    lease.tokens += got;
    lease.clusterTaken = Number(taken);
    lease.nextSize = Math.min(cap, lease.nextSize * 2);
  }

  /** Forgets leases of past windows. */
  sweep(now: number): void {
    for (const [keyId, lease] of this.#leases)
      if (lease.windowStart + 2 * lease.windowMs <= now) this.#leases.delete(keyId);
  }
}

function stateOf(lease: Lease): RateLimitState {
  return {
    limit: lease.limit,
    remaining: Math.max(0, lease.limit - lease.clusterTaken + lease.tokens),
    resetAt: new Date(lease.windowStart + lease.windowMs),
  };
}

/** Drops counters of windows that ended before `before` (the leader runs it). */
export async function pruneRateLeases(db: Db, before: number): Promise<void> {
  await sql`delete from rate_limit_leases where window_start < ${before}`.execute(db);
}
