import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import {
  KEY_POLICY,
  type ListKeysQuery,
  POLICY_FIELDS,
  type PolicyField,
  type SnakeCase,
  snakeCase,
} from '../../schema';
import type { Db } from '../store/database';
import type { KeysTable } from '../store/schema';
import { decodeCursor, encodeCursor, foreignCursorError, jsonb } from '../store/sql';
import type { KeyRecord } from './record';

/** Fields a key service may write. */
export type KeyWrite = Partial<KeyRecord>;

/** Which column holds each field of a key record: the one place the two namings meet. */
const COLUMN_OF = {
  ...(Object.fromEntries(POLICY_FIELDS.map((field) => [field, snakeCase(field)])) as {
    [Field in PolicyField]: SnakeCase<Field>;
  }),
  id: 'id',
  workspaceId: 'workspace_id',
  kind: 'kind',
  secretHash: 'secret_hash',
  start: 'start',
  environment: 'environment',
  status: 'status',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  version: 'version',
  lastUsedAt: 'last_used_at',
  lastUsedIp: 'last_used_ip',
  predecessorId: 'predecessor_id',
  successorId: 'successor_id',
  graceUntil: 'grace_until',
  signingSecretSealed: 'signing_secret_sealed',
} as const satisfies Record<keyof KeyRecord, keyof KeysTable>;

function toColumns(write: KeyWrite): Updateable<KeysTable> {
  const columns: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(write) as [keyof KeyRecord, unknown][]) {
    if (value === undefined) continue;
    // Lists and objects are jsonb columns; instants and scalars are stored as they are.
    columns[COLUMN_OF[field]] =
      value !== null && typeof value === 'object' && !(value instanceof Date) ? jsonb(value) : value;
  }
  return columns as Updateable<KeysTable>;
}

/** Maps a stored row to a record. */
function recordFromRow(row: Selectable<KeysTable>): KeyRecord {
  const record: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(COLUMN_OF)) record[field] = row[column];
  return record as unknown as KeyRecord;
}

/**
 * Inserts keys in one statement; returns the ids stored. A key whose secret is already stored (a
 * caller-supplied key in use) is skipped, not an error, so the others in the batch still go in.
 */
export async function insertKeys(db: Db, records: readonly KeyRecord[]): Promise<Set<string>> {
  if (records.length === 0) return new Set();
  const rows = await db
    .insertInto('keys')
    .values(records.map((record) => toColumns(record) as Insertable<KeysTable>))
    .onConflict((conflict) => conflict.column('secret_hash').doNothing())
    .returning('id')
    .execute();
  return new Set(rows.map((row) => row.id));
}

/** Writes the given fields of one key and returns it as stored. */
export async function updateKey(db: Db, id: string, write: KeyWrite): Promise<KeyRecord> {
  const row = await db
    .updateTable('keys')
    .set(toColumns(write))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return recordFromRow(row);
}

/** One key of a workspace and kind, optionally locked for the rest of the transaction. */
export async function findKey(
  db: Db,
  where: { workspaceId: string; kind: 'api' | 'root'; id: string },
  options: { forUpdate?: boolean } = {},
): Promise<KeyRecord | null> {
  let query = db
    .selectFrom('keys')
    .selectAll()
    .where('id', '=', where.id)
    .where('workspace_id', '=', where.workspaceId)
    .where('kind', '=', where.kind);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row ? recordFromRow(row) : null;
}

/** The key whose secret hashes to `secretHash`, in any workspace. */
export async function findKeyByHash(db: Db, secretHash: string): Promise<KeyRecord | null> {
  const row = await db.selectFrom('keys').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
  return row ? recordFromRow(row) : null;
}

/** Whether any root key exists: an empty store needs bootstrapping. */
export async function hasRootKeys(db: Db): Promise<boolean> {
  const row = await db.selectFrom('keys').select('id').where('kind', '=', 'root').limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * When a key is due for rotation, in SQL: as rotationDueAt (record.ts) computes it, maxAgeDays
 * periods of 24 h, whatever the session's time zone (a `days` interval would follow its DST).
 */
export const rotationDueAtSql = sql<Date>`created_at + max_age_days * interval '24 hours'`;

const effectiveStatusSql = (now: Date) => sql<string>`case
  when status in ('revoked', 'expired') then status
  when expires_at is not null and expires_at <= ${now} then 'expired'
  when status = 'retiring' and grace_until <= ${now} then 'expired'
  else status end`;

/** A page of a workspace's keys of one kind, oldest first, with filters. */
export async function listKeys(
  db: Db,
  workspaceId: string,
  kind: 'api' | 'root',
  query: ListKeysQuery,
  now: Date,
): Promise<{ items: KeyRecord[]; nextCursor: string | null }> {
  let select = db.selectFrom('keys').selectAll().where('workspace_id', '=', workspaceId).where('kind', '=', kind);
  if (query.status) select = select.where(effectiveStatusSql(now), '=', query.status);
  for (const field of POLICY_FIELDS) {
    const spec: { flag: string; filter?: 'exact' | 'prefix' | 'contains' } = KEY_POLICY[field];
    const wanted = spec.filter ? (query as Record<string, unknown>)[spec.flag] : undefined;
    if (typeof wanted !== 'string') continue;
    const column = sql.ref(COLUMN_OF[field]);
    if (spec.filter === 'exact') select = select.where(sql<boolean>`${column} = ${wanted}`);
    if (spec.filter === 'prefix') select = select.where(sql<boolean>`starts_with(${column}, ${wanted})`);
    if (spec.filter === 'contains') select = select.where(sql<boolean>`${column} @> ${jsonb([wanted])}`);
  }
  if (query.rotationDue !== undefined) {
    const due = sql<boolean>`${rotationDueAtSql} <= ${now}`;
    select = select.where(query.rotationDue ? due : sql<boolean>`not (${due})`);
  }
  if (query.cursor) {
    const position = decodeCursor(query.cursor, 2);
    if (!position) throw foreignCursorError();
    const [createdAt, id] = position as [string, string];
    select = select.where(sql<boolean>`(created_at, id) > (${new Date(createdAt)}, ${id})`);
  }
  const rows = await select
    .orderBy('created_at')
    .orderBy('id')
    .limit(query.limit + 1)
    .execute();
  const items = rows.slice(0, query.limit).map(recordFromRow);
  const last = items.at(-1);
  const nextCursor = rows.length > query.limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null;
  return { items, nextCursor };
}

/** How many usable keys of each workspace are older than their maxAgeDays. */
export async function countRotationDue(
  db: Db,
  now: Date,
): Promise<{ workspaceId: string; kind: 'api' | 'root'; due: number }[]> {
  const rows = await db
    .selectFrom('keys')
    .select(['workspace_id as workspaceId', 'kind', (eb) => eb.fn.countAll<string>().as('due')])
    .where('status', 'in', ['active', 'suspended'])
    .where(sql<boolean>`${rotationDueAtSql} <= ${now}`)
    .groupBy(['workspace_id', 'kind'])
    .execute();
  return rows.map((row) => ({ workspaceId: row.workspaceId, kind: row.kind, due: Number(row.due) }));
}

/** A key time has just expired, with the status it had and why it expired. */
export interface LapsedKey {
  record: KeyRecord;
  previousStatus: KeyRecord['status'];
  reason: 'grace_ended' | 'expires_at';
}

/**
 * Persists what time has already decided, for at most `limit` keys: retiring keys past their grace
 * and keys past `expiresAt` become `expired`. Keys a request holds locked are skipped (the next
 * round takes them, if the request left them lapsed). Call it in a transaction, with the events.
 */
export async function persistLapsedKeys(trx: Db, now: Date, limit: number): Promise<LapsedKey[]> {
  const { rows } = await sql<
    Selectable<KeysTable> & { previous_status: KeyRecord['status']; reason: LapsedKey['reason'] }
  >`
    with lapsed as (
      select id, status as previous_status,
        case when status = 'retiring' and grace_until <= ${now}
               and (expires_at is null or grace_until <= expires_at) then 'grace_ended'
             else 'expires_at' end as reason
      from keys
      where (status = 'retiring' and grace_until <= ${now})
         or (status in ('active', 'suspended', 'retiring') and expires_at <= ${now})
      order by id
      limit ${limit}
      for update skip locked
    )
    update keys set status = 'expired' from lapsed where keys.id = lapsed.id
    returning keys.*, lapsed.previous_status, lapsed.reason`.execute(trx);
  return rows.map(({ previous_status, reason, ...row }) => ({
    record: recordFromRow(row),
    previousStatus: previous_status,
    reason,
  }));
}

/** One reminder just recorded as sent: which key, the deadline, and the threshold reached. */
export interface ClaimedReminder {
  keyId: string;
  dueAt: Date;
  daysBefore: number;
}

/**
 * Records, for at most `limit` usable (active or suspended) keys, the reminder of `kind` they have
 * reached and not yet been sent, and returns those this call recorded. A key has reached threshold
 * `d` from 00:00 UTC of the day `d` days before the UTC day of its deadline; of the thresholds it
 * has reached, only the latest (the smallest `d`) counts, so a key found late gets one reminder,
 * not one per missed threshold. The primary key of reminders_sent (key, kind, deadline, threshold)
 * makes a concurrent or repeated call record nothing twice: ON CONFLICT DO NOTHING returns only
 * the rows this call inserted. Call it in a transaction, with the events.
 */
export async function claimDueReminders(
  trx: Db,
  kind: 'rotation_due' | 'expiring',
  thresholds: { workspaceId: string; daysBefore: number }[],
  now: Date,
  limit: number,
): Promise<ClaimedReminder[]> {
  if (thresholds.length === 0) return [];
  const deadline = kind === 'rotation_due' ? rotationDueAtSql : sql<Date>`expires_at`;
  // jsonb_to_recordset matches JSON fields to the column names.
  const rows = JSON.stringify(thresholds.map((t) => ({ workspace_id: t.workspaceId, days_before: t.daysBefore })));
  const { rows: claimed } = await sql<{ key_id: string; due_at: Date; days_before: number }>`
    with thresholds as (
      select workspace_id, days_before
      from jsonb_to_recordset(${rows}::text::jsonb) as t(workspace_id text, days_before integer)
    ),
    deadlines as (
      select id, workspace_id, ${deadline} as due_at
      from keys
      where status in ('active', 'suspended')
        and (expires_at is null or expires_at > ${now})
        ${kind === 'expiring' ? sql`and expires_at is not null` : sql``}
    ),
    reached as (
      select d.id, d.workspace_id, d.due_at, min(t.days_before) as days_before
      from deadlines d join thresholds t on t.workspace_id = d.workspace_id
      where date_trunc('day', d.due_at, 'UTC') - t.days_before * interval '24 hours' <= ${now}
      group by d.id, d.workspace_id, d.due_at
    )
    insert into reminders_sent (key_id, workspace_id, kind, due_at, days_before, sent_at)
    select r.id, r.workspace_id, ${kind}::text, r.due_at, r.days_before, ${now}::timestamptz
    from reached r
    where not exists (
      select 1 from reminders_sent s
      where s.key_id = r.id and s.kind = ${kind}::text and s.due_at = r.due_at and s.days_before = r.days_before
    )
    order by r.due_at, r.id
    limit ${limit}
    on conflict do nothing
    returning key_id, due_at, days_before`.execute(trx);
  return claimed.map((row) => ({ keyId: row.key_id, dueAt: row.due_at, daysBefore: row.days_before }));
}

/** Keys by id, in any workspace; for keyward's own time-driven work. */
export async function findKeysByIds(db: Db, ids: readonly string[]): Promise<KeyRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('keys').selectAll().where('id', 'in', ids).execute();
  return rows.map(recordFromRow);
}

/** A stored idempotent result: which key the first request made, with its sealed secret. */
export async function findIdempotentResult(db: Db, workspaceId: string, operation: string, keyHash: string) {
  return db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('operation', '=', operation)
    .where('key_hash', '=', keyHash)
    .executeTakeFirst();
}

/** The result of an idempotent request, as recorded for its Idempotency-Key. */
export interface IdempotentResult {
  workspaceId: string;
  operation: string;
  keyHash: string;
  requestHash: string;
  resultKeyId: string;
  sealedSecret: string;
  createdAt: Date;
}

/** Records the result of an idempotent request; returns false when another request already did. */
export async function claimIdempotencyKey(db: Db, row: IdempotentResult, staleBefore: Date): Promise<boolean> {
  return (await claimIdempotencyKeys(db, [row], staleBefore)).has(row.resultKeyId);
}

/**
 * Records the results of several idempotent requests in one statement; returns the result key ids
 * recorded. A request whose Idempotency-Key another request claimed first is left out, unless that
 * claim was made before `staleBefore` (expired, not yet pruned): then the new request takes it over.
 */
export async function claimIdempotencyKeys(
  db: Db,
  rows: readonly IdempotentResult[],
  staleBefore: Date,
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await db
    .insertInto('idempotency_keys')
    .values(
      rows.map((row) => ({
        workspace_id: row.workspaceId,
        operation: row.operation,
        key_hash: row.keyHash,
        request_hash: row.requestHash,
        result_key_id: row.resultKeyId,
        sealed_secret: row.sealedSecret,
        created_at: row.createdAt,
      })),
    )
    .onConflict((conflict) =>
      conflict
        .columns(['workspace_id', 'operation', 'key_hash'])
        .doUpdateSet((row) => ({
          request_hash: row.ref('excluded.request_hash'),
          result_key_id: row.ref('excluded.result_key_id'),
          sealed_secret: row.ref('excluded.sealed_secret'),
          created_at: row.ref('excluded.created_at'),
        }))
        .where('idempotency_keys.created_at', '<', staleBefore),
    )
    .returning('result_key_id')
    .execute();
  return new Set(inserted.map((row) => row.result_key_id));
}

/** Drops the idempotent results that point at these keys (keys that were not stored after all). */
export async function dropIdempotentResults(db: Db, resultKeyIds: readonly string[]): Promise<void> {
  if (resultKeyIds.length === 0) return;
  await db.deleteFrom('idempotency_keys').where('result_key_id', 'in', resultKeyIds).execute();
}

/** Forgets idempotent results older than `before`. */
export async function pruneIdempotencyKeys(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A key by id alone; only for results the caller already proved it owns (idempotent replays). */
export async function findKeyById(db: Db, id: string): Promise<KeyRecord | null> {
  const row = await db.selectFrom('keys').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? recordFromRow(row) : null;
}

/** Records a signed request's nonce; false when this key has seen it before (a replay). */
export async function claimNonce(db: Db, keyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
  const inserted = await db
    .insertInto('signature_nonces')
    .values({ key_id: keyId, nonce, expires_at: expiresAt })
    .onConflict((conflict) => conflict.doNothing())
    .returning('key_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Forgets nonces whose signatures are too old to be accepted anyway. */
export async function deleteExpiredNonces(db: Db, now: Date): Promise<number> {
  const result = await db.deleteFrom('signature_nonces').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
