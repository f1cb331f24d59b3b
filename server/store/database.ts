import { mkdirSync } from 'node:fs';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { migrationProvider } from './migrations';
import { PGliteThread } from './pglite-thread';
import type { Database } from './schema';

export type Db = Kysely<Database>;

/** An open store: the typed query layer plus what kind of Postgres is behind it. */
export interface Store {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Seconds the embedded store's thread has been busy (PGlite only). */
  busySeconds?: () => number;
  close(): Promise<void>;
}

export type StoreOptions =
  | { databaseUrl: string }
  | { dataDir: string /** PGlite's shared_buffers, e.g. 32MB. */; sharedBuffers?: string };

// pg returns int8 as a string to avoid precision loss; our only int8 is the call id, which we keep as text.
// timestamptz stays a Date in both drivers.

/** Opens the store (Postgres when a URL is given, else PGlite in `dataDir/pgdata`) and runs migrations. */
export async function openStore(options: StoreOptions): Promise<Store> {
  let store: Store;
  if ('databaseUrl' in options) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // A lost connection must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    store = { db, kind: 'postgres', close: () => db.destroy() };
  } else {
    const dataPath = `${options.dataDir}/pgdata`;
    mkdirSync(dataPath, { recursive: true, mode: 0o700 });
    const pglite = await PGliteThread.open(dataPath, { sharedBuffers: options.sharedBuffers });
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite as never) });
    store = { db, kind: 'pglite', busySeconds: () => pglite.busySeconds(), close: () => db.destroy() };
  }
  await migrate(store.db);
  return store;
}

/** Brings the schema up to date; refuses to start on a failed migration. */
export async function migrate(db: Db): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    migrationTableName: 'keyward_migrations',
    migrationLockTableName: 'keyward_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    throw new Error(
      `database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
