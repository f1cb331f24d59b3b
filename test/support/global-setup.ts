import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../server/store/database';

/**
 * Initialising a PGlite cluster (initdb) takes seconds; suites start from a copy of one migrated,
 * empty cluster instead. The template is keyed by the migrations' text, so a new migration makes
 * a new one. What each suite does after the copy (bootstrap, pepper) is real and per suite.
 */
export default async function globalSetup(): Promise<void> {
  const migrations = readFileSync(join(__dirname, '../../server/store/migrations.ts'));
  const digest = createHash('sha256').update(migrations).digest('hex').slice(0, 12);
  const template = join(tmpdir(), `keyward-pglite-template-${digest}`);
  process.env.KEYWARD_TEST_PGLITE_TEMPLATE = join(template, 'pgdata');
  if (existsSync(template)) return;
  const building = `${template}.${process.pid}`;
  const store = await openStore({ dataDir: building });
  await store.close();
  rmSync(template, { recursive: true, force: true });
  renameSync(building, template);
}
