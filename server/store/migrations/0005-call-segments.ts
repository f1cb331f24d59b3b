import { type Kysely, sql } from 'kysely';
import type { VerifyCode } from '../../../schema';
import { type CallRecord, SegmentBuilder } from '../../calls/segment';

/*
 * Migration 0005: every call-log segment stored in a format older than the one the server writes
 * (server/calls/segment.ts, version 3) is rewritten in that format, so the reader needs only one.
 * The old formats, none of them released, are read here and nowhere else:
 *   version 1, a JSON array of calls, each [atMs, keyId, keyStart, ip, scopes, method, path, code,
 *     latencyMs] or null for a pruned call: written by migration 0003 and the first segment writer;
 *   version 2, {"v":2,"base":<ms>,"dict":[null, …],"rows":[…]}, each row [atMs after base, then
 *     the seven fields above as indexes into dict, latencyµs] or null.
 * A pruned call stays a pruned place, so the ids of the other calls (segment id × 1,000 + place)
 * do not change. Latencies keep the current format's precision, the whole microsecond.
 */

/** A call's fields by their place in a version 1 or version 2 row (the same places in both). */
const ROW = { at: 0, keyId: 1, keyStart: 2, ip: 3, scopes: 4, method: 5, path: 6, code: 7, latency: 8 } as const;

/** A version 1 call, its fields at the places ROW names. */
type Version1Row = [
  number,
  string | null,
  string | null,
  string | null,
  string[],
  string | null,
  string | null,
  string,
  number,
];

interface Version2Segment {
  v: 2;
  base: number;
  dict: (string | string[] | null)[];
  rows: (number[] | null)[];
}

/** call_segments as migrations 0003 and 0004 left it: this migration does not follow later schema changes. */
interface CallSegmentsAt0004 {
  id: string;
  workspace_id: string;
  first_at: Date;
  last_at: Date;
  row_count: number;
  key_ids: string[];
  codes: string[];
  rows: string;
}

/** Segments read and rewritten per round trip: a version 1 segment can take ~100 KB. */
const SEGMENTS_PER_BATCH = 50;

/** Rewrites every version 1 and version 2 segment as the current writer would write its calls. */
export async function rewriteOldCallSegments(unknownDb: Kysely<unknown>): Promise<void> {
  const db = unknownDb.withTables<{ call_segments: CallSegmentsAt0004 }>();
  let afterId = '0';
  for (;;) {
    const batch = await db
      .selectFrom('call_segments')
      // As text: pg reads a bigint as a string, PGlite as a number.
      .select([sql<string>`id::text`.as('id'), 'workspace_id', 'rows'])
      .where(sql<boolean>`id > ${afterId}::bigint`)
      // How version 3 text starts, and no older version's does.
      .where(sql<boolean>`left(rows, 7) <> '{"v":3,'`)
      // The table's id, a number: `id` alone would name the text selected above.
      .orderBy(sql`call_segments.id`)
      .limit(SEGMENTS_PER_BATCH)
      .execute();
    for (const segment of batch) {
      const builder = new SegmentBuilder(segment.workspace_id);
      for (const call of oldSegmentCalls(segment.id, segment.workspace_id, segment.rows)) {
        if (call === null) builder.addPruned();
        else builder.add(call);
      }
      const encoded = builder.encode();
      builder.release();
      if (!encoded) {
        // Every call in it pruned: retention deletes such a segment, and so does this.
        await db.deleteFrom('call_segments').where(sql<boolean>`id = ${segment.id}::bigint`).execute();
        continue;
      }
      // The time range, keys and codes from the calls as rewritten, as the writer sets them: 0003
      // took the range from microsecond timestamps while its calls hold whole milliseconds.
      await db
        .updateTable('call_segments')
        .set({
          rows: encoded.rows,
          first_at: encoded.firstAt,
          last_at: encoded.lastAt,
          row_count: encoded.rowCount,
          key_ids: encoded.keyIds,
          codes: encoded.codes,
        })
        .where(sql<boolean>`id = ${segment.id}::bigint`)
        .execute();
    }
    const last = batch.at(-1);
    if (batch.length < SEGMENTS_PER_BATCH || !last) return;
    afterId = last.id;
  }
}

/** The calls of a version 1 or version 2 segment, in order; a pruned call is null. */
function oldSegmentCalls(segmentId: string, workspaceId: string, text: string): (CallRecord | null)[] {
  const stored = JSON.parse(text) as Version1Row[] | Version2Segment | { v?: unknown };
  if (Array.isArray(stored)) {
    return stored.map((row) =>
      row === null
        ? null
        : {
            workspaceId,
            at: row[ROW.at],
            keyId: row[ROW.keyId],
            keyStart: row[ROW.keyStart],
            ip: row[ROW.ip],
            scopes: row[ROW.scopes],
            method: row[ROW.method],
            path: row[ROW.path],
            code: row[ROW.code] as VerifyCode,
            latencyMs: row[ROW.latency],
          },
    );
  }
  if (stored.v !== 2) throw new Error(`call-log segment ${segmentId} is in no known format`);
  const { base, dict, rows } = stored as Version2Segment;
  const value = (row: number[], field: number) => {
    const index = row[field]!;
    if (!(index >= 0 && index < dict.length))
      throw new Error(`call-log segment ${segmentId} refers past its dictionary`);
    return dict[index]!;
  };
  return rows.map((row) =>
    row === null
      ? null
      : {
          workspaceId,
          at: base + row[ROW.at]!,
          keyId: value(row, ROW.keyId) as string | null,
          keyStart: value(row, ROW.keyStart) as string | null,
          ip: value(row, ROW.ip) as string | null,
          scopes: value(row, ROW.scopes) as string[],
          method: value(row, ROW.method) as string | null,
          path: value(row, ROW.path) as string | null,
          code: value(row, ROW.code) as VerifyCode,
          latencyMs: row[ROW.latency]! / 1000,
        },
  );
}
