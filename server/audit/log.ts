import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { type AuditAction, type AuditEntry, type AuditOrder, auditEntryHash } from '../../schema';
import { appendEvent } from '../events/outbox';
import { maskSecrets } from '../keys/format';
import type { Db } from '../store/database';
import { foreignCursorError, jsonb } from '../store/sql';
import { operatorWorkspaceId } from '../workspaces/repository';

/** Who did something, as every management request carries it. */
export interface Actor {
  workspaceId: string;
  rootKeyId: string | null;
  /** The scopes of the root key acting; whatever it mints must lie within them. `*` for keyward itself. */
  scopes: readonly string[];
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** keyward itself, acting in a workspace on its own (time-driven work: expiries, reminders). */
export function keywardActor(workspaceId: string): Actor {
  return { workspaceId, rootKeyId: null, scopes: ['*'], ip: null, userAgent: null, requestId: null };
}

/** What a change records in the audit log. */
export interface AuditInput {
  action: AuditAction;
  targetKeyId: string | null;
  changes: Record<string, unknown>;
}

/**
 * Appends one entry to the workspace's hash chain. Call it inside the transaction that makes the
 * change, so an acknowledged change always has its entry.
 */
export async function appendAudit(trx: Db, actor: Actor, entry: AuditInput): Promise<AuditEntry> {
  const [stored] = await appendAuditEntries(trx, [{ actor, entry }]);
  return stored!;
}

/**
 * Appends entries, in the order given, to their workspaces' hash chains: per workspace, one head
 * lock, then its entries and its new head in one statement. The workspace row is the chain head;
 * locking it orders concurrent appends on real Postgres, and heads are locked in id order, so two
 * batches that span the same workspaces never wait for each other in a circle.
 */
export async function appendAuditEntries(
  trx: Db,
  items: readonly { actor: Actor; entry: AuditInput }[],
): Promise<AuditEntry[]> {
  if (items.length === 0) return [];
  const heads = new Map<string, { seq: number; hash: string }>();
  for (const workspaceId of [...new Set(items.map((item) => item.actor.workspaceId))].sort()) {
    const head = await trx
      .selectFrom('workspaces')
      .select(['audit_seq', 'audit_head'])
      .where('id', '=', workspaceId)
      // NO KEY UPDATE, not UPDATE: appends still queue behind each other, but not behind the KEY SHARE
      // lock that inserting a key (workspace_id references workspaces) takes first in the same
      // transaction. With FOR UPDATE, two concurrent creates in one workspace could each hold KEY
      // SHARE and wait for the other's: a deadlock, answered as a 500 on Postgres.
      .forNoKeyUpdate()
      .executeTakeFirstOrThrow();
    heads.set(workspaceId, { seq: head.audit_seq, hash: head.audit_head });
  }
  const at = new Date().toISOString();
  const stored = items.map(({ actor, entry }): AuditEntry => {
    const head = heads.get(actor.workspaceId)!;
    const unsigned = {
      seq: head.seq + 1,
      at,
      workspaceId: actor.workspaceId,
      actorKeyId: actor.rootKeyId,
      action: entry.action,
      targetKeyId: entry.targetKeyId,
      // A JSON round trip drops undefined fields and Dates become strings, exactly as jsonb will store
      // them; a key pasted into a name, description or metadata is masked on the way.
      changes: JSON.parse(maskSecrets(JSON.stringify(entry.changes))) as AuditEntry['changes'],
      ip: actor.ip,
      userAgent: actor.userAgent,
      requestId: actor.requestId,
      prevHash: head.hash,
    };
    const hash = auditEntryHash(unsigned);
    head.seq = unsigned.seq;
    head.hash = hash;
    return { id: `aud_${randomBytes(12).toString('base64url')}`, ...unsigned, hash };
  });
  // Each workspace's entries and its new head are written in one statement: one round trip to the
  // store per workspace instead of two.
  for (const [workspaceId, head] of heads) {
    await trx
      .with('appended', (db) =>
        db
          .insertInto('audit_log')
          .values(
            stored
              .filter((entry) => entry.workspaceId === workspaceId)
              .map((entry) => ({
                id: entry.id,
                workspace_id: entry.workspaceId,
                seq: entry.seq,
                at: entry.at,
                actor_key_id: entry.actorKeyId,
                action: entry.action,
                target_key_id: entry.targetKeyId,
                changes: jsonb(entry.changes),
                ip: entry.ip,
                user_agent: entry.userAgent,
                request_id: entry.requestId,
                prev_hash: entry.prevHash,
                hash: entry.hash,
              })),
          )
          .returning('id'),
      )
      .updateTable('workspaces')
      .set({ audit_seq: head.seq, audit_head: head.hash })
      .where('id', '=', workspaceId)
      .execute();
  }
  return stored;
}

/** A page of a workspace's audit entries in chain order, oldest first, or newest first. */
export async function listAudit(
  db: Db,
  workspaceId: string,
  query: {
    keyId?: string | undefined;
    action?: AuditAction | undefined;
    order?: AuditOrder | undefined;
    cursor?: string | undefined;
    limit: number;
  },
): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const newestFirst = query.order === 'desc';
  let select = db.selectFrom('audit_log').selectAll().where('workspace_id', '=', workspaceId);
  if (query.keyId) select = select.where('target_key_id', '=', query.keyId);
  if (query.action) select = select.where('action', '=', query.action);
  if (query.cursor !== undefined) {
    const after = /^\d{1,10}$/.test(query.cursor) ? Number(query.cursor) : Number.NaN;
    if (!Number.isSafeInteger(after)) throw foreignCursorError();
    // A cursor is the last seq of the page before, in either direction.
    select = select.where('seq', newestFirst ? '<' : '>', after);
  }
  const rows = await select
    .orderBy('seq', newestFirst ? 'desc' : 'asc')
    .limit(query.limit + 1)
    .execute();
  const items = rows.slice(0, query.limit).map(
    (row): AuditEntry => ({
      id: row.id,
      seq: row.seq,
      at: row.at.toISOString(),
      workspaceId: row.workspace_id,
      actorKeyId: row.actor_key_id,
      action: row.action as AuditAction,
      targetKeyId: row.target_key_id,
      changes: row.changes as AuditEntry['changes'],
      ip: row.ip,
      userAgent: row.user_agent,
      requestId: row.request_id,
      prevHash: row.prev_hash,
      hash: row.hash,
    }),
  );
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? String(last.seq) : null };
}

/** A source blocked after too many failures, as its audit entry and security.blocked event report it. */
export interface SecurityBlock {
  action: 'security.verify_throttled' | 'security.root_key_lockout';
  /** The address blocked, or null when a key prefix was. */
  ip: string | null;
  /** The guessed key prefix blocked, or null when an address was. */
  keyPrefix: string | null;
  blockedUntil: Date;
  /** The audit entry's details. */
  changes: Record<string, unknown>;
}

/** How far back a block still in force may have been reported: the longest lockout or window, doubled. */
const BLOCK_LOOKBACK_MS = 2 * 86_400_000;

/**
 * Records a block (a throttled source, a locked-out address) in a workspace's audit log with its
 * security.blocked event, in one transaction. Without a workspace (an unknown root key), it goes
 * to the first one: the operator's `default`. A block of the same source that the workspace has
 * already reported and that is still in force is not reported again: a replica that blocks a
 * source on its own count while another announces the cluster's block makes one event, not two.
 * Appends queue on the workspace's audit lock, taken first, so two replicas cannot both miss the other's.
 */
export async function reportSecurityBlock(
  db: Db,
  workspaceId: string | null,
  origin: Omit<Actor, 'workspaceId' | 'rootKeyId' | 'scopes'>,
  block: SecurityBlock,
  now: Date = new Date(),
): Promise<void> {
  const reason = block.action === 'security.root_key_lockout' ? 'root_key_lockout' : 'brute_force';
  await db.transaction().execute(async (trx) => {
    const workspace = workspaceId ?? (await operatorWorkspaceId(trx));
    if (!workspace) return;
    await trx.selectFrom('workspaces').select('id').where('id', '=', workspace).forNoKeyUpdate().execute();
    const reported = await trx
      .selectFrom('events')
      .select('id')
      .where('workspace_id', '=', workspace)
      .where('type', '=', 'security.blocked')
      .where('occurred_at', '>', new Date(now.getTime() - BLOCK_LOOKBACK_MS))
      .where(sql<string>`payload::jsonb #>> '{data,reason}'`, '=', reason)
      .where(sql<boolean>`payload::jsonb #>> '{data,ip}' is not distinct from ${block.ip}::text`)
      .where(sql<boolean>`payload::jsonb #>> '{data,keyPrefix}' is not distinct from ${block.keyPrefix}::text`)
      .where(sql<Date>`(payload::jsonb #>> '{data,blockedUntil}')::timestamptz`, '>', now)
      .limit(1)
      .executeTakeFirst();
    if (reported) return;
    const actor: Actor = { ...origin, workspaceId: workspace, rootKeyId: null, scopes: [] };
    await appendAudit(trx, actor, { action: block.action, targetKeyId: null, changes: block.changes });
    await appendEvent(
      trx,
      actor,
      'security.blocked',
      { reason, ip: block.ip, keyPrefix: block.keyPrefix, blockedUntil: block.blockedUntil.toISOString() },
      now,
    );
  });
}
