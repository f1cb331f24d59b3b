import type { EventDataByType } from '../../schema';
import { keywardActor } from '../audit/log';
import { appendEvents } from '../events/outbox';
import type { Db } from '../store/database';
import { persistLapsedKeys } from './repository';
import { eventKey } from './service';

/** Keys expired per transaction: bounds how long one transaction holds its row locks. */
const BATCH = 500;

/**
 * Persists what time has decided (retiring keys past their grace, keys past `expiresAt` become
 * `expired`) and emits `key.expired` for each, by keyward itself, in the transaction that expires
 * it: an expiry is never persisted without its event, nor announced without being persisted.
 * Runs in batches until none is left; returns the secret hashes of the keys it expired, so the
 * verification cache can drop them.
 */
export async function expireLapsedKeys(db: Db, now: Date): Promise<string[]> {
  const expired: string[] = [];
  for (;;) {
    const batch = await db.transaction().execute(async (trx) => {
      const lapsed = await persistLapsedKeys(trx, now, BATCH);
      await appendEvents(
        trx,
        lapsed.map(({ record, previousStatus, reason }) => ({
          actor: keywardActor(record.workspaceId),
          type: 'key.expired',
          data: {
            key: eventKey(record),
            ...({
              previousStatus,
              graceUntil: record.graceUntil?.toISOString() ?? null,
              reason,
            } satisfies Omit<EventDataByType['key.expired'], 'key' | 'actor'>),
          },
        })),
        now,
      );
      return lapsed;
    });
    expired.push(...batch.map(({ record }) => record.secretHash));
    if (batch.length < BATCH) return expired;
  }
}
