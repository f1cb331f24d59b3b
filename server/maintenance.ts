import { pruneCalls } from './calls/repository';
import type { Leadership } from './cluster/leader';
import { pruneRateLeases } from './cluster/rate-leases';
import { pruneFailureCounts } from './cluster/shared-failures';
import { deleteEndedSessions } from './console';
import type { SessionLifetimes } from './console/sessions';
import { pruneEvents } from './events/repository';
import { expireLapsedKeys } from './keys/expiry';
import { pruneSentReminders, sendDueReminders } from './keys/reminders';
import { countRotationDue, deleteExpiredNonces, pruneIdempotencyKeys } from './keys/repository';
import type { Db } from './store/database';
import type { Verifier } from './verify/pipeline';

const DAY_MS = 86_400_000;

/**
 * Periodic housekeeping. Every replica sweeps its own in-memory counters. The leader alone (one
 * replica at a time, see server/cluster/leader.ts) does the store-wide work: persists expiries
 * that time has decided (each with its key.expired event), sends the rotation and expiry reminders
 * that are due (server/keys/reminders.ts), prunes the call log past its retention, idempotency
 * records past 24 h, signature nonces too old to matter and console sessions that have ended, and
 * reports keys that are due for rotation.
 */
export function startMaintenance(options: {
  db: Db;
  verifier: Verifier;
  /** Whether this replica runs the store-wide work this round. */
  leadership: Leadership;
  /** Told each round whether this replica led it. */
  onLeadership?: (leading: boolean) => void;
  /** In-memory state to sweep each round (brute-force counters…). */
  sweepers?: { sweep(now: number): void }[];
  /** Milliseconds since the epoch: Date.now in production; tests move it forward instead of sleeping. */
  clock: () => number;
  intervalMs: number;
  callRetentionDays: number;
  /** Finished webhook deliveries, and events none waits for, are deleted after this many days. */
  eventRetentionDays: number;
  /** Console sessions that have ended by these lifetimes are deleted. */
  consoleSessions: SessionLifetimes;
  /** Receives, each round, how many keys per workspace and kind are past their maxAgeDays. */
  onRotationDue: (counts: { workspaceId: string; kind: 'api' | 'root'; due: number }[]) => void;
  onError: (error: unknown) => void;
}): { run(): Promise<void>; stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const run = async () => {
    // One reading of the clock for the whole round.
    const now = new Date(options.clock());
    options.verifier.sweep(now.getTime());
    for (const sweeper of options.sweepers ?? []) sweeper.sweep(now.getTime());
    const leading = await options.leadership.holds();
    options.onLeadership?.(leading);
    if (!leading) return;
    for (const secretHash of await expireLapsedKeys(options.db, now)) options.verifier.forget(secretHash);
    await sendDueReminders(options.db, now);
    await pruneSentReminders(options.db);
    await pruneCalls(options.db, new Date(now.getTime() - options.callRetentionDays * DAY_MS));
    await pruneEvents(options.db, new Date(now.getTime() - options.eventRetentionDays * DAY_MS));
    await pruneIdempotencyKeys(options.db, new Date(now.getTime() - DAY_MS));
    await deleteExpiredNonces(options.db, now);
    await pruneRateLeases(options.db, now.getTime() - 2 * DAY_MS);
    await pruneFailureCounts(options.db, now.getTime() - 2 * DAY_MS);
    await deleteEndedSessions(options.db, now.getTime(), options.consoleSessions);
    options.onRotationDue(await countRotationDue(options.db, now));
  };
  const tick = () => {
    running ??= run()
      .catch(options.onError)
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  timer.unref();
  // An explicit run waits out a round already under way, then does a full round of its own.
  const runNow = async () => {
    await running;
    await tick();
  };
  // Stopping waits out a round under way, so the store is never closed beneath it.
  const stop = async () => {
    clearInterval(timer);
    await running;
  };
  return { run: runNow, stop };
}
