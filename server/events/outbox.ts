import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { EventEnvelope, EventType } from '../../schema';
import type { Actor } from '../audit/log';
import { maskSecrets } from '../keys/format';
import type { Db } from '../store/database';

/** A new random id with a prefix: `evt_…`, `dlv_…`, `wh_…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url').replace(/[-_]/g, '').slice(0, 20)}`;
}

/**
 * Appends an event to the outbox, with one pending delivery per enabled endpoint of the workspace
 * that wants its type. Call it inside the transaction that makes the change: a change rolled back
 * emits nothing, and one committed loses nothing, whatever happens to the process next. The payload
 * is the exact body every delivery sends; anything key-shaped in it (a key pasted into a name) is masked.
 */
export async function appendEvent(
  trx: Db,
  actor: Actor,
  type: EventType,
  data: Record<string, unknown>,
  now: Date,
): Promise<EventEnvelope> {
  const envelope: EventEnvelope = {
    id: newId('evt'),
    type,
    timestamp: now.toISOString(),
    workspaceId: actor.workspaceId,
    data: { ...data, actor: { rootKeyId: actor.rootKeyId, requestId: actor.requestId } },
  };
  const payload = maskSecrets(JSON.stringify(envelope));
  await trx
    .insertInto('events')
    .values({ id: envelope.id, workspace_id: actor.workspaceId, type, occurred_at: now, payload })
    .execute();
  const endpoints = await trx
    .selectFrom('webhook_endpoints')
    .select('id')
    .where('workspace_id', '=', actor.workspaceId)
    .where('enabled', '=', true)
    .where((eb) =>
      eb.or([
        eb(sql`jsonb_array_length(event_types)`, '=', 0),
        eb(sql`event_types`, '@>', sql`${JSON.stringify([type])}::text::jsonb`),
      ]),
    )
    .execute();
  if (endpoints.length > 0) {
    await trx
      .insertInto('webhook_deliveries')
      .values(
        endpoints.map((endpoint) => ({
          id: newId('dlv'),
          workspace_id: actor.workspaceId,
          endpoint_id: endpoint.id,
          event_id: envelope.id,
          status: 'pending' as const,
          next_attempt_at: now,
          created_at: now,
        })),
      )
      .execute();
  }
  return envelope;
}
