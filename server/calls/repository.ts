import { sql } from 'kysely';
import type { Call, ListCallsQuery, VerifyCode } from '../../schema';
import { KeywardError } from '../errors';
import type { Db } from '../store/database';
import { decodeCursor, encodeCursor } from '../store/sql';

/*
 * The call log is stored in segments: up to SEGMENT_MAX_ROWS verifications of one workspace in one
 * row, their calls a JSON array of arrays in a text column. A row per verification cost PGlite
 * ~50 µs of CPU each (Postgres's per-row executor, heap and index work, in WebAssembly); a segment
 * costs ~3.5 µs per call, which is what lets the call log keep up with the verify hot path.
 * Each segment carries its time range, its key ids (GIN-indexed) and its codes, so reads and
 * retention only open the segments that can hold what they look for.
 */

/** Calls per segment; a call's id is `segmentId * SEGMENT_MAX_ROWS + its index in the segment`. */
export const SEGMENT_MAX_ROWS = 1000;

/** One verification to log. */
export interface CallRecord {
  workspaceId: string;
  /** Epoch milliseconds. */
  at: number;
  keyId: string | null;
  keyStart: string | null;
  ip: string | null;
  scopes: readonly string[];
  method: string | null;
  path: string | null;
  code: VerifyCode;
  latencyMs: number;
}

/** A call as stored in a segment: [atMs, keyId, keyStart, ip, scopes, method, path, code, latencyMs]. */
type StoredCall = [number, string | null, string | null, string | null, string[], string | null, string | null, string, number];

/** Writes calls as segments, one insert per workspace and SEGMENT_MAX_ROWS calls. */
export async function appendCalls(db: Db, calls: readonly CallRecord[]): Promise<void> {
  const byWorkspace = new Map<string, CallRecord[]>();
  for (const call of calls) {
    const list = byWorkspace.get(call.workspaceId);
    if (list) list.push(call);
    else byWorkspace.set(call.workspaceId, [call]);
  }
  for (const [workspaceId, list] of byWorkspace) {
    for (let offset = 0; offset < list.length; offset += SEGMENT_MAX_ROWS) {
      const chunk = list.slice(offset, offset + SEGMENT_MAX_ROWS);
      let firstAt = Infinity;
      let lastAt = -Infinity;
      const keyIds = new Set<string>();
      const codes = new Set<string>();
      const rows = chunk.map((call): StoredCall => {
        const at = call.at;
        if (at < firstAt) firstAt = at;
        if (at > lastAt) lastAt = at;
        if (call.keyId) keyIds.add(call.keyId);
        codes.add(call.code);
        return [at, call.keyId, call.keyStart, call.ip, call.scopes as string[], call.method, call.path, call.code, call.latencyMs];
      });
      await db
        .insertInto('call_segments')
        .values({
          workspace_id: workspaceId,
          first_at: new Date(firstAt),
          last_at: new Date(lastAt),
          row_count: rows.length,
          key_ids: [...keyIds],
          codes: [...codes],
          rows: JSON.stringify(rows),
        })
        .execute();
    }
  }
}

/** Segments read in the first round trip while paging through the log; doubled each round after. */
const FIRST_READ_SEGMENTS = 2;
const MAX_READ_SEGMENTS = 32;

interface Position {
  at: number;
  id: number;
}

/** Newest first: by time, then by id. */
function newerFirst(a: Position, b: Position): number {
  return b.at - a.at || b.id - a.id;
}

/**
 * A page of a workspace's call log, newest first. Segments are read newest `last_at` first; a
 * segment cannot hold a call later than its `last_at`, so once a page's worth of calls is newer
 * than the next unread segment's `last_at`, no unread segment can change the page.
 */
export async function listCalls(db: Db, workspaceId: string, query: ListCallsQuery): Promise<{ items: Call[]; nextCursor: string | null }> {
  let after: Position | null = null;
  if (query.cursor) {
    const position = decodeCursor(query.cursor, 2);
    const at = position ? Date.parse(String(position[0])) : NaN;
    const id = position ? Number(position[1]) : NaN;
    if (!Number.isFinite(at) || !Number.isSafeInteger(id) || id < 0) throw KeywardError.invalidField('query.cursor', 'is not a cursor this server issued');
    after = { at, id };
  }
  const since = query.since ? Date.parse(query.since) : null;
  const wanted = query.limit + 1;
  let found: (Position & { row: StoredCall })[] = [];
  let segmentAfter: { lastAt: Date; id: string } | null = null;
  for (let batch = FIRST_READ_SEGMENTS; ; batch = Math.min(batch * 2, MAX_READ_SEGMENTS)) {
    let select = db
      .selectFrom('call_segments')
      .select(['id', 'last_at', 'rows'])
      .where('workspace_id', '=', workspaceId);
    if (query.keyId) select = select.where(sql<boolean>`key_ids @> array[${query.keyId}]::text[]`);
    if (query.code) select = select.where(sql<boolean>`codes @> array[${query.code}]::text[]`);
    // A cheap text test before any parsing: the IP appears quoted in the segment's JSON.
    if (query.ip) select = select.where(sql<boolean>`strpos(rows, ${JSON.stringify(query.ip)}) > 0`);
    if (since !== null) select = select.where('last_at', '>=', new Date(since));
    if (after) select = select.where('first_at', '<=', new Date(after.at));
    if (segmentAfter) select = select.where(sql<boolean>`(last_at, id) < (${segmentAfter.lastAt}, ${segmentAfter.id}::bigint)`);
    const segments = await select.orderBy('last_at', 'desc').orderBy('id', 'desc').limit(batch).execute();
    for (const segment of segments) {
      const base = Number(segment.id) * SEGMENT_MAX_ROWS;
      const rows = JSON.parse(segment.rows) as (StoredCall | null)[];
      for (let index = 0; index < rows.length; index += 1) {
        const row = rows[index];
        if (!row) continue; // pruned
        const position = { at: row[0], id: base + index };
        if (query.keyId && row[1] !== query.keyId) continue;
        if (query.code && row[7] !== query.code) continue;
        if (query.ip && row[3] !== query.ip) continue;
        if (since !== null && row[0] < since) continue;
        if (after && newerFirst(after, position) >= 0) continue;
        found.push({ ...position, row });
      }
    }
    found.sort(newerFirst);
    if (found.length > wanted) found = found.slice(0, wanted);
    const oldest = segments.at(-1);
    if (segments.length < batch || !oldest) break;
    // Unread segments hold nothing later than this one's last_at.
    if (found.length === wanted && found[wanted - 1]!.at > oldest.last_at.getTime()) break;
    segmentAfter = { lastAt: oldest.last_at, id: oldest.id };
  }
  const items = found.slice(0, query.limit).map(
    ({ at, id, row }): Call => ({
      id: String(id),
      at: new Date(at).toISOString(),
      keyId: row[1],
      keyStart: row[2],
      ip: row[3],
      scopes: row[4],
      method: row[5],
      path: row[6],
      code: row[7] as VerifyCode,
      latencyMs: row[8],
    }),
  );
  const last = items.at(-1);
  return { items, nextCursor: found.length > query.limit && last ? encodeCursor([last.at, last.id]) : null };
}

/**
 * Deletes calls older than `before`; returns how many. Whole segments go in one statement; a
 * segment that straddles `before` is rewritten with only its newer calls.
 */
export async function pruneCalls(db: Db, before: Date): Promise<number> {
  const whole = await db.deleteFrom('call_segments').where('last_at', '<', before).returning('row_count').execute();
  let pruned = whole.reduce((sum, segment) => sum + segment.row_count, 0);
  const straddling = await db.selectFrom('call_segments').select(['id', 'rows']).where('first_at', '<', before).where('last_at', '>=', before).execute();
  for (const segment of straddling) {
    const rows = JSON.parse(segment.rows) as (StoredCall | null)[];
    // Dropped calls leave null in their place, so the ids of the calls kept do not change.
    const kept = rows.map((row) => (row && row[0] >= before.getTime() ? row : null));
    const left = kept.filter((row): row is StoredCall => row !== null);
    pruned += rows.filter((row) => row !== null).length - left.length;
    await db
      .updateTable('call_segments')
      .set({
        rows: JSON.stringify(kept),
        first_at: new Date(Math.min(...left.map((row) => row[0]))),
        row_count: left.length,
        key_ids: [...new Set(left.flatMap((row) => (row[1] ? [row[1]] : [])))],
        codes: [...new Set(left.map((row) => row[7]))],
      })
      .where('id', '=', segment.id)
      .execute();
  }
  return pruned;
}
