import { randomBytes } from 'node:crypto';
import type { EventEnvelope, EventType } from '../../schema';
import type { Actor } from '../audit/log';
import { maskSecrets } from '../keys/format';
import type { Db } from '../store/database';

/**
 * Who is told of each event written (the enqueued-events metric). Process-wide, because events are
 * written from every service's own transactions; a server runs one per process. An event is counted
 * when it is written, so one whose change then rolls back is counted too (rare: changes are checked first).
 */
const enqueuedListeners = new Set<(type: EventType) => void>();

/** Tells `listener` the type of every event written from now on; returns the function that stops it. */
export function onEnqueued(listener: (type: EventType) => void): () => void {
  enqueuedListeners.add(listener);
  return () => {
    enqueuedListeners.delete(listener);
  };
}

/** A new random id with a prefix: `evt_…`, `dlv_…`, `wh_…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url').replace(/[-_]/g, '').slice(0, 20)}`;
}

/** One event a change emits. */
export interface EventInput {
  actor: Actor;
  type: EventType;
  data: Record<string, unknown>;
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
  const [envelope] = await appendEvents(trx, [{ actor, type, data }], now);
  return envelope!;
}

/** Appends several events as appendEvent does, with one insert of events and one of deliveries. */
export async function appendEvents(trx: Db, inputs: readonly EventInput[], now: Date): Promise<EventEnvelope[]> {
  if (inputs.length === 0) return [];
  const envelopes = inputs.map(
    ({ actor, type, data }): EventEnvelope => ({
      id: newId('evt'),
      type,
      timestamp: now.toISOString(),
      workspaceId: actor.workspaceId,
      data: { ...data, actor: { rootKeyId: actor.rootKeyId, requestId: actor.requestId } },
    }),
  );
  const workspaceIds = [...new Set(envelopes.map((envelope) => envelope.workspaceId))];
  // The events are stored, and the endpoints that want them read, in one statement: one round trip
  // to the store instead of two, in every transaction that emits events.
  const endpoints = await trx
    .with('stored', (db) =>
      db
        .insertInto('events')
        .values(
          envelopes.map((envelope) => ({
            id: envelope.id,
            workspace_id: envelope.workspaceId,
            type: envelope.type,
            occurred_at: now,
            payload: maskSecrets(JSON.stringify(envelope)),
          })),
        )
        .returning('id'),
    )
    .selectFrom('webhook_endpoints')
    .select(['id', 'workspace_id', 'event_types'])
    .where('workspace_id', 'in', workspaceIds)
    .where('enabled', '=', true)
    .execute();
  const deliveries = envelopes.flatMap((envelope) =>
    endpoints
      .filter(
        (endpoint) =>
          endpoint.workspace_id === envelope.workspaceId &&
          // An endpoint with no event types wants them all.
          (endpoint.event_types.length === 0 || endpoint.event_types.includes(envelope.type)),
      )
      .map((endpoint) => ({
        id: newId('dlv'),
        workspace_id: envelope.workspaceId,
        endpoint_id: endpoint.id,
        event_id: envelope.id,
        status: 'pending' as const,
        next_attempt_at: now,
        created_at: now,
      })),
  );
  if (deliveries.length > 0) await trx.insertInto('webhook_deliveries').values(deliveries).execute();
  for (const envelope of envelopes) for (const listener of enqueuedListeners) listener(envelope.type);
  return envelopes;
}
