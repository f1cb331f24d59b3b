import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runBench, serve } from './iac-run';
import { benchOptions } from './options';

/*
 * bench/writes: key creations per second (and p50/p99) through POST /v1/keys over HTTP at several
 * concurrencies, against a keyward server in its own process, on PGlite or Postgres; and, on
 * Postgres, raw INSERTs of a comparable row (same width, one index, one audit-like row, committed
 * one per transaction) from as many connections, on the same database in the same run, as the
 * ceiling a key write could reach.
 *   node dist/bench/writes.js [--seconds 5] [--concurrency 1,10,32] [--database-url postgres://…] [--batch 1000] [--idempotent]
 * --batch also times POST /v1/keys:batch with that many items per call.
 * --idempotent sends an Idempotency-Key with every create (and batch item), as the SDK and both
 * providers always do.
 */
const options = benchOptions({
  seconds: 'value',
  concurrency: 'value',
  'database-url': 'value',
  batch: 'value',
  idempotent: 'switch',
});
const seconds = options.number('seconds', 5);
const concurrencies = options.numbers('concurrency', [1, 10, 32]);
const databaseUrl = options.text('database-url');
const batchSize = options.number('batch', 0);
const idempotent = options.has('idempotent');

interface Rate {
  perSecond: number;
  p50: number;
  p99: number;
  failed: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `work` from `concurrency` loops for the bench's duration; counts completions and latencies. */
async function measure(concurrency: number, work: () => Promise<boolean>): Promise<Rate> {
  const latencies: number[] = [];
  let failed = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const begin = performance.now();
        if (await work()) latencies.push(performance.now() - begin);
        else failed += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failed,
  };
}

let serial = 0;

async function createKey(url: string, rootKey: string): Promise<boolean> {
  serial += 1;
  const response = await fetch(`${url}/v1/keys`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${rootKey}`,
      ...(idempotent ? { 'idempotency-key': randomUUID() } : {}),
    },
    body: JSON.stringify({ name: `bench-${serial}`, scopes: ['contacts:read', 'email:send'] }),
  });
  await response.arrayBuffer();
  return response.status === 201;
}

async function createBatch(url: string, rootKey: string, size: number): Promise<boolean> {
  const items = Array.from({ length: size }, () => {
    serial += 1;
    return { name: `bulk-${serial}`, scopes: ['contacts:read'] };
  });
  const response = await fetch(`${url}/v1/keys:batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${rootKey}` },
    body: JSON.stringify(idempotent ? { items, idempotencyKeys: items.map(() => randomUUID()) } : { items }),
  });
  await response.arrayBuffer();
  return response.status === 200;
}

/** The ceiling: one key-sized row and one audit-sized row per transaction, from `concurrency` connections. */
async function rawInserts(url: string, concurrency: number): Promise<Rate> {
  const pool = new pg.Pool({ connectionString: url, max: concurrency });
  const table = `bench_raw_${randomBytes(4).toString('hex')}`;
  await pool.query(
    `create table ${table} (id text primary key, secret_hash text unique, name text, scopes jsonb, created_at timestamptz)`,
  );
  await pool.query(`create table ${table}_log (seq bigserial primary key, target text, changes jsonb, hash text)`);
  try {
    return await measure(concurrency, async () => {
      const client = await pool.connect();
      try {
        const id = randomBytes(12).toString('hex');
        await client.query('begin');
        await client.query(`insert into ${table} values ($1, $2, $3, $4, now())`, [
          id,
          randomBytes(32).toString('hex'),
          'bench',
          '["contacts:read","email:send"]',
        ]);
        await client.query(`insert into ${table}_log (target, changes, hash) values ($1, $2, $3)`, [
          id,
          '{"name":"bench"}',
          randomBytes(32).toString('hex'),
        ]);
        await client.query('commit');
        return true;
      } finally {
        client.release();
      }
    });
  } finally {
    await pool.query(`drop table ${table}, ${table}_log`);
    await pool.end();
  }
}

function row(label: string, rate: Rate): string {
  return `| ${label} | ${rate.perSecond.toFixed(0)} | ${rate.p50.toFixed(1)} | ${rate.p99.toFixed(1)} | ${rate.failed} |`;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-writes-'));
  const keyward = await serve(dataDir, databaseUrl ? { DATABASE_URL: databaseUrl } : {});
  const rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
  const store = databaseUrl ? 'postgres' : 'pglite';
  const lines = ['| what | per s | p50 ms | p99 ms | failed |', '|---|---|---|---|---|'];
  try {
    await measure(4, () => createKey(keyward.url, rootKey)); // warm-up
    for (const concurrency of concurrencies) {
      const rate = await measure(concurrency, () => createKey(keyward.url, rootKey));
      lines.push(row(`POST /v1/keys, ${store}, concurrency ${concurrency}`, rate));
      if (databaseUrl) {
        const ceiling = await rawInserts(databaseUrl, concurrency);
        lines.push(row(`raw INSERT pair, concurrency ${concurrency}`, ceiling));
        lines.push(`| ratio keys/raw at ${concurrency} | ${(rate.perSecond / ceiling.perSecond).toFixed(2)} | | | |`);
      }
    }
    if (batchSize > 0) {
      const rate = await measure(1, () => createBatch(keyward.url, rootKey, batchSize));
      lines.push(
        `| POST /v1/keys:batch, ${batchSize} items, ${store} | ${(rate.perSecond * batchSize).toFixed(0)} keys | ${rate.p50.toFixed(0)} | ${rate.p99.toFixed(0)} | ${rate.failed} |`,
      );
    }
  } finally {
    keyward.child.kill('SIGTERM');
    await new Promise((resolve) => keyward.child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(lines.join('\n'));
}

runBench(main);
