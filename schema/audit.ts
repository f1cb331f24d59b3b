import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CursorSchema, LimitSchema, TimestampSchema } from './common';

export const AUDIT_ACTIONS = [
  'workspace.bootstrap',
  'workspace.create',
  'key.create',
  'key.update',
  'key.rotate',
  'key.suspend',
  'key.resume',
  'key.revoke',
  'key.retire',
  'root_key.create',
  'root_key.update',
  'root_key.rotate',
  'root_key.suspend',
  'root_key.resume',
  'root_key.revoke',
  'root_key.retire',
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.rotate_secret',
  'webhook.disable',
  'webhook.redeliver',
  'workspace.update_settings',
  'key.leak',
  'root_key.leak',
  'security.verify_throttled',
  'security.root_key_lockout',
] as const;
export const AuditActionSchema = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditActionSchema>;

/** The hash that starts every workspace's chain. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** One management action. `hash` covers every other field and `prevHash`, which chains the log. */
export const AuditEntrySchema = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    at: TimestampSchema,
    workspaceId: z.string(),
    actorKeyId: z.string().nullable().describe('The root key that acted; null for bootstrap'),
    action: AuditActionSchema,
    targetKeyId: z.string().nullable(),
    changes: z.record(z.string(), z.json()),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const AuditPageSchema = z
  .object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'AuditPage' });

/** Which end of the chain a page of the audit log starts from. */
export const AuditOrderSchema = z
  .enum(['asc', 'desc'])
  .describe('`asc`: chain order, oldest first (the default); `desc`: newest first');
export type AuditOrder = z.infer<typeof AuditOrderSchema>;

/** Query of `GET /v1/audit`: entries in chain order, oldest first, or newest first with `order=desc`. */
export const ListAuditQuerySchema = z.strictObject({
  keyId: z.string().max(100).optional(),
  action: AuditActionSchema.optional(),
  order: AuditOrderSchema.default('asc'),
  cursor: CursorSchema.optional(),
  limit: LimitSchema,
});

/** JSON with object keys sorted, so a hash does not depend on how a store orders them. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The SHA-256 that an entry must carry as `hash`, given every field but `id` and `hash`. */
export function auditEntryHash(entry: Omit<AuditEntry, 'id' | 'hash'>): string {
  const material = canonicalJson([
    entry.seq,
    new Date(entry.at).toISOString(),
    entry.workspaceId,
    entry.actorKeyId,
    entry.action,
    entry.targetKeyId,
    entry.changes,
    entry.ip,
    entry.userAgent,
    entry.requestId,
    entry.prevHash,
  ]);
  return createHash('sha256').update(material).digest('hex');
}

/** Answer of `GET /v1/audit/verify`: the whole chain checked, up to the workspace's recorded head. */
export const AuditVerificationSchema = z
  .object({
    ok: z.boolean().describe('Every entry is intact, in sequence, and the chain reaches the recorded head'),
    checked: z.number().int().describe('Entries checked'),
    headHash: z.string().nullable().describe('The hash of the newest entry, when the chain is intact'),
    brokenAt: z
      .object({ id: z.string().nullable(), seq: z.number().int(), reason: z.string() })
      .nullable()
      .describe('The first entry that fails, and why'),
  })
  .meta({ id: 'AuditVerification' });
export type AuditVerification = z.infer<typeof AuditVerificationSchema>;

export type AuditChainReport =
  | { ok: true; checked: number; headHash: string }
  | { ok: false; checked: number; brokenAt: { id: string; seq: number; reason: string } };

/**
 * Checks entries given oldest first. Names the first entry whose hash is wrong, whose `prevHash`
 * is not its predecessor's hash, or whose `seq` leaves a gap (a deleted row).
 */
export function verifyAuditChain(
  entries: Iterable<AuditEntry>,
  start?: { seq: number; hash: string },
): AuditChainReport {
  let expectedPrev = start?.hash ?? AUDIT_GENESIS_HASH;
  let expectedSeq = (start?.seq ?? 0) + 1;
  let checked = 0;
  for (const entry of entries) {
    const broken = (reason: string): AuditChainReport => ({
      ok: false,
      checked,
      brokenAt: { id: entry.id, seq: entry.seq, reason },
    });
    if (entry.seq !== expectedSeq) return broken(`expected seq ${expectedSeq}, found ${entry.seq} (entries missing)`);
    if (entry.prevHash !== expectedPrev) return broken('prevHash does not match the previous entry');
    if (auditEntryHash(entry) !== entry.hash) return broken('contents do not match the stored hash');
    expectedPrev = entry.hash;
    expectedSeq += 1;
    checked += 1;
  }
  return { ok: true, checked, headHash: expectedPrev };
}
