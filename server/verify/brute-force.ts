import type { RateLimit } from '../../schema';
import { ExactWindowCounter, SlidingWindowLimiter } from './rate-limit';

/** How many failures are tolerated before a source or a key prefix is throttled, and for how long root-key failures lock a source out. */
export interface BruteForcePolicy {
  verifyFailuresPerIp: RateLimit;
  verifyFailuresPerPrefix: RateLimit;
  rootKeyFailures: RateLimit;
  rootKeyLockoutSeconds: number;
}

/** Where each failure is also counted when several replicas share a store (server/cluster/shared-failures.ts). */
export interface FailureReporter {
  record(kind: 'ip' | 'prefix' | 'root', source: string, now: number): void;
}

/**
 * Slows down key guessing. Failed verifications (unknown or malformed keys, bad signatures,
 * replays) are counted per source IP and per presented key prefix; past the limit, verifications
 * from that source or with that prefix answer BLOCKED without a lookup until the window cools.
 * Failed root-key authentications lock the source out of the management API for a while.
 * State is per process; with a FailureReporter, failures also count across replicas, and a
 * source another replica blocked is blocked here too (blockFromCluster).
 */
export class BruteForceGuard {
  // One limiter per kind of source, keyed by the address or prefix itself: every verification
  // checks its source, and a key built per call (`ip:…`) would be a string to make and hash each time.
  readonly #ipFailures = new SlidingWindowLimiter();
  readonly #prefixFailures = new SlidingWindowLimiter();
  // Root-key failures decide a lockout, and their limit is small: they are counted exactly.
  readonly #rootKeyFailures = new ExactWindowCounter();
  readonly #lockedUntil = new Map<string, number>();
  /** Sources blocked by the cluster's count, until when (epoch ms): verifications by IP and by prefix. */
  readonly #clusterBlockedIps = new Map<string, number>();
  readonly #clusterBlockedPrefixes = new Map<string, number>();
  readonly #policy: BruteForcePolicy;
  #reporter: FailureReporter | null = null;

  constructor(policy: BruteForcePolicy) {
    this.#policy = policy;
  }

  /** Counts every failure across the cluster too, from now on. */
  reportTo(reporter: FailureReporter): void {
    this.#reporter = reporter;
  }

  /** Blocks a source that the cluster's count took over its limit (announced by another replica, or this one). */
  blockFromCluster(kind: 'ip' | 'prefix' | 'root', source: string, until: number): void {
    if (kind === 'root') {
      if ((this.#lockedUntil.get(source) ?? 0) < until) this.#lockedUntil.set(source, until);
      return;
    }
    const blocked = kind === 'ip' ? this.#clusterBlockedIps : this.#clusterBlockedPrefixes;
    if ((blocked.get(source) ?? 0) < until) blocked.set(source, until);
  }

  #clusterBlocked(blocked: Map<string, number>, source: string, now: number): boolean {
    if (blocked.size === 0) return false;
    const until = blocked.get(source);
    return until !== undefined && until > now;
  }

  /** Whether verifications from `ip`, or with the key prefix `prefix`, are throttled now. */
  blocked(ip: string | null, prefix: string | null, now: number): 'ip' | 'prefix' | null {
    if (ip && this.#clusterBlocked(this.#clusterBlockedIps, ip, now)) return 'ip';
    if (prefix && this.#clusterBlocked(this.#clusterBlockedPrefixes, prefix, now)) return 'prefix';
    if (ip && this.#ipOverLimit(ip, now)) return 'ip';
    if (prefix && this.#prefixOverLimit(prefix, now)) return 'prefix';
    return null;
  }

  #ipOverLimit(ip: string, now: number): boolean {
    return this.#ipFailures.used(ip, this.#policy.verifyFailuresPerIp, now) >= this.#policy.verifyFailuresPerIp.limit;
  }

  #prefixOverLimit(prefix: string, now: number): boolean {
    return (
      this.#prefixFailures.used(prefix, this.#policy.verifyFailuresPerPrefix, now) >=
      this.#policy.verifyFailuresPerPrefix.limit
    );
  }

  /**
   * Whether this replica's own count has `source` at its limit: what it blocked (and reported)
   * itself, as opposed to a block it heard of from the cluster.
   */
  overOwnLimit(kind: 'ip' | 'prefix' | 'root', source: string, now: number): boolean {
    if (kind === 'ip') return this.#ipOverLimit(source, now);
    if (kind === 'prefix') return this.#prefixOverLimit(source, now);
    return this.#rootKeyFailures.count(source, this.#policy.rootKeyFailures, now) >= this.#policy.rootKeyFailures.limit;
  }

  /** True while some key prefix has failures counted: only then does a verification need its prefix checked. */
  get watchingPrefixes(): boolean {
    return this.#prefixFailures.size > 0 || this.#clusterBlockedPrefixes.size > 0;
  }

  /** Counts a failed verification; returns what this failure newly throttled (to audit once), if anything. */
  failed(ip: string | null, prefix: string | null, now: number): 'ip' | 'prefix' | null {
    if (this.#reporter) {
      if (ip) this.#reporter.record('ip', ip, now);
      if (prefix) this.#reporter.record('prefix', prefix, now);
    }
    let throttled: 'ip' | 'prefix' | null = null;
    if (ip && !this.#ipFailures.consume(ip, this.#policy.verifyFailuresPerIp, now).allowed) throttled = 'ip';
    else if (ip && this.blocked(ip, null, now)) throttled = 'ip';
    if (
      prefix &&
      (!this.#prefixFailures.consume(prefix, this.#policy.verifyFailuresPerPrefix, now).allowed ||
        this.blocked(null, prefix, now))
    )
      throttled ??= 'prefix';
    return throttled;
  }

  /** When `ip` may use the management API again, or null if it is not locked out. */
  lockedOut(ip: string | null, now: number): Date | null {
    const until = ip && this.#lockedUntil.size > 0 ? this.#lockedUntil.get(ip) : undefined;
    if (until === undefined) return null;
    if (until <= now) {
      this.#lockedUntil.delete(ip!);
      return null;
    }
    return new Date(until);
  }

  /** Counts a failed root-key authentication; returns the end of the lockout when this failure starts one. */
  rootKeyFailed(ip: string | null, now: number): Date | null {
    if (!ip) return null;
    this.#reporter?.record('root', ip, now);
    if (this.#rootKeyFailures.record(ip, this.#policy.rootKeyFailures, now) < this.#policy.rootKeyFailures.limit)
      return null;
    const until = now + this.#policy.rootKeyLockoutSeconds * 1000;
    this.#lockedUntil.set(ip, until);
    return new Date(until);
  }

  /** Drops idle counters and ended lockouts. */
  sweep(now: number): void {
    this.#ipFailures.sweep(now);
    this.#prefixFailures.sweep(now);
    this.#rootKeyFailures.sweep(now, this.#policy.rootKeyFailures);
    for (const [ip, until] of this.#lockedUntil) if (until <= now) this.#lockedUntil.delete(ip);
    for (const blocked of [this.#clusterBlockedIps, this.#clusterBlockedPrefixes])
      for (const [source, until] of blocked) if (until <= now) blocked.delete(source);
  }
}
