import type { ColumnType, Generated } from 'kysely';
import type { PolicyField, SnakeCase } from '../../schema';
import type { StoredPolicy } from '../keys/record';

/** Row types of the tables created by ./migrations.ts. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface WorkspacesTable {
  id: string;
  name: string;
  created_at: Timestamp;
  audit_seq: number;
  audit_head: string;
  /** The settings the workspace changed from their defaults (schema/workspaces.ts). */
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
}

/** The column a policy field is stored in: instants as timestamps, lists and objects as jsonb. */
type PolicyColumn<Value> = Value extends Date | null
  ? Timestamp | Extract<Value, null>
  : NonNullable<Value> extends object
    ? Json<Value> | Extract<Value, null>
    : Value;

/** One column per policy field (schema/keys.ts), named in snake_case. */
type PolicyColumns = { [Field in PolicyField as SnakeCase<Field>]: PolicyColumn<StoredPolicy[Field]> };

export type KeysTable = PolicyColumns & {
  id: string;
  workspace_id: string;
  kind: 'api' | 'root';
  secret_hash: string;
  start: string;
  environment: 'live' | 'test';
  status: 'active' | 'suspended' | 'retiring' | 'expired' | 'revoked';
  created_at: Timestamp;
  updated_at: Timestamp;
  version: number;
  last_used_at: Timestamp | null;
  last_used_ip: string | null;
  predecessor_id: string | null;
  successor_id: string | null;
  grace_until: Timestamp | null;
  /** The signing secret, AES-256-GCM under the master key; null for a key that does not sign. */
  signing_secret_sealed: string | null;
};

/** Nonces of signed requests already seen, kept until their signature could no longer be fresh. */
export interface SignatureNoncesTable {
  key_id: string;
  nonce: string;
  expires_at: Timestamp;
}

export interface AuditLogTable {
  id: string;
  workspace_id: string;
  seq: number;
  at: Timestamp;
  actor_key_id: string | null;
  action: string;
  target_key_id: string | null;
  changes: Json<Record<string, unknown>>;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

/** Up to 1,000 verifications of one workspace, as a JSON array of rows (see server/calls/repository.ts). */
export interface CallSegmentsTable {
  id: Generated<string>;
  workspace_id: string;
  first_at: Timestamp;
  last_at: Timestamp;
  row_count: number;
  key_ids: string[];
  codes: string[];
  rows: string;
}

export interface IdempotencyKeysTable {
  workspace_id: string;
  operation: string;
  key_hash: string;
  request_hash: string;
  result_key_id: string;
  sealed_secret: string;
  created_at: Timestamp;
}

export interface SettingsTable {
  name: string;
  value: string;
}

/** A webhook endpoint; its secrets are AES-256-GCM under the master key, bound to the endpoint id. */
export interface WebhookEndpointsTable {
  id: string;
  workspace_id: string;
  url: string;
  description: string | null;
  event_types: Json<string[]>;
  enabled: boolean;
  disabled_reason: string | null;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_until: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The outbox: one row per event, its payload the exact JSON body every delivery sends. */
export interface EventsTable {
  id: string;
  workspace_id: string;
  type: string;
  occurred_at: Timestamp;
  payload: string;
}

/** One event on its way to one endpoint. */
export interface WebhookDeliveriesTable {
  id: string;
  workspace_id: string;
  endpoint_id: string;
  event_id: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempt_count: Generated<number>;
  next_attempt_at: Timestamp | null;
  created_at: Timestamp;
  attempts: ColumnType<unknown[], string | undefined, string>;
}

/** A reminder event already emitted: one row per key, kind, due date and threshold. */
export interface RemindersSentTable {
  key_id: string;
  workspace_id: string;
  kind: 'rotation_due' | 'expiring';
  due_at: Timestamp;
  days_before: number;
  sent_at: Timestamp;
}

/** A web console session: the hash of its opaque id and the root key it acts as (server/console/sessions.ts). */
export interface ConsoleSessionsTable {
  id_hash: string;
  workspace_id: string;
  root_key_id: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  /** The absolute expiry: the session ends then, however busy. */
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

/** A leak report already acted on: a second identical one changes nothing (server/leaks/service.ts). */
export interface LeakReportsTable {
  key_id: string;
  /** SHA-256 of the reporter, URL and source: the same report, found again or replayed. */
  report_digest: string;
  workspace_id: string;
  reporter: 'github' | 'report';
  reported_at: Timestamp;
}

export interface Database {
  workspaces: WorkspacesTable;
  keys: KeysTable;
  audit_log: AuditLogTable;
  call_segments: CallSegmentsTable;
  idempotency_keys: IdempotencyKeysTable;
  signature_nonces: SignatureNoncesTable;
  settings: SettingsTable;
  webhook_endpoints: WebhookEndpointsTable;
  events: EventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  reminders_sent: RemindersSentTable;
  leak_reports: LeakReportsTable;
  console_sessions: ConsoleSessionsTable;
}
