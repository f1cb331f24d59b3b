import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { rewriteOldCallSegments } from './migrations/0005-call-segments';

/*
 * The one migration set, run unchanged on PGlite and on Postgres. Migrations are append-only:
 * never edit one that has shipped, add the next number instead.
 */
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await runScript(
        db,
        `
        create table settings (
          name text primary key,
          value text not null
        );
        create table workspaces (
          id text primary key,
          name text not null unique,
          created_at timestamptz not null default now(),
          audit_seq integer not null default 0,
          audit_head text not null
        );
        create table keys (
          id text primary key,
          workspace_id text not null references workspaces(id),
          kind text not null check (kind in ('api', 'root')),
          secret_hash text not null unique,
          start text not null,
          environment text not null check (environment in ('live', 'test')),
          name text not null,
          description text,
          scopes jsonb not null,
          ip_allowlist jsonb not null,
          expires_at timestamptz,
          metadata jsonb not null,
          rate_limit jsonb,
          max_age_days integer not null,
          status text not null check (status in ('active', 'suspended', 'retiring', 'expired', 'revoked')),
          created_at timestamptz not null,
          updated_at timestamptz not null,
          version integer not null default 1,
          last_used_at timestamptz,
          last_used_ip text,
          predecessor_id text references keys(id),
          successor_id text references keys(id),
          grace_until timestamptz
        );
        create index keys_listing on keys (workspace_id, kind, created_at, id);
        create index keys_scopes on keys using gin (scopes);
        create index keys_lapsing on keys (status, grace_until);
        create table audit_log (
          id text primary key,
          workspace_id text not null references workspaces(id),
          seq integer not null,
          at timestamptz not null,
          actor_key_id text,
          action text not null,
          target_key_id text,
          changes jsonb not null,
          ip text,
          user_agent text,
          request_id text,
          prev_hash text not null,
          hash text not null,
          unique (workspace_id, seq)
        );
        create index audit_by_target on audit_log (workspace_id, target_key_id, seq);
        create table calls (
          id bigint generated always as identity primary key,
          workspace_id text not null,
          at timestamptz not null,
          key_id text,
          key_start text,
          ip text,
          scopes jsonb not null,
          method text,
          path text,
          code text not null,
          latency_ms real not null
        );
        create index calls_by_workspace on calls (workspace_id, at desc, id desc);
        create index calls_by_key on calls (key_id, at desc, id desc);
        create index calls_by_age on calls (at);
        create table idempotency_keys (
          workspace_id text not null,
          operation text not null,
          key_hash text not null,
          request_hash text not null,
          result_key_id text not null,
          sealed_secret text not null,
          created_at timestamptz not null,
          primary key (workspace_id, operation, key_hash)
        );
        create index idempotency_by_age on idempotency_keys (created_at);
      `,
      );
    },
  },
  '0002_request_signing': {
    async up(db: Kysely<unknown>) {
      await runScript(
        db,
        `
        alter table keys add column signed_scopes jsonb not null default '[]'::jsonb;
        alter table keys add column require_signature boolean not null default false;
        alter table keys add column signing_secret_sealed text;
        create table signature_nonces (
          key_id text not null,
          nonce text not null,
          expires_at timestamptz not null,
          primary key (key_id, nonce)
        );
        create index signature_nonces_by_age on signature_nonces (expires_at);
      `,
      );
    },
  },
  '0003_call_segments': {
    async up(db: Kysely<unknown>) {
      // The call log moves from one row per verification to segments of up to 1,000 calls in one
      // text value (see server/calls/repository.ts): on PGlite a row cost ~50 µs of database CPU,
      // a segment costs ~3.5 µs per call. Existing rows are carried over, never dropped.
      await runScript(
        db,
        `
        create table call_segments (
          id bigint generated always as identity primary key,
          workspace_id text not null,
          first_at timestamptz not null,
          last_at timestamptz not null,
          row_count integer not null,
          key_ids text[] not null,
          codes text[] not null,
          rows text not null
        );
        create index call_segments_by_workspace on call_segments (workspace_id, last_at desc, id desc);
        create index call_segments_by_key on call_segments using gin (key_ids);
        create index call_segments_by_age on call_segments (last_at);
        insert into call_segments (workspace_id, first_at, last_at, row_count, key_ids, codes, rows)
          select workspace_id, min(at), max(at), count(*)::integer,
            coalesce(array_agg(distinct key_id) filter (where key_id is not null), '{}'),
            array_agg(distinct code),
            jsonb_agg(jsonb_build_array(
              (extract(epoch from at) * 1000)::bigint, key_id, key_start, ip, scopes, method, path, code, latency_ms
            ) order by at, id)::text
          from calls
          group by workspace_id, (id - 1) / 1000
          order by min(at);
        drop table calls
      `,
      );
    },
  },
  '0004_call_segments_uncompressed': {
    async up(db: Kysely<unknown>) {
      // Segments are now compact bytes in base64 (server/calls/segment.ts, version 3), which
      // Postgres's compression shrinks only by a third at ~0.35 µs of CPU per call: store them as
      // they are. Only rows written from now on are affected; nothing is rewritten.
      await sql`alter table call_segments alter column rows set storage external`.execute(db);
    },
  },
  '0005_call_segments_one_format': {
    async up(db: Kysely<unknown>) {
      // Segments stored as versions 1 and 2 (by 0003 and by writers replaced before any release)
      // are rewritten as version 3, so the reader knows one format.
      await rewriteOldCallSegments(db);
    },
  },
  '0006_key_owner': {
    async up(db: Kysely<unknown>) {
      // The policy field `owner` (schema/keys.ts): the team or person responsible for a key.
      await runScript(
        db,
        `
        alter table keys add column owner text;
        create index keys_owner on keys (workspace_id, kind, owner)
      `,
      );
    },
  },
  '0007_cluster_counters': {
    async up(db: Kysely<unknown>) {
      // Cluster-wide counters (server/cluster/): rate-limit tokens leased per key and window, and
      // brute-force failures per source and window. UNLOGGED: they are rebuilt by use after a
      // crash, and each write would otherwise cost a WAL flush on the hot path.
      await runScript(
        db,
        `
        create unlogged table rate_limit_leases (
          key_id text not null,
          window_start bigint not null,
          taken integer not null,
          primary key (key_id, window_start)
        );
        create unlogged table failure_counts (
          kind text not null,
          source text not null,
          window_start bigint not null,
          failures integer not null,
          primary key (kind, source, window_start)
        )
      `,
      );
    },
  },
  '0008_webhooks': {
    async up(db: Kysely<unknown>) {
      // Webhooks (server/events/): endpoints per workspace, an outbox of events written in the
      // transaction of the change that causes them, and one delivery per event and endpoint.
      await runScript(
        db,
        `
        create table webhook_endpoints (
          id text primary key,
          workspace_id text not null references workspaces(id),
          url text not null,
          description text,
          event_types jsonb not null,
          enabled boolean not null,
          disabled_reason text,
          secret_sealed text not null,
          previous_secret_sealed text,
          previous_secret_until timestamptz,
          created_at timestamptz not null,
          updated_at timestamptz not null
        );
        create index webhook_endpoints_by_workspace on webhook_endpoints (workspace_id, created_at, id);
        create table events (
          id text primary key,
          workspace_id text not null references workspaces(id),
          type text not null,
          occurred_at timestamptz not null,
          payload text not null
        );
        create index events_by_workspace on events (workspace_id, occurred_at);
        create table webhook_deliveries (
          id text primary key,
          workspace_id text not null,
          endpoint_id text not null references webhook_endpoints(id) on delete cascade,
          event_id text not null references events(id),
          status text not null check (status in ('pending', 'succeeded', 'failed')),
          attempt_count integer not null default 0,
          next_attempt_at timestamptz,
          created_at timestamptz not null,
          attempts jsonb not null default '[]'::jsonb
        );
        create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
        create index webhook_deliveries_by_endpoint on webhook_deliveries (endpoint_id, created_at desc, id desc)
      `,
      );
    },
  },
  '0009_workspace_settings': {
    async up(db: Kysely<unknown>) {
      // Per-workspace event and leak settings (only what differs from the defaults is stored), and
      // the reminders already sent, so each fires once per key, due date and threshold, across
      // restarts and replicas: the primary key makes a second insert of the same reminder a no-op.
      await runScript(
        db,
        `
        alter table workspaces add column settings jsonb not null default '{}'::jsonb;
        create table reminders_sent (
          key_id text not null,
          workspace_id text not null,
          kind text not null check (kind in ('rotation_due', 'expiring')),
          due_at timestamptz not null,
          days_before integer not null,
          sent_at timestamptz not null,
          primary key (key_id, kind, due_at, days_before)
        )
      `,
      );
    },
  },
  '0010_leaks': {
    async up(db: Kysely<unknown>) {
      // One row per leak report already acted on (server/leaks/service.ts): GitHub signs no
      // timestamp, so a replayed alert verifies; the primary key makes the second one a no-op. The
      // report is kept as a digest of reporter, URL and source, never the key.
      await runScript(
        db,
        `
        create table leak_reports (
          key_id text not null references keys(id),
          report_digest text not null,
          workspace_id text not null references workspaces(id),
          reporter text not null check (reporter in ('github', 'report')),
          reported_at timestamptz not null,
          primary key (key_id, report_digest)
        )
      `,
      );
    },
  },
  '0011_console_sessions': {
    async up(db: Kysely<unknown>) {
      // Web console sessions (server/console/sessions.ts): only a hash of the session id is kept,
      // and the root key's id, never the key; every request re-reads that key, so revoking it ends
      // its sessions at once.
      await runScript(
        db,
        `
        create table console_sessions (
          id_hash text primary key,
          workspace_id text not null references workspaces(id),
          root_key_id text not null references keys(id),
          created_at timestamptz not null,
          last_seen_at timestamptz not null,
          expires_at timestamptz not null,
          ip text,
          user_agent text
        );
        create index console_sessions_by_root_key on console_sessions (root_key_id);
        create index console_sessions_by_expiry on console_sessions (expires_at)
      `,
      );
    },
  },
};

/** Runs a script of `;`-separated statements, one statement at a time: PGlite runs each query as a prepared statement. */
async function runScript(db: Kysely<unknown>, script: string): Promise<void> {
  const statements = script
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Serves the migrations above to Kysely's Migrator. */
export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
