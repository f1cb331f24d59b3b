import { sql } from 'kysely';
import type { Caller, CallStats, VerifyCode } from '../../schema';
import type { Db } from '../store/database';
import { decodeSegment, type StoredCall } from './segment';

/*
 * Summaries of the call log for the console and any other client: who called a key (one row per
 * address, with its latest call) and calls per hour by code. Both read only the segments whose
 * time range overlaps the period and, for one key, whose key ids include it (GIN-indexed).
 */

/** Segments read per round trip. */
const SEGMENTS_PER_READ = 32;

/** Calls every call of a workspace at or after `since` (of one key, if given) with `visit`, segment by segment. */
async function eachCall(
  db: Db,
  workspaceId: string,
  filter: { keyId?: string | undefined; since: number },
  visit: (call: StoredCall) => void,
): Promise<void> {
  let after: string | null = null;
  for (;;) {
    let select = db
      .selectFrom('call_segments')
      .select(['id', 'rows'])
      .where('workspace_id', '=', workspaceId)
      .where('last_at', '>=', new Date(filter.since));
    if (filter.keyId) select = select.where(sql<boolean>`key_ids @> array[${filter.keyId}]::text[]`);
    if (after !== null) select = select.where(sql<boolean>`id > ${after}::bigint`);
    const segments = await select.orderBy('id').limit(SEGMENTS_PER_READ).execute();
    for (const segment of segments) {
      for (const call of decodeSegment(segment.rows)) {
        if (!call || call.at < filter.since) continue;
        if (filter.keyId && call.keyId !== filter.keyId) continue;
        visit(call);
      }
    }
    if (segments.length < SEGMENTS_PER_READ) return;
    after = segments.at(-1)!.id;
  }
}

/** The addresses a key was called from since `since`, each with its call count and latest call, latest first. */
export async function callersOf(
  db: Db,
  workspaceId: string,
  keyId: string,
  since: number,
  limit: number,
): Promise<{ items: Caller[]; truncated: boolean }> {
  const byIp = new Map<string | null, { calls: number; last: StoredCall }>();
  await eachCall(db, workspaceId, { keyId, since }, (call) => {
    const seen = byIp.get(call.ip);
    if (!seen) byIp.set(call.ip, { calls: 1, last: call });
    else {
      seen.calls += 1;
      if (call.at >= seen.last.at) seen.last = call;
    }
  });
  const callers = [...byIp.entries()]
    .map(
      ([ip, { calls, last }]): Caller => ({
        ip,
        calls,
        lastAt: new Date(last.at).toISOString(),
        lastCode: last.code,
        lastMethod: last.method,
        lastPath: last.path,
      }),
    )
    .sort((a, b) => (a.lastAt < b.lastAt ? 1 : a.lastAt > b.lastAt ? -1 : 0));
  return { items: callers.slice(0, limit), truncated: callers.length > limit };
}

const HOUR_MS = 3_600_000;

/** Calls per hour by code over the last `hours` hours, the current hour last; of one key, if given. */
export async function hourlyCounts(
  db: Db,
  workspaceId: string,
  query: { keyId?: string | undefined; hours: number },
  now: number,
): Promise<CallStats> {
  const first = Math.floor(now / HOUR_MS) * HOUR_MS - (query.hours - 1) * HOUR_MS;
  const counts: Partial<Record<VerifyCode, number>>[] = Array.from({ length: query.hours }, () => ({}));
  await eachCall(db, workspaceId, { keyId: query.keyId, since: first }, (call) => {
    const bucket = counts[Math.floor((call.at - first) / HOUR_MS)];
    if (bucket) bucket[call.code] = (bucket[call.code] ?? 0) + 1;
  });
  return {
    from: new Date(first).toISOString(),
    to: new Date(first + query.hours * HOUR_MS).toISOString(),
    bucketSeconds: HOUR_MS / 1000,
    buckets: counts.map((bucket, index) => ({ at: new Date(first + index * HOUR_MS).toISOString(), counts: bucket })),
  };
}
