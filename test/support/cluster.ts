import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyward } from '../../sdk';
import { createTestDatabase } from './harness';
import { type ServeProcess, spawnServe } from './process';

/** One replica: a `keyward serve` process and a client bound to it. */
export interface Replica {
  name: string;
  process: ServeProcess;
  url: string;
  client: Keyward;
}

/** Several `keyward serve` processes on one Postgres database, as a platform team runs them. */
export interface Cluster {
  replicas: Replica[];
  rootKey: string;
  databaseUrl: string;
  env: NodeJS.ProcessEnv;
  /** Starts one more replica on the same database and secrets. */
  add(name: string): Promise<Replica>;
  close(): Promise<void>;
}

/**
 * Starts `count` replicas on a fresh Postgres database (KEYWARD_TEST_DATABASE_URL), sharing the
 * pepper and master key as a deployment shares them through its secret store. The first replica
 * bootstraps the store; the others start after it.
 */
export async function startCluster(count: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<Cluster> {
  const database = await createTestDatabase();
  const dataDirs: string[] = [];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    DATABASE_URL: database.url,
    KEYWARD_PEPPER: randomBytes(32).toString('base64url'),
    KEYWARD_MASTER_KEY: randomBytes(32).toString('base64url'),
    KEYWARD_CALL_FLUSH_INTERVAL_MS: '50',
    ...extraEnv,
  };
  const replicas: Replica[] = [];
  let rootKey = '';
  const add = async (name: string): Promise<Replica> => {
    const dataDir = mkdtempSync(join(tmpdir(), `keyward-${name}-`));
    dataDirs.push(dataDir);
    const serve = await spawnServe([], { ...env, HOME: dataDir, KEYWARD_DATA_DIR: dataDir });
    if (!rootKey) rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
    const replica = {
      name,
      process: serve,
      url: serve.url,
      client: new Keyward({ baseUrl: serve.url, rootKey, retries: 0 }),
    };
    replicas.push(replica);
    return replica;
  };
  try {
    for (let index = 0; index < count; index += 1) await add(String.fromCharCode(97 + index));
  } catch (error) {
    await Promise.all(replicas.map((replica) => replica.process.stop('SIGKILL')));
    await database.drop();
    throw error;
  }
  return {
    replicas,
    get rootKey() {
      return rootKey;
    },
    databaseUrl: database.url,
    env,
    add,
    async close() {
      await Promise.all(replicas.map((replica) => replica.process.stop('SIGKILL')));
      await database.drop();
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads one unlabelled gauge or counter from a replica's /metrics. */
export async function metricValue(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : null;
}

/** Polls until `check` holds and returns how long that took, failing past `limitMs`. */
export async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`not reached within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
