import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { Keyward } from '../sdk';
import { runBench, serve } from './iac-run';
import { benchOptions } from './options';

/*
 * bench/cluster: replicas of keyward on one Postgres, each its own process.
 * 1. Propagation: a key is suspended or resumed through replica A, over and over; after each
 *    acknowledged change, replica B is polled until it answers the new verdict. p50/p99 of that
 *    delay, from A's answer to B's first new verdict (the goal: p99 < 250 ms).
 * 2. Throughput: verifications per second for a key without a rate limit and for one with a (never
 *    reached) rate limit, against one replica and against all replicas at once, in one run. On a
 *    2-core machine replicas share cores with each other and with the load generator, so the
 *    absolute figures only compare within the run.
 *   node dist/bench/cluster.js --database-url postgres://… [--replicas 3] [--changes 200] [--seconds 3]
 */
const options = benchOptions({ 'database-url': 'value', replicas: 'value', changes: 'value', seconds: 'value' });
const adminUrl = options.text('database-url') ?? process.env.KEYWARD_TEST_DATABASE_URL;
const replicaCount = options.number('replicas', 3);
const changes = options.number('changes', 200);
const seconds = options.number('seconds', 3);

interface Replica {
  child: ChildProcess;
  url: string;
  dataDir: string;
}

async function startReplica(env: NodeJS.ProcessEnv): Promise<Replica> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-cluster-'));
  return { ...(await serve(dataDir, env)), dataDir };
}

function percentile(sorted: number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!;
}

async function load(urls: string[], rootKey: string, key: string): Promise<number> {
  const results = await Promise.all(
    urls.map((url) =>
      autocannon({
        url: `${url}/v1/verify`,
        method: 'POST',
        connections: Math.max(2, Math.floor(16 / urls.length)),
        duration: seconds,
        headers: { authorization: `Bearer ${rootKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key }),
      }),
    ),
  );
  for (const result of results)
    if (result.non2xx > 0 || result.errors > 0) throw new Error('verifications failed under load');
  return results.reduce((sum, result) => sum + result.requests.average, 0);
}

async function main(): Promise<void> {
  if (!adminUrl) throw new Error('pass --database-url (scripts/start-test-postgres.sh prints one)');
  const name = `kw_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    DATABASE_URL: url.toString(),
    KEYWARD_PEPPER: randomBytes(32).toString('base64url'),
    KEYWARD_MASTER_KEY: randomBytes(32).toString('base64url'),
  };
  const replicas: Replica[] = [];
  try {
    for (let index = 0; index < replicaCount; index += 1) replicas.push(await startReplica(env));
    const rootKey = readFileSync(join(replicas[0]!.dataDir, 'root-key'), 'utf8').trim();
    const [a, b] = [replicas[0]!, replicas[1]!];
    const onA = new Keyward({ baseUrl: a.url, rootKey });
    const onB = new Keyward({ baseUrl: b.url, rootKey });

    // 1. Propagation.
    const key = await onA.keys.create({ name: 'propagation' });
    const delays: number[] = [];
    for (let change = 0; change < changes; change += 1) {
      const expected = change % 2 === 0 ? 'SUSPENDED' : 'VALID';
      expect((await onB.verify({ key: key.key })).code !== expected, `B answered ${expected} before the change`);
      if (expected === 'SUSPENDED') await onA.keys.suspend(key.id);
      else await onA.keys.resume(key.id);
      const acknowledged = performance.now();
      for (;;) {
        if ((await onB.verify({ key: key.key })).code === expected) break;
        if (performance.now() - acknowledged > 5000) throw new Error(`change ${change} did not reach B in 5 s`);
      }
      delays.push(performance.now() - acknowledged);
    }
    delays.sort((x, y) => x - y);
    console.log(
      `propagation over ${changes} changes: p50 ${percentile(delays, 0.5).toFixed(1)} ms, p99 ${percentile(delays, 0.99).toFixed(1)} ms, max ${delays.at(-1)!.toFixed(1)} ms`,
    );

    // 2. Throughput, one replica and all of them, without and with a rate limit.
    const unlimited = await onA.keys.create({ name: 'unlimited' });
    const limited = await onA.keys.create({ name: 'limited', rateLimit: { limit: 1_000_000, windowSeconds: 86_400 } });
    const urls = replicas.map((replica) => replica.url);
    for (const [label, secret] of [
      ['no rate limit', unlimited.key],
      ['rate limit', limited.key],
    ] as const) {
      await load(urls, rootKey, secret); // warm every cache
      const one = await load([a.url], rootKey, secret);
      const all = await load(urls, rootKey, secret);
      console.log(
        `${label}: 1 replica ${Math.round(one)} req/s, ${replicaCount} replicas ${Math.round(all)} req/s (ratio ${(all / one).toFixed(2)})`,
      );
    }
  } finally {
    for (const replica of replicas) {
      replica.child.kill('SIGKILL');
      rmSync(replica.dataDir, { recursive: true, force: true });
    }
    await sleep(200);
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

runBench(main);
