import type { EventDataByType, WorkspaceSettings } from '../../schema';
import { keywardActor } from '../audit/log';
import { appendEvents } from '../events/outbox';
import type { Db } from '../store/database';
import { readAllWorkspaceSettings } from '../workspaces/repository';
import { claimDueReminders, findKeysByIds } from './repository';
import { eventKey } from './service';

/** Reminders recorded per transaction: bounds one transaction's size when many keys come due at once. */
const BATCH = 500;

/** Each reminder kind: its event, and the workspace setting that holds its thresholds. */
const REMINDERS = [
  { kind: 'rotation_due', event: 'key.rotation_due', setting: 'rotationReminderDays' },
  { kind: 'expiring', event: 'key.expiring', setting: 'expiryReminderDays' },
] as const satisfies readonly { kind: string; event: string; setting: keyof WorkspaceSettings }[];

/**
 * Sends the rotation and expiry reminders that are due: `key.rotation_due` before a key reaches
 * its maxAgeDays and `key.expiring` before its expiresAt, on the days each workspace's settings
 * name (docs/events.md, Reminders). Each reminder is recorded in reminders_sent and its event
 * appended in one transaction, and only when this call's insert took, so it fires once per key,
 * deadline and threshold across rounds, restarts and replicas. The leader runs it each round.
 * Returns how many reminders it sent.
 */
export async function sendDueReminders(db: Db, now: Date): Promise<number> {
  const settings = await readAllWorkspaceSettings(db);
  let sent = 0;
  for (const { kind, event, setting } of REMINDERS) {
    const thresholds = [...settings].flatMap(([workspaceId, values]) =>
      values[setting].map((daysBefore) => ({ workspaceId, daysBefore })),
    );
    for (;;) {
      const claimed = await db.transaction().execute(async (trx) => {
        const reminders = await claimDueReminders(trx, kind, thresholds, now, BATCH);
        const records = await findKeysByIds(
          trx,
          reminders.map((reminder) => reminder.keyId),
        );
        const byId = new Map(records.map((record) => [record.id, record]));
        await appendEvents(
          trx,
          // Read in this transaction, right after the claim: every claimed key is there.
          reminders.flatMap(({ keyId, dueAt, daysBefore }) => {
            const record = byId.get(keyId);
            if (!record) return [];
            const data = {
              dueAt: dueAt.toISOString(),
              daysBefore,
              ...(kind === 'rotation_due' ? { maxAgeDays: record.maxAgeDays } : {}),
            } satisfies Omit<EventDataByType['key.expiring'], 'key' | 'actor'>;
            return [{ actor: keywardActor(record.workspaceId), type: event, data: { key: eventKey(record), ...data } }];
          }),
          now,
        );
        return reminders.length;
      });
      sent += claimed;
      // A shorter batch is the last; so is one a concurrent replica partly claimed first (next round goes on).
      if (claimed < BATCH) break;
    }
  }
  return sent;
}

/**
 * Forgets the reminders sent for keys that can no longer get one (expired, revoked, retired into
 * a successor): their rows only grew the table. A deadline a key still has is never forgotten.
 */
export async function pruneSentReminders(db: Db): Promise<void> {
  await db
    .deleteFrom('reminders_sent')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('keys')
            .select('keys.id')
            .whereRef('keys.id', '=', 'reminders_sent.key_id')
            .where('keys.status', 'in', ['active', 'suspended']),
        ),
      ),
    )
    .execute();
}
