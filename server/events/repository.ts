import { type Selectable, sql } from 'kysely';
import type { DeliveryAttempt, DeliveryStatus, EventType, ListDeliveriesQuery, WebhookDelivery } from '../../schema';
import type { Db } from '../store/database';
import type { WebhookEndpointsTable } from '../store/schema';
import { decodeCursor, encodeCursor, foreignCursorError, jsonb } from '../store/sql';

/** A stored endpoint, secrets still sealed. */
export interface EndpointRecord {
  id: string;
  workspaceId: string;
  url: string;
  description: string | null;
  eventTypes: EventType[];
  enabled: boolean;
  disabledReason: string | null;
  secretSealed: string;
  previousSecretSealed: string | null;
  previousSecretUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The fields an update may write. */
export type EndpointWrite = Partial<Omit<EndpointRecord, 'id' | 'workspaceId' | 'createdAt'>>;

/** How many attempts a delivery keeps for GET …/deliveries; older ones are dropped. */
const ATTEMPTS_KEPT = 20;

type EndpointRow = Selectable<WebhookEndpointsTable>;

function toRecord(row: EndpointRow): EndpointRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types as EventType[],
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    secretSealed: row.secret_sealed,
    previousSecretSealed: row.previous_secret_sealed,
    previousSecretUntil: row.previous_secret_until,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Stores a new endpoint. */
export async function insertEndpoint(db: Db, record: EndpointRecord): Promise<void> {
  await db
    .insertInto('webhook_endpoints')
    .values({
      id: record.id,
      workspace_id: record.workspaceId,
      url: record.url,
      description: record.description,
      event_types: jsonb(record.eventTypes),
      enabled: record.enabled,
      disabled_reason: record.disabledReason,
      secret_sealed: record.secretSealed,
      previous_secret_sealed: record.previousSecretSealed,
      previous_secret_until: record.previousSecretUntil,
      created_at: record.createdAt,
      updated_at: record.updatedAt,
    })
    .execute();
}

/**
 * One endpoint of a workspace (locked inside a transaction when asked), or null. The lock is NO KEY
 * UPDATE, not UPDATE: a key change in another transaction holds the workspace's audit lock and then
 * inserts a delivery, whose foreign key takes KEY SHARE on this row; FOR UPDATE would wait for it
 * while that change waits for our audit append, a deadlock on Postgres.
 */
export async function findEndpoint(
  db: Db,
  workspaceId: string,
  id: string,
  forUpdate = false,
): Promise<EndpointRecord | null> {
  let query = db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id);
  if (forUpdate) query = query.forNoKeyUpdate();
  const row = await query.executeTakeFirst();
  return row ? toRecord(row) : null;
}

/** The endpoints with these ids (the dispatcher's view of a claimed batch). */
export async function findEndpointsByIds(db: Db, ids: readonly string[]): Promise<EndpointRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
  return rows.map((row) => toRecord(row));
}

/** Every endpoint of a workspace, oldest first (a workspace has few). */
export async function listEndpoints(db: Db, workspaceId: string): Promise<EndpointRecord[]> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((row) => toRecord(row));
}

/** Writes some fields of an endpoint and returns it. */
export async function updateEndpoint(db: Db, id: string, write: EndpointWrite): Promise<EndpointRecord> {
  const row = await db
    .updateTable('webhook_endpoints')
    .set({
      ...(write.url !== undefined ? { url: write.url } : {}),
      ...(write.description !== undefined ? { description: write.description } : {}),
      ...(write.eventTypes !== undefined ? { event_types: jsonb(write.eventTypes) } : {}),
      ...(write.enabled !== undefined ? { enabled: write.enabled } : {}),
      ...(write.disabledReason !== undefined ? { disabled_reason: write.disabledReason } : {}),
      ...(write.secretSealed !== undefined ? { secret_sealed: write.secretSealed } : {}),
      ...(write.previousSecretSealed !== undefined ? { previous_secret_sealed: write.previousSecretSealed } : {}),
      ...(write.previousSecretUntil !== undefined ? { previous_secret_until: write.previousSecretUntil } : {}),
      ...(write.updatedAt !== undefined ? { updated_at: write.updatedAt } : {}),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRecord(row);
}

/** Deletes an endpoint and its deliveries. */
export async function deleteEndpoint(db: Db, id: string): Promise<void> {
  await db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
}

/** A delivery claimed for one attempt: what the dispatcher needs to send it. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  attemptCount: number;
  createdAt: Date;
  payload: string;
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints. Each is leased (its next attempt moved
 * to `leaseUntil`) in the claiming transaction, whose `FOR UPDATE SKIP LOCKED` keeps two replicas
 * from claiming one row; a replica that dies mid-delivery leaves the lease to run out, and the
 * delivery is tried again (at least once, never lost).
 */
export async function claimDue(db: Db, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .innerJoin('events as v', 'v.id', 'd.event_id')
      .select(['d.id', 'd.endpoint_id', 'd.event_id', 'd.attempt_count', 'd.created_at', 'v.payload'])
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .where('e.enabled', '=', true)
      .orderBy('d.next_attempt_at')
      .limit(limit)
      .forUpdate('d')
      .skipLocked()
      .execute();
    if (due.length === 0) return [];
    await trx
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: leaseUntil })
      .where(
        'id',
        'in',
        due.map((row) => row.id),
      )
      .execute();
    return due.map((row) => ({
      id: row.id,
      endpointId: row.endpoint_id,
      eventId: row.event_id,
      attemptCount: row.attempt_count,
      createdAt: row.created_at,
      payload: row.payload,
    }));
  });
}

/** One attempt's result: the delivery's new status, when (if ever) it is tried next, and what happened. */
export interface AttemptRecord {
  id: string;
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  attempt: DeliveryAttempt;
}

/** Records one attempt. */
export async function recordAttempt(db: Db, record: AttemptRecord): Promise<void> {
  await recordAttempts(db, [record]);
}

/**
 * Records attempts in one statement (a batch of deliveries finishing together costs one round trip,
 * not one each). Only the latest attempts are kept: a receiver failing for a day makes ~10, not thousands.
 */
export async function recordAttempts(db: Db, records: readonly AttemptRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map(
    (record) =>
      sql`(${record.id}::text, ${record.status}::text, ${record.nextAttemptAt?.toISOString() ?? null}::timestamptz, ${JSON.stringify([record.attempt])}::text::jsonb)`,
  );
  await sql`
    update webhook_deliveries as d set
      status = v.status,
      next_attempt_at = v.next_attempt_at,
      attempt_count = d.attempt_count + 1,
      attempts = (
        select coalesce(jsonb_agg(value order by ordinality), '[]'::jsonb)
        from jsonb_array_elements(d.attempts || v.attempt) with ordinality
        where ordinality > jsonb_array_length(d.attempts) + 1 - ${ATTEMPTS_KEPT}
      )
    from (values ${sql.join(rows)}) as v(id, status, next_attempt_at, attempt)
    where d.id = v.id`.execute(db);
}

/** Whether a delivery to the endpoint of an event that happened at or after `since` has succeeded. */
export async function succeededSince(db: Db, endpointId: string, since: Date): Promise<boolean> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('endpoint_id', '=', endpointId)
    .where('created_at', '>=', since)
    .where('status', '=', 'succeeded')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Fails every pending delivery of an endpoint (it was disabled); returns how many. */
export async function failPending(db: Db, endpointId: string): Promise<number> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', next_attempt_at: null })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * When the oldest delivery still waiting for an enabled endpoint was made, or null when none waits.
 * A cheap read: the partial index on pending deliveries holds only what is waiting.
 */
export async function oldestPendingAt(db: Db): Promise<Date | null> {
  const row = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .select((eb) => eb.fn.min('d.created_at').as('oldest'))
    .where('d.status', '=', 'pending')
    .where('e.enabled', '=', true)
    .executeTakeFirst();
  const oldest = row?.oldest as Date | string | null | undefined;
  return oldest ? new Date(oldest) : null;
}

/**
 * Deletes finished deliveries made before `before`, then events from before it that no delivery
 * refers to any more. A pending delivery (a paused endpoint's, say) keeps itself and its event.
 */
export async function pruneEvents(db: Db, before: Date): Promise<{ deliveries: number; events: number }> {
  const deliveries = await db
    .deleteFrom('webhook_deliveries')
    .where('created_at', '<', before)
    .where('status', 'in', ['succeeded', 'failed'])
    .executeTakeFirst();
  const events = await db
    .deleteFrom('events as v')
    .where('v.occurred_at', '<', before)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'v.id'))),
    )
    .executeTakeFirst();
  return { deliveries: Number(deliveries.numDeletedRows), events: Number(events.numDeletedRows) };
}

/** Makes a delivery due again now (a manual redelivery), whatever its status. */
export async function requeueDelivery(db: Db, endpointId: string, id: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at: now })
    .where('endpoint_id', '=', endpointId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A page of an endpoint's deliveries, newest first. */
export async function listDeliveries(
  db: Db,
  endpointId: string,
  query: ListDeliveriesQuery,
): Promise<{ items: WebhookDelivery[]; nextCursor: string | null }> {
  let select = db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as v', 'v.id', 'd.event_id')
    .select([
      'd.id',
      'd.endpoint_id',
      'd.event_id',
      'v.type',
      'd.status',
      'd.attempt_count',
      'd.next_attempt_at',
      'd.created_at',
      'd.attempts',
    ])
    .where('d.endpoint_id', '=', endpointId);
  if (query.status) select = select.where('d.status', '=', query.status);
  if (query.cursor !== undefined) {
    const position = decodeCursor(query.cursor, 2);
    if (!position || typeof position[0] !== 'string' || typeof position[1] !== 'string') throw foreignCursorError();
    const [at, id] = position as [string, string];
    select = select.where((eb) =>
      eb.or([
        eb('d.created_at', '<', new Date(at)),
        eb.and([eb('d.created_at', '=', new Date(at)), eb('d.id', '<', id)]),
      ]),
    );
  }
  const rows = await select
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const items = rows.slice(0, query.limit).map(
    (row): WebhookDelivery => ({
      id: row.id,
      webhookId: row.endpoint_id,
      eventId: row.event_id,
      eventType: row.type as EventType,
      status: row.status,
      attemptCount: row.attempt_count,
      nextAttemptAt: row.status === 'pending' && row.next_attempt_at ? row.next_attempt_at.toISOString() : null,
      createdAt: row.created_at.toISOString(),
      attempts: row.attempts as DeliveryAttempt[],
    }),
  );
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > query.limit && last ? encodeCursor([last.createdAt, last.id]) : null,
  };
}
