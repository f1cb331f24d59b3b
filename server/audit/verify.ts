import { type AuditVerification, verifyAuditChain } from '../../schema';
import type { Db } from '../store/database';
import { listAudit } from './log';

/** Entries read per round trip while checking a chain. */
const ENTRIES_PER_READ = 1000;

/**
 * Checks a workspace's whole audit chain, oldest entry first, and that it ends at the head the
 * workspace row records: entries cut from the end of the log are found too, not only edits and gaps.
 */
export async function verifyWorkspaceAudit(db: Db, workspaceId: string): Promise<AuditVerification> {
  let start: { seq: number; hash: string } | undefined;
  let checked = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await listAudit(db, workspaceId, { cursor, limit: ENTRIES_PER_READ });
    const report = verifyAuditChain(page.items, start);
    if (!report.ok) return { ok: false, checked: checked + report.checked, headHash: null, brokenAt: report.brokenAt };
    checked += report.checked;
    const last = page.items.at(-1);
    if (last) start = { seq: last.seq, hash: last.hash };
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const head = await db
    .selectFrom('workspaces')
    .select(['audit_seq', 'audit_head'])
    .where('id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  if (head.audit_seq !== (start?.seq ?? 0) || (start && head.audit_head !== start.hash))
    return {
      ok: false,
      checked,
      headHash: null,
      brokenAt: {
        id: null,
        seq: (start?.seq ?? 0) + 1,
        reason: `the workspace's head is entry ${head.audit_seq}, but the log ends at ${start?.seq ?? 0} (entries missing at the end)`,
      },
    };
  return { ok: true, checked, headHash: start?.hash ?? null, brokenAt: null };
}
