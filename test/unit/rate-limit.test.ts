import { SlidingWindowLimiter } from '../../server/verify/rate-limit';

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
