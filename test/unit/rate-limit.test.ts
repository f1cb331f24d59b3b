import { BruteForceGuard } from '../../server/verify/brute-force';
import { ExactWindowCounter, SlidingWindowLimiter } from '../../server/verify/rate-limit';

describe('sliding-window rate limit', () => {
  const rule = { limit: 10, windowSeconds: 60 };

  it('allows the limit within a window and refuses the next', () => {
    const limiter = new SlidingWindowLimiter();
    const start = 1_000_000 * 60_000;
    const results = Array.from({ length: 11 }, (_, i) => limiter.consume('k', rule, start + i));
    expect(results.slice(0, 10).every((r) => r.allowed)).toBe(true);
    expect(results[10]!.allowed).toBe(false);
    expect(results[9]!.state.remaining).toBe(0);
    expect(results[0]!.state.remaining).toBe(9);
    expect(results[0]!.state.resetAt.getTime()).toBe(start + 60_000);
  });

  it('weights the previous window, so a burst at the edge cannot double the limit', () => {
    const limiter = new SlidingWindowLimiter();
    const edge = 2_000_000 * 60_000;
    for (let i = 0; i < 10; i += 1) limiter.consume('k', rule, edge - 1000 + i);
    // Just after the edge, the previous window still counts almost fully.
    expect(limiter.consume('k', rule, edge + 1000).allowed).toBe(false);
    // Half a window later, about half of the limit is free again.
    const later = Array.from({ length: 10 }, (_, i) => limiter.consume('k', rule, edge + 30_000 + i).allowed);
    expect(later.filter(Boolean).length).toBe(5);
  });

  it('keeps keys apart and forgets idle ones', () => {
    const limiter = new SlidingWindowLimiter();
    const now = 3_000_000 * 60_000;
    for (let i = 0; i < 10; i += 1) limiter.consume('a', rule, now);
    expect(limiter.consume('a', rule, now).allowed).toBe(false);
    expect(limiter.consume('b', rule, now).allowed).toBe(true);
    limiter.sweep(now + 180_000);
    expect(limiter.consume('a', rule, now + 180_000).state.remaining).toBe(9);
  });
});

describe('exact window count (root-key lockouts)', () => {
  const rule = { limit: 3, windowSeconds: 300 };

  it('counts every event in the window, even across a fixed window edge', () => {
    const counter = new ExactWindowCounter();
    const edge = 4_000_000 * 300_000;
    expect(counter.record('ip', rule, edge - 500)).toBe(1);
    expect(counter.record('ip', rule, edge - 100)).toBe(2);
    expect(counter.record('ip', rule, edge + 100)).toBe(3);
    // The weighted estimate would hold 2 × 0.9997 + 1 here, under the limit.
    const weighted = new SlidingWindowLimiter();
    for (const at of [edge - 500, edge - 100, edge + 100]) weighted.consume('ip', rule, at);
    expect(weighted.used('ip', rule, edge + 100)).toBeLessThan(3);
  });

  it('forgets events once they leave the window, and keeps no more than the limit', () => {
    const counter = new ExactWindowCounter();
    const now = 5_000_000 * 300_000;
    for (let i = 0; i < 10; i += 1) counter.record('ip', rule, now + i);
    expect(counter.count('ip', rule, now + 10)).toBe(3);
    expect(counter.count('ip', rule, now + 300_007)).toBe(2);
    expect(counter.count('ip', rule, now + 300_010)).toBe(0);
    counter.record('other', rule, now);
    counter.sweep(now + 400_000, rule);
    expect(counter.count('other', rule, now + 400_000)).toBe(0);
  });

  it('locks a source out on the failure that reaches the limit, across a window edge', () => {
    const guard = new BruteForceGuard({
      verifyFailuresPerIp: { limit: 100, windowSeconds: 60 },
      verifyFailuresPerPrefix: { limit: 20, windowSeconds: 60 },
      rootKeyFailures: rule,
      rootKeyLockoutSeconds: 900,
    });
    const edge = 6_000_000 * 300_000;
    expect(guard.rootKeyFailed('203.0.113.9', edge - 200)).toBeNull();
    expect(guard.rootKeyFailed('203.0.113.9', edge - 100)).toBeNull();
    expect(guard.rootKeyFailed('203.0.113.9', edge + 50)).toEqual(new Date(edge + 50 + 900_000));
    expect(guard.lockedOut('203.0.113.9', edge + 60)).toEqual(new Date(edge + 50 + 900_000));
    expect(guard.lockedOut('203.0.113.10', edge + 60)).toBeNull();
  });
});
