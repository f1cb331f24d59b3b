import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyward } from '../sdk';
import { startServer } from '../server';
import { metricSample, runBench } from './iac-run';
import { benchOptions } from './options';

/*
 * bench/cache-memory: how much memory a server holds for each key it has verified (the verify
 * cache's entry, its answer texts, its compiled scopes and allowlist, and everything else a
 * verification leaves behind), to size a deployment. A server runs in this process on PGlite or
 * Postgres; N keys are made through POST /v1/keys:batch, then each is verified once over HTTP.
 * The heap is measured after a full garbage collection before and after the verifications, with
 * the call log flushed. The server's V8 heap is this process's: the store's own memory (PGlite's
 * thread, or Postgres) is not in it. The process's RSS is printed too (with PGlite's thread in it).
 *   node --expose-gc dist/bench/cache-memory.js [--keys 20000] [--scopes 2] [--cidrs 1] [--distinct] [--database-url postgres://…]
 * Keys share one scope list and one allowlist, as most keys of a deployment do; --distinct gives
 * every key lists of its own, so nothing is shared.
 */
const options = benchOptions({
  keys: 'value',
  scopes: 'value',
  cidrs: 'value',
  distinct: 'switch',
  'database-url': 'value',
});
const keyCount = options.number('keys', 20_000);
const scopeCount = options.number('scopes', 2);
const cidrCount = options.number('cidrs', 1);
const databaseUrl = options.text('database-url');
const distinct = options.has('distinct');

/** The V8 heap in use after full collections (young and old generation, twice for finalizers), and the process's RSS. */
function afterCollection(): { heap: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heap: heapUsed, rss };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-cache-'));
  const server = await startServer(
    {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      databaseUrl,
      logLevel: 'warn',
      // Every key stays cached through the run: room for all, no expiry, no maintenance round to sweep them.
      verifyCacheMaxKeys: keyCount + 10,
      verifyCacheTtlMs: 3_600_000,
      maintenanceIntervalMs: 86_400_000,
    },
    { env: {} },
  );
  try {
    const client = new Keyward({ baseUrl: server.url, rootKey: server.bootstrapRootKey! });
    // Key n's lists and the address it calls from; with --distinct, a qualified scope and a /24 of its own.
    const scopesOf = (n: number) =>
      Array.from({ length: scopeCount }, (_, index) => `resource${index}:read${distinct ? `@k${n}` : ''}`);
    const network = (n: number) => (distinct ? `10.${(n >> 8) & 255}.${n & 255}` : '10.0.0');
    const allowlistOf = (n: number) =>
      Array.from({ length: cidrCount }, (_, index) => (index === 0 ? `${network(n)}.0/24` : `10.${index}.0.0/16`));
    const verification = (key: string, n: number) => ({ key, scopes: scopesOf(n).slice(0, 1), ip: `${network(n)}.1` });
    const keys: string[] = [];
    for (let made = 0; made < keyCount; made += 1000) {
      const items = Array.from({ length: Math.min(1000, keyCount - made) }, (_, index) => ({
        name: `bench key ${made + index}`,
        scopes: scopesOf(made + index),
        ipAllowlist: allowlistOf(made + index),
      }));
      const { items: results, failed } = await client.keys.createBatch(items);
      if (failed > 0) throw new Error(`${failed} of ${items.length} creations failed`);
      for (const result of results) if ('key' in result) keys.push(result.key.key);
    }
    // One verification first, so code paths and the root key's entry exist before the baseline.
    await client.verify(verification(keys[0]!, 0)).then(assertValid);
    await server.flush();
    const cachedBefore = await cachedKeys(server.url);
    const before = afterCollection();
    for (let done = 0; done < keys.length; done += 50)
      await Promise.all(
        keys
          .slice(done, done + 50)
          .map((key, index) => client.verify(verification(key, done + index)).then(assertValid)),
      );
    await server.flush();
    const after = afterCollection();
    const cached = (await cachedKeys(server.url)) - cachedBefore;
    if (cached !== keys.length - 1) throw new Error(`the cache holds ${cached} more keys, not ${keys.length - 1}`);
    const perKey = (after.heap - before.heap) / cached;
    console.log(
      `${databaseUrl ? 'Postgres' : 'PGlite'}, Node ${process.version}, ${keys.length} keys with ${scopeCount} scopes and ${cidrCount} CIDRs, each verified once${distinct ? ', every key with lists of its own' : ''}`,
    );
    console.log(
      `heap before ${mb(before.heap)}, after ${mb(after.heap)}: **${Math.round(perKey)} bytes per verified key**`,
    );
    // The whole process: the server, its PGlite thread when it has one, this bench's client, and
    // heap pages V8 keeps after the load's garbage is collected.
    console.log(`process RSS before ${mb(before.rss)}, after ${mb(after.rss)}`);
    console.log(`at the default cache bound (100,000 keys): ~${mb(perKey * 100_000)}`);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** keyward_verify_cache_keys: the entries the server's verify cache holds. */
async function cachedKeys(url: string): Promise<number> {
  const held = await metricSample(url, 'keyward_verify_cache_keys');
  if (held === null) throw new Error(`${url}/metrics has no keyward_verify_cache_keys`);
  return held;
}

function assertValid(answer: { code: string }): void {
  if (answer.code !== 'VALID') throw new Error(`a verification answered ${answer.code}`);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

// The heap can only be measured after a full collection: without --expose-gc, run again with it.
if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
  const run = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(run.status ?? 1);
} else runBench(main);
