import { sql } from 'kysely';
import type { Call, ListCallsQuery } from '../../schema';
import type { Db } from '../store/database';
import { decodeCursor, encodeCursor, foreignCursorError, jsonb } from '../store/sql';
import {
  type CallRecord,
  decodeSegment,
  fillSegment,
  rebuildSegment,
  SEGMENT_MAX_ROWS,
  type SegmentBuilder,
  type StoredCall,
} from './segment';

/*
 * The call log is stored in segments: up to SEGMENT_MAX_ROWS verifications of one workspace in one
 * row, encoded as server/calls/segment.ts describes, in a text column. A row per verification cost
 * PGlite ~50 µs of CPU each (Postgres's per-row executor, heap and index work, in WebAssembly);
 * a segment costs well under a microsecond per call, which is what lets the call log keep up with
 * the verify hot path. Each segment carries its time range, its key ids (GIN-indexed) and its
 * codes, so reads and retention only open the segments that can hold what they look for.
 */

export { type CallRecord, SEGMENT_MAX_ROWS } from './segment';

/** Segments per insert statement: a statement's fixed cost is shared, and its size stays a few hundred KB. */
const SEGMENTS_PER_INSERT = 16;

/** A key's last use, as the recorder writes it. */
export interface LastUseRow {
  id: string;
  /** ISO time. */
  at: string;
  ip: string | null;
}

/**
 * Writes a flush of the call log: the segments, several per insert, and the keys' last uses. The
 * first insert and the last-use update go as one statement (an insert in a WITH clause): each
 * statement has a fixed cost on the store's thread, larger than the rows themselves on PGlite.
 * lastUsed never moves backwards.
 */
export async function writeCallFlush(
  db: Db,
  segments: readonly SegmentBuilder[],
  lastUses: readonly LastUseRow[],
): Promise<void> {
  const rows = segmentRows(segments);
  const first = rows.slice(0, SEGMENTS_PER_INSERT);
  if (lastUses.length > 0) {
    const update = sql`
      update keys set last_used_at = used.at, last_used_ip = used.ip
      from jsonb_to_recordset(${jsonb(lastUses)}) as used(id text, at timestamptz, ip text)
      where keys.id = used.id and (keys.last_used_at is null or keys.last_used_at < used.at)`;
    if (first.length > 0)
      await sql`with written as (${db.insertInto('call_segments').values(first)}) ${update}`.execute(db);
    else await update.execute(db);
  } else if (first.length > 0) await db.insertInto('call_segments').values(first).execute();
  for (let offset = SEGMENTS_PER_INSERT; offset < rows.length; offset += SEGMENTS_PER_INSERT) {
    await db
      .insertInto('call_segments')
      .values(rows.slice(offset, offset + SEGMENTS_PER_INSERT))
      .execute();
  }
}

/** Writes segments, several per insert; a segment with no call left is skipped. */
export async function appendSegments(db: Db, segments: readonly SegmentBuilder[]): Promise<void> {
  await writeCallFlush(db, segments, []);
}

function segmentRows(segments: readonly SegmentBuilder[]) {
  return segments.flatMap((segment) => {
    const encoded = segment.encode();
    return encoded
      ? [
          {
            workspace_id: segment.workspaceId,
            first_at: encoded.firstAt,
            last_at: encoded.lastAt,
            row_count: encoded.rowCount,
            key_ids: encoded.keyIds,
            codes: encoded.codes,
            rows: encoded.rows,
          },
        ]
      : [];
  });
}

/** Writes calls as segments of up to SEGMENT_MAX_ROWS calls per workspace. */
export async function appendCalls(db: Db, calls: readonly CallRecord[]): Promise<void> {
  const open = new Map<string, SegmentBuilder>();
  const filled: SegmentBuilder[] = [];
  for (const call of calls) {
    const full = fillSegment(open, call);
    if (full) filled.push(full);
  }
  await appendSegments(db, [...filled, ...open.values()]);
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
export async function listCalls(
  db: Db,
  workspaceId: string,
  query: ListCallsQuery,
): Promise<{ items: Call[]; nextCursor: string | null }> {
  let after: Position | null = null;
  if (query.cursor) {
    const position = decodeCursor(query.cursor, 2);
    const at = position ? Date.parse(String(position[0])) : NaN;
    const id = position ? Number(position[1]) : NaN;
    if (!Number.isFinite(at) || !Number.isSafeInteger(id) || id < 0) throw foreignCursorError();
    after = { at, id };
  }
  const since = query.since ? Date.parse(query.since) : null;
  const wanted = query.limit + 1;
  let found: (Position & { call: StoredCall })[] = [];
  let segmentAfter: { lastAt: Date; id: string } | null = null;
  for (let batch = FIRST_READ_SEGMENTS; ; batch = Math.min(batch * 2, MAX_READ_SEGMENTS)) {
    let select = db
      .selectFrom('call_segments')
      .select(['id', 'last_at', 'rows'])
      .where('workspace_id', '=', workspaceId);
    if (query.keyId) select = select.where(sql<boolean>`key_ids @> array[${query.keyId}]::text[]`);
    if (query.code) select = select.where(sql<boolean>`codes @> array[${query.code}]::text[]`);
    // A cheap text test before any parsing: the IP appears quoted in the segment's JSON (its dictionary).
    if (query.ip) select = select.where(sql<boolean>`strpos(rows, ${JSON.stringify(query.ip)}) > 0`);
    if (since !== null) select = select.where('last_at', '>=', new Date(since));
    if (after) select = select.where('first_at', '<=', new Date(after.at));
    if (segmentAfter)
      select = select.where(sql<boolean>`(last_at, id) < (${segmentAfter.lastAt}, ${segmentAfter.id}::bigint)`);
    const segments = await select.orderBy('last_at', 'desc').orderBy('id', 'desc').limit(batch).execute();
    for (const segment of segments) {
      const base = Number(segment.id) * SEGMENT_MAX_ROWS;
      const calls = decodeSegment(segment.rows);
      for (let index = 0; index < calls.length; index += 1) {
        const call = calls[index];
        if (!call) continue; // pruned
        const position = { at: call.at, id: base + index };
        if (query.keyId && call.keyId !== query.keyId) continue;
        if (query.code && call.code !== query.code) continue;
        if (query.ip && call.ip !== query.ip) continue;
        if (since !== null && call.at < since) continue;
        if (after && newerFirst(after, position) >= 0) continue;
        found.push({ ...position, call });
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
    ({ at, id, call }): Call => ({
      id: String(id),
      at: new Date(at).toISOString(),
      keyId: call.keyId,
      keyStart: call.keyStart,
      ip: call.ip,
      scopes: call.scopes,
      method: call.method,
      path: call.path,
      code: call.code,
      latencyMs: call.latencyMs,
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
  const straddling = await db
    .selectFrom('call_segments')
    .select(['id', 'workspace_id', 'rows'])
    .where('first_at', '<', before)
    .where('last_at', '>=', before)
    .execute();
  for (const segment of straddling) {
    const calls = decodeSegment(segment.rows);
    // Dropped calls leave their place empty, so the ids of the calls kept do not change.
    const rebuilt = rebuildSegment(segment.workspace_id, calls, (call) => call.at >= before.getTime()).encode();
    const left = rebuilt?.rowCount ?? 0;
    pruned += calls.filter((call) => call !== null).length - left;
    if (!rebuilt) {
      await db.deleteFrom('call_segments').where('id', '=', segment.id).execute();
      continue;
    }
    await db
      .updateTable('call_segments')
      .set({
        rows: rebuilt.rows,
        first_at: rebuilt.firstAt,
        row_count: rebuilt.rowCount,
        key_ids: rebuilt.keyIds,
        codes: rebuilt.codes,
      })
      .where('id', '=', segment.id)
      .execute();
  }
  return pruned;
}
