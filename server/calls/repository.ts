import { sql } from 'kysely';
import type { Call, ListCallsQuery, VerifyCode } from '../../schema';
import { KeywardError } from '../errors';
import type { Db } from '../store/database';
import { decodeCursor, encodeCursor } from '../store/sql';

/** A page of a workspace's call log, newest first. */
export async function listCalls(db: Db, workspaceId: string, query: ListCallsQuery): Promise<{ items: Call[]; nextCursor: string | null }> {
  let select = db
    .selectFrom('calls')
    .select(['at', 'key_id', 'key_start', 'ip', 'scopes', 'method', 'path', 'code', 'latency_ms', sql<string>`id::text`.as('id')])
    .where('workspace_id', '=', workspaceId);
  if (query.keyId) select = select.where('key_id', '=', query.keyId);
  if (query.code) select = select.where('code', '=', query.code);
  if (query.ip) select = select.where('ip', '=', query.ip);
  if (query.since) select = select.where('at', '>=', new Date(query.since));
  if (query.cursor) {
    const position = decodeCursor(query.cursor, 2);
    if (!position || !/^\d+$/.test(String(position[1]))) throw KeywardError.invalidField('query.cursor', 'is not a cursor this server issued');
    select = select.where(sql<boolean>`(at, id) < (${new Date(String(position[0]))}, ${String(position[1])}::bigint)`);
  }
  const rows = await select.orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
  const items = rows.slice(0, query.limit).map(
    (row): Call => ({
      id: row.id,
      at: row.at.toISOString(),
      keyId: row.key_id,
      keyStart: row.key_start,
      ip: row.ip,
      scopes: row.scopes,
      method: row.method,
      path: row.path,
      code: row.code as VerifyCode,
      latencyMs: row.latency_ms,
    }),
  );
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor([last.at, last.id]) : null };
}

/** Deletes call rows older than `before`; returns how many. */
export async function pruneCalls(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('calls').where('at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
