import type { ApiKey, KeyStatus, RateLimit } from '../../schema';

/** A key as the server holds it in memory: the stored row with parsed fields. */
export interface KeyRecord {
  id: string;
  workspaceId: string;
  kind: 'api' | 'root';
  secretHash: string;
  start: string;
  environment: 'live' | 'test';
  name: string;
  description: string | null;
  scopes: string[];
  ipAllowlist: string[];
  expiresAt: Date | null;
  metadata: Record<string, unknown>;
  rateLimit: RateLimit | null;
  maxAgeDays: number;
  status: KeyStatus;
  createdAt: Date;
  updatedAt: Date;
  version: number;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  predecessorId: string | null;
  successorId: string | null;
  graceUntil: Date | null;
  signedScopes: string[];
  requireSignature: boolean;
  /** The signing secret sealed under the master key (never sent out after the response that created it). */
  signingSecretSealed: string | null;
}

const DAY_MS = 86_400_000;

/**
 * The status a key has at `now`. Time moves a key on without a write: past `expiresAt`, or past
 * the end of its grace period, it is expired even before the sweeper persists that.
 */
export function effectiveStatus(
  record: Pick<KeyRecord, 'status' | 'expiresAt' | 'graceUntil'>,
  now: number,
): KeyStatus {
  if (record.status === 'revoked' || record.status === 'expired') return record.status;
  if (record.expiresAt && record.expiresAt.getTime() <= now) return 'expired';
  if (record.status === 'retiring' && record.graceUntil && record.graceUntil.getTime() <= now) return 'expired';
  return record.status;
}

/** When the key is due for rotation under its maxAgeDays. */
export function rotationDueAt(record: Pick<KeyRecord, 'createdAt' | 'maxAgeDays'>): Date {
  return new Date(record.createdAt.getTime() + record.maxAgeDays * DAY_MS);
}

/** The API shape of a key; it never carries the secret or its hash. */
export function toApiKey(record: KeyRecord, now: number = Date.now()): ApiKey {
  const dueAt = rotationDueAt(record);
  return {
    id: record.id,
    kind: record.kind,
    workspaceId: record.workspaceId,
    name: record.name,
    description: record.description,
    environment: record.environment,
    start: record.start,
    scopes: record.scopes,
    ipAllowlist: record.ipAllowlist,
    expiresAt: record.expiresAt?.toISOString() ?? null,
    metadata: record.metadata as ApiKey['metadata'],
    rateLimit: record.rateLimit,
    maxAgeDays: record.maxAgeDays,
    signedScopes: record.signedScopes,
    requireSignature: record.requireSignature,
    rotationDueAt: dueAt.toISOString(),
    rotationDue: dueAt.getTime() <= now,
    status: effectiveStatus(record, now),
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    version: record.version,
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
    lastUsedIp: record.lastUsedIp,
    predecessorId: record.predecessorId,
    successorId: record.successorId,
    graceUntil: record.graceUntil?.toISOString() ?? null,
  };
}
