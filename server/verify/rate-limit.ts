import type { RateLimit } from '../../schema';

export interface RateLimitState {
  limit: number;
  remaining: number;
  resetAt: Date;
}

interface Window {
  windowMs: number;
  start: number;
  current: number;
  previous: number;
}

/**
 * A sliding-window counter per key: the previous fixed window's count is weighted by how much of
 * it still overlaps the sliding window. Memory is one small record per active key, and the
 * estimate never lets a burst at a window edge double the limit. State is per process.
 */
export class SlidingWindowLimiter {
  readonly #windows = new Map<string, Window>();

  /** Counts one use of `id` if it fits under `rule`; reports what is left either way. */
  consume(id: string, rule: RateLimit, now: number): { allowed: boolean; state: RateLimitState } {
    const windowMs = rule.windowSeconds * 1000;
    const start = Math.floor(now / windowMs) * windowMs;
    let window = this.#windows.get(id);
    if (!window || window.windowMs !== windowMs) {
      window = { windowMs, start, current: 0, previous: 0 };
      this.#windows.set(id, window);
    } else if (window.start !== start) {
      window.previous = window.start === start - windowMs ? window.current : 0;
      window.current = 0;
      window.start = start;
    }
    const overlap = (windowMs - (now - start)) / windowMs;
    const used = window.previous * overlap + window.current;
    const allowed = used + 1 <= rule.limit;
    if (allowed) window.current += 1;
    const remaining = Math.max(0, Math.floor(rule.limit - used - (allowed ? 1 : 0)));
    return { allowed, state: { limit: rule.limit, remaining, resetAt: new Date(start + windowMs) } };
  }

  /** How many uses of `id` the sliding window holds now, without counting one. */
  used(id: string, rule: RateLimit, now: number): number {
    // Asked on every verification (brute-force checks); with no counter held there is nothing to
    // find, and the id, often a request's fresh string, is not hashed.
    if (this.#windows.size === 0) return 0;
    const window = this.#windows.get(id);
    const windowMs = rule.windowSeconds * 1000;
    if (!window || window.windowMs !== windowMs) return 0;
    const start = Math.floor(now / windowMs) * windowMs;
    if (window.start === start) return window.previous * ((windowMs - (now - start)) / windowMs) + window.current;
    return window.start === start - windowMs ? window.current * ((windowMs - (now - start)) / windowMs) : 0;
  }

  /** How many ids have a counter. */
  get size(): number {
    return this.#windows.size;
  }

  /** Drops counters idle for two whole windows: they no longer affect any estimate. */
  sweep(now: number): void {
    for (const [id, window] of this.#windows) {
      if (window.start + 2 * window.windowMs <= now) this.#windows.delete(id);
    }
  }
}

/**
 * An exact sliding-window count per key: the times of the last `limit` events. For small limits
 * that decide a lockout, where the weighted estimate above would let failures that straddle a
 * window edge count as fewer than they are.
 */
export class ExactWindowCounter {
  readonly #events = new Map<string, number[]>();

  /** Counts one event of `id` at `now`; returns how many the window holds with it (at most the limit). */
  record(id: string, rule: RateLimit, now: number): number {
    let times = this.#events.get(id);
    if (!times) {
      times = [];
      this.#events.set(id, times);
    }
    times.push(now);
    // Only whether the limit is reached matters, so older events beyond it need not be kept.
    if (times.length > rule.limit) times.splice(0, times.length - rule.limit);
    return this.count(id, rule, now);
  }

  /** How many events of `id` fell within the window ending at `now`. */
  count(id: string, rule: RateLimit, now: number): number {
    const times = this.#events.get(id);
    if (!times) return 0;
    const since = now - rule.windowSeconds * 1000;
    let expired = 0;
    while (expired < times.length && times[expired]! <= since) expired += 1;
    if (expired > 0) times.splice(0, expired);
    if (times.length === 0) this.#events.delete(id);
    return times.length;
  }

  /** Drops keys with no event in the window ending at `now`. */
  sweep(now: number, rule: RateLimit): void {
    for (const id of [...this.#events.keys()]) this.count(id, rule, now);
  }
}
