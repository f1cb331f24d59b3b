import { types } from 'node:util';
import { z } from 'zod';
import { type ApiKey, KEY_POLICY, type KeyPolicy, type KeyStatus, POLICY_FIELDS, TimestampSchema } from '../../schema';

/** The policy as held in memory: as the API shows it, but with instants as Dates. */
export type StoredPolicy = Omit<KeyPolicy, 'expiresAt'> & { expiresAt: Date | null };

/** A key as the server holds it in memory: its policy plus what keyward keeps about it. */
export interface KeyRecord extends StoredPolicy {
  id: string;
  workspaceId: string;
  kind: 'api' | 'root';
  secretHash: string;
  start: string;
  environment: 'live' | 'test';
  status: KeyStatus;
  createdAt: Date;
  updatedAt: Date;
  version: number;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  predecessorId: string | null;
  successorId: string | null;
  graceUntil: Date | null;
  /** The signing secret sealed under the master key (never sent out after the response that created it). */
  signingSecretSealed: string | null;
}

/** Policy fields that hold an instant: a Date in memory, an RFC 3339 string in the API. */
const INSTANT_FIELDS: ReadonlySet<string> = new Set(
  POLICY_FIELDS.filter((field) => {
    const shows: z.ZodType = KEY_POLICY[field].shows;
    return (shows instanceof z.ZodNullable ? shows.unwrap() : shows) === TimestampSchema;
  }),
);

/** A policy (or part of one) in the API's spelling, as held in memory: instants become Dates. */
export function storedPolicyOf<Policy extends Record<string, unknown>>(policy: Policy): Record<string, unknown> {
  const stored: Record<string, unknown> = {};
  for (const field of POLICY_FIELDS) {
    const value = policy[field];
    if (value === undefined) continue;
    stored[field] = INSTANT_FIELDS.has(field) && typeof value === 'string' ? new Date(value) : value;
  }
  return stored;
}

/** A record's policy in the API's spelling: Dates become RFC 3339 strings. */
export function apiPolicyOf(record: StoredPolicy): KeyPolicy {
  const policy: Record<string, unknown> = {};
  for (const field of POLICY_FIELDS) {
    const value: unknown = record[field];
    // types.isDate, not instanceof: under jest, a Date the embedded store's worker thread sent
    // belongs to another realm than the test's, and instanceof Date is false.
    policy[field] = types.isDate(value) ? value.toISOString() : value;
  }
  return policy as KeyPolicy;
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
    ...apiPolicyOf(record),
    environment: record.environment,
    start: record.start,
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
