import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { Keyward } from '../../sdk';
import { type ConfigInput, type RunningServer, startServer } from '../../server';

/** Which store the integration suites run on: PGlite by default, Postgres with KEYWARD_TEST_STORE=postgres. */
export const TEST_STORE = process.env.KEYWARD_TEST_STORE === 'postgres' ? 'postgres' : 'pglite';

/** A real keyward server on a loopback port, with its own store, a client, and every log line it wrote. */
export interface TestServer {
  server: RunningServer;
  url: string;
  rootKey: string;
  client: Keyward;
  logLines: string[];
  dataDir: string;
  databaseUrl: string | undefined;
  /** Stops the server and starts it again on the same store and secrets (server, url and client change). */
  restart(): Promise<void>;
  /** Starts another server on the same Postgres store and secrets, as a second replica; the caller closes it. */
  replica(options?: { clock?: () => number }): Promise<RunningServer>;
  close(): Promise<void>;
}

/** Creates an empty Postgres database for one suite; returns its URL and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.KEYWARD_TEST_DATABASE_URL;
  if (!adminUrl)
    throw new Error('KEYWARD_TEST_STORE=postgres needs KEYWARD_TEST_DATABASE_URL (see scripts/start-test-postgres.sh)');
  const name = `kw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** Starts a server on a fresh store; `clock` drives its time-driven work (maintenance, webhook delivery). */
export async function startTestServer(
  overrides: Partial<ConfigInput> = {},
  options: { clock?: () => number } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-test-'));
  const database = TEST_STORE === 'postgres' ? await createTestDatabase() : undefined;
  const template = process.env.KEYWARD_TEST_PGLITE_TEMPLATE;
  if (!database && template) cpSync(template, join(dataDir, 'pgdata'), { recursive: true });
  const logLines: string[] = [];
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const settings: Partial<ConfigInput> = {
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: database?.url,
    logLevel: 'info',
    callFlushIntervalMs: 20,
    ...overrides,
  };
  const server = await startServer(settings, { env: {}, logDestination, ...options });
  if (!server.bootstrapRootKey) throw new Error('a fresh store must bootstrap a root key');
  const rootKey = server.bootstrapRootKey;
  const started: TestServer = {
    server,
    url: server.url,
    rootKey,
    client: new Keyward({ baseUrl: server.url, rootKey, retries: 0 }),
    logLines,
    dataDir,
    databaseUrl: database?.url,
    async restart() {
      await started.server.close();
      // The pepper and master key are files in the data dir, so the same dir brings the same secrets.
      started.server = await startServer(settings, { env: {}, logDestination, ...options });
      started.url = started.server.url;
      started.client = new Keyward({ baseUrl: started.url, rootKey, retries: 0 });
    },
    async replica(replicaOptions = {}) {
      if (!database) throw new Error('a second replica needs a shared store: run with KEYWARD_TEST_STORE=postgres');
      return startServer(settings, { env: {}, logDestination, ...replicaOptions });
    },
    async close() {
      await started.server.close();
      // A server-side error is what a failing test needs to be understood in CI; these lines are secret-free.
      const errors = logLines.filter((line) => /"level":(50|60)/.test(line));
      if (errors.length > 0) process.stderr.write(`keyward server errors in this suite:\n${errors.join('')}`);
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return started;
}

// biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the server answered
type AnyJson = any;

/** Sends one raw HTTP request (for cases the SDK would refuse to make) and returns status, headers and JSON. */
export async function raw(
  base: string,
  method: string,
  path: string,
  options: { rootKey?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: AnyJson }> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.rootKey) headers.authorization = `Bearer ${options.rootKey}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Polls `check` until it returns a truthy value or the timeout passes. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the given moment (an ISO time or epoch ms) has passed, plus a small margin. */
export function sleepUntil(moment: string | number): Promise<void> {
  const at = typeof moment === 'string' ? Date.parse(moment) : moment;
  return sleep(Math.max(0, at - Date.now() + 50));
}

/** How many keys have a name starting with `prefix` (the list filter is a prefix match). */
export async function countKeysNamed(client: Keyward, prefix: string): Promise<number> {
  let count = 0;
  for await (const _key of client.keys.list({ name: prefix })) count += 1;
  return count;
}
