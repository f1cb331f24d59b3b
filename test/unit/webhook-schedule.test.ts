import { loadConfig } from '../../server/config';
import { nextAttemptAt, RETRY_SCHEDULE_SECONDS, SCHEDULED_ATTEMPTS } from '../../server/events/dispatcher';

const HOUR = 3_600_000;

/** When each attempt after the first happens, from t = 0, with `random` deciding every jitter. */
function attemptTimes(random: () => number): number[] {
  const times = [0];
  for (let attempt = 1; ; attempt += 1) {
    const next = nextAttemptAt(attempt, times[times.length - 1]!, random);
    if (!next) return times;
    times.push(next.getTime());
  }
}

describe('the webhook retry schedule', () => {
  it('retries for at least 24 h even when every jitter is at its shortest', () => {
    const shortest = attemptTimes(() => 0);
    const longest = attemptTimes(() => 0.999_999);
    expect(shortest).toHaveLength(SCHEDULED_ATTEMPTS);
    expect(SCHEDULED_ATTEMPTS).toBe(RETRY_SCHEDULE_SECONDS.length + 1);
    expect(shortest[shortest.length - 1]!).toBeGreaterThan(24 * HOUR);
    expect(shortest[shortest.length - 1]! / HOUR).toBeCloseTo(33.8, 1);
    expect(longest[longest.length - 1]! / HOUR).toBeCloseTo(41.3, 1);
  });

  it('spreads each wait by ±10%, so receivers that failed together are not retried together', () => {
    for (const [index, wait] of RETRY_SCHEDULE_SECONDS.entries()) {
      const low = nextAttemptAt(index + 1, 0, () => 0)!.getTime();
      const high = nextAttemptAt(index + 1, 0, () => 0.999_999)!.getTime();
      expect(low).toBeCloseTo(wait * 900, 0);
      expect(high).toBeCloseTo(wait * 1100, -2);
    }
    const draws = new Set(Array.from({ length: 50 }, () => nextAttemptAt(4, 0)!.getTime()));
    expect(draws.size).toBeGreaterThan(40);
  });

  it('waits ever longer, and gives up after the last wait', () => {
    const waits = [...RETRY_SCHEDULE_SECONDS];
    expect(waits).toEqual([...waits].sort((a, b) => a - b));
    expect(nextAttemptAt(SCHEDULED_ATTEMPTS, 0)).toBeNull();
  });

  it('times a delivery out after 10 s by default, and keeps 30 days of events', () => {
    const config = loadConfig({});
    expect(config.webhookTimeoutMs).toBe(10_000);
    expect(config.eventRetentionDays).toBe(30);
    expect(loadConfig({ KEYWARD_WEBHOOK_TIMEOUT_MS: '250', KEYWARD_EVENT_RETENTION_DAYS: '7' })).toMatchObject({
      webhookTimeoutMs: 250,
      eventRetentionDays: 7,
    });
    expect(() => loadConfig({ KEYWARD_EVENT_RETENTION_DAYS: '0' })).toThrow('KEYWARD_EVENT_RETENTION_DAYS');
  });
});
