import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { listCalls } from '../../server/calls/repository';
import { migrate } from '../../server/store/database';
import { migrationProvider } from '../../server/store/migrations';
import { PGliteThread } from '../../server/store/pglite-thread';
import type { Database } from '../../server/store/schema';
import { createTestDatabase, TEST_STORE } from '../support/harness';

/*
 * Upgrading a store that already holds data: a store migrated to 0002 with calls in the old
 * one-row-per-call table is migrated to the latest schema, and every call is still listed.
 */
describe('upgrading a store with call-log rows to call segments', () => {
  let db: Kysely<Database>;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (TEST_STORE === 'postgres') {
      const database = await createTestDatabase();
      const pool = new pg.Pool({ connectionString: database.url, max: 2 });
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      cleanup = async () => {
        await db.destroy();
        await database.drop();
      };
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'keyward-migrate-'));
      const pglite = await PGliteThread.open(join(dir, 'pgdata'));
      db = new Kysely<Database>({ dialect: new PGliteDialect(pglite as never) });
      cleanup = async () => {
        await db.destroy();
        rmSync(dir, { recursive: true, force: true });
      };
    }
  });
  afterAll(async () => cleanup());

  it('carries every old call over, in order, with its fields', async () => {
    const migrator = new Migrator({
      db,
      provider: migrationProvider,
      migrationTableName: 'keyward_migrations',
      migrationLockTableName: 'keyward_migrations_lock',
    });
    const { error } = await migrator.migrateTo('0002_request_signing');
    expect(error).toBeUndefined();
    const start = Date.parse('2026-11-01T10:00:00.000Z');
    // 1,203 old rows in two workspaces: more than one segment's worth for the first.
    for (let i = 0; i < 1203; i += 1) {
      const workspace = i % 3 === 0 ? 'ws_other' : 'ws_main';
      await sql`
        insert into calls (workspace_id, at, key_id, key_start, ip, scopes, method, path, code, latency_ms)
        values (${workspace}, ${new Date(start + i * 1000)}, ${i % 2 ? 'key_odd' : null}, 'kw_live_abcd', ${`192.0.2.${i % 7}`},
                ${JSON.stringify(['contacts:read'])}::jsonb, 'GET', ${`/c/${i}`}, 'VALID', 1.5)`.execute(db);
    }

    await migrate(db);

    const tables = await sql<{
      name: string;
    }>`select table_name as name from information_schema.tables where table_name in ('calls', 'call_segments')`.execute(
      db,
    );
    expect(tables.rows.map((row) => row.name)).toEqual(['call_segments']);
    // 0004: segments are stored as written, without Postgres's compression.
    const storage = await sql<{
      storage: string;
    }>`select attstorage as storage from pg_attribute where attrelid = 'call_segments'::regclass and attname = 'rows'`.execute(
      db,
    );
    expect(storage.rows).toEqual([{ storage: 'e' }]);
    const main = await listCalls(db, 'ws_main', { limit: 500 });
    expect(main.items).toHaveLength(500);
    expect(main.items[0]).toMatchObject({
      at: new Date(start + 1202 * 1000).toISOString(),
      keyId: null,
      ip: '192.0.2.5',
      path: '/c/1202',
      scopes: ['contacts:read'],
      method: 'GET',
      code: 'VALID',
      latencyMs: 1.5,
      keyStart: 'kw_live_abcd',
    });
    let count = main.items.length;
    let cursor = main.nextCursor;
    while (cursor) {
      const page = await listCalls(db, 'ws_main', { limit: 500, cursor });
      count += page.items.length;
      cursor = page.nextCursor;
    }
    expect(count).toBe(802);
    const odd = await listCalls(db, 'ws_other', { limit: 500, keyId: 'key_odd' });
    expect(odd.items.map((call) => call.path)).toEqual(Array.from({ length: 200 }, (_, i) => `/c/${1197 - i * 6}`));
  });
});
