import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Call } from '../../schema';
import { listCalls } from '../../server/calls/repository';
import { migrate } from '../../server/store/database';
import { migrationProvider } from '../../server/store/migrations';
import { PGliteThread } from '../../server/store/pglite-thread';
import type { Database } from '../../server/store/schema';
import { createTestDatabase, TEST_STORE } from '../support/harness';

/*
 * Upgrading a store that already holds data: a store migrated to 0002 with calls in the old
 * one-row-per-call table, and call-log segments stored in the formats written before the current
 * one, is migrated to the latest schema, and every call is still listed as it was recorded.
 */
describe('upgrading a store with call-log rows to call segments', () => {
  let db: Kysely<Database>;
  let cleanup: () => Promise<void>;
  const start = Date.parse('2026-11-01T10:00:00.000Z');
  /** The calls an early gateway logged, each as `listCalls` must give it back. */
  const early = (at: number, overrides: Partial<Call> = {}): Omit<Call, 'id'> => ({
    at: new Date(at).toISOString(),
    keyId: 'key_early',
    keyStart: 'kw_live_efgh',
    ip: '198.51.100.4',
    scopes: ['contacts:read'],
    method: 'POST',
    path: '/send',
    code: 'VALID',
    latencyMs: 0.125,
    ...overrides,
  });
  /** The segment ids of the early gateway's two segments: version 1, then version 2. */
  let version1Id: number;
  let version2Id: number;

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

    const migrator = new Migrator({
      db,
      provider: migrationProvider,
      migrationTableName: 'keyward_migrations',
      migrationLockTableName: 'keyward_migrations_lock',
    });
    expect((await migrator.migrateTo('0002_request_signing')).error).toBeUndefined();
    // 1,203 old rows in two workspaces: more than one segment's worth for the first.
    for (let i = 0; i < 1203; i += 1) {
      const workspace = i % 3 === 0 ? 'ws_other' : 'ws_main';
      await sql`
        insert into calls (workspace_id, at, key_id, key_start, ip, scopes, method, path, code, latency_ms)
        values (${workspace}, ${new Date(start + i * 1000)}, ${i % 2 ? 'key_odd' : null}, 'kw_live_abcd', ${`192.0.2.${i % 7}`},
                ${JSON.stringify(['contacts:read'])}::jsonb, 'GET', ${`/c/${i}`}, 'VALID', 1.5)`.execute(db);
    }
    // 0003 carries them over as version 1 segments.
    expect((await migrator.migrateTo('0004_call_segments_uncompressed')).error).toBeUndefined();

    // Segments as the replaced writers stored them. Version 1: the calls as JSON arrays, and null
    // for a call retention pruned.
    const version1 = [
      [start + 5000, 'key_early', 'kw_live_efgh', '198.51.100.4', ['contacts:read'], 'POST', '/send', 'VALID', 0.125],
      null,
      [start + 7000, 'key_early', 'kw_live_efgh', null, [], null, null, 'NOT_FOUND', 12],
    ];
    // Version 2: a dictionary, and each call as [ms after base, 7 dictionary indexes, latency µs].
    const version2 = {
      v: 2,
      base: start + 8000,
      dict: [null, 'key_early', 'kw_live_efgh', '198.51.100.4', ['contacts:read'], 'POST', '/send', 'VALID', 'EXPIRED'],
      rows: [[0, 1, 2, 3, 4, 5, 6, 7, 125], null, [40, 1, 2, 0, 4, 0, 0, 8, 3001]],
    };
    const inserted = await db
      .insertInto('call_segments')
      .values([
        {
          workspace_id: 'ws_early',
          first_at: new Date(start + 5000),
          last_at: new Date(start + 7000),
          row_count: 2,
          key_ids: ['key_early'],
          codes: ['VALID', 'NOT_FOUND'],
          rows: JSON.stringify(version1),
        },
        {
          workspace_id: 'ws_early',
          first_at: new Date(start + 8000),
          last_at: new Date(start + 8040),
          row_count: 2,
          key_ids: ['key_early'],
          codes: ['VALID', 'EXPIRED'],
          rows: JSON.stringify(version2),
        },
      ])
      .returning('id')
      .execute();
    [version1Id, version2Id] = inserted.map((row) => Number(row.id)) as [number, number];
    // Many small ones, more than the migration rewrites per round trip.
    await db
      .insertInto('call_segments')
      .values(
        Array.from({ length: 120 }, (_, i) => ({
          workspace_id: 'ws_many',
          first_at: new Date(start + i),
          last_at: new Date(start + i),
          row_count: 1,
          key_ids: [],
          codes: ['MALFORMED'],
          rows: JSON.stringify([[start + i, null, null, `203.0.113.${i}`, [], 'GET', '/', 'MALFORMED', 0.5]]),
        })),
      )
      .execute();
    expect(await segmentFormats()).toEqual({ '[': 125, '{"v":2,': 1 });

    await migrate(db);
  });
  afterAll(async () => cleanup());

  /** How many segments start with each format's opening: `[` (version 1), `{"v":2,` or `{"v":3,`. */
  async function segmentFormats(): Promise<Record<string, number>> {
    const counts = await sql<{ opening: string; count: number }>`
      select case when rows like '[%' then '[' else left(rows, 7) end as opening, count(*)::integer as count
      from call_segments group by 1`.execute(db);
    return Object.fromEntries(counts.rows.map((row) => [row.opening, row.count]));
  }

  it('carries every old call over, in order, with its fields', async () => {
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

  it('stores every segment in the one format the server reads, whatever format it was written in', async () => {
    expect(await segmentFormats()).toEqual({ '{"v":3,': 126 });
  });

  it('reads back the calls of segments written in versions 1 and 2, with their ids and pruned places', async () => {
    const page = await listCalls(db, 'ws_early', { limit: 10 });
    expect(page.items).toEqual([
      {
        id: String(version2Id * 1000 + 2),
        ...early(start + 8040, { ip: null, method: null, path: null, code: 'EXPIRED', latencyMs: 3.001 }),
      },
      { id: String(version2Id * 1000), ...early(start + 8000) },
      {
        id: String(version1Id * 1000 + 2),
        ...early(start + 7000, { ip: null, scopes: [], method: null, path: null, code: 'NOT_FOUND', latencyMs: 12 }),
      },
      { id: String(version1Id * 1000), ...early(start + 5000) },
    ]);
    expect(page.nextCursor).toBeNull();
    // The segments' filters still find them: by key, by code, by IP.
    expect((await listCalls(db, 'ws_early', { limit: 10, code: 'NOT_FOUND' })).items).toHaveLength(1);
    expect((await listCalls(db, 'ws_early', { limit: 10, ip: '198.51.100.4' })).items).toHaveLength(2);
    expect((await listCalls(db, 'ws_early', { limit: 10, keyId: 'key_early' })).items).toHaveLength(4);
    const many = await listCalls(db, 'ws_many', { limit: 200 });
    expect(many.items.map((call) => call.ip)).toEqual(Array.from({ length: 120 }, (_, i) => `203.0.113.${119 - i}`));
  });
});
