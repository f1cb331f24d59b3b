import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Keyward } from '../sdk';
import { cpuSeconds } from './cpu';
import { metricSample } from './iac-run';
import { benchOptions } from './options';
import { median } from './stats';

/*
 * bench/verify: verifications per second and p50/p99 latency of POST /v1/verify for a cached key,
 * over HTTP on loopback, against a bare node:http server answering the same JSON, in one run, and
 * against a one-route fastify server (the floor fastify itself sets). A second bare server answers
 * at the end of the event loop's turn, as keyward's verify lane does (server/verify/fast/end-of-turn.ts):
 * keyward against it is what keyward's own work costs, with that scheduling's gain taken out.
 * Each server runs in its own process; autocannon runs here. Rounds alternate between the servers,
 * and are short, so drift on the machine hits all alike; the ratio reported is the median of the
 * rounds' own ratios (the machine's speed drifts by a factor of two within a minute on a shared VM).
 *   node dist/bench/verify.js [--seconds 3] [--connections 16] [--rounds 8] [--database-url postgres://…] [--pin] [--log-level warn] [--spin 5,10,20]
 * --spin adds bare servers that busy-wait that many µs per request: a calibration of what a given
 * amount of per-request work costs in throughput on this machine, in the same run.
 * BENCH_NODE_FLAGS passes flags to both server processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
const options = benchOptions({
  seconds: 'value',
  connections: 'value',
  rounds: 'value',
  'database-url': 'value',
  pin: 'switch',
  'log-level': 'value',
  spin: 'value',
});
const seconds = options.number('seconds', 3);
const connections = options.number('connections', 16);
const rounds = options.number('rounds', 8);
const databaseUrl = options.text('database-url');
const pin = options.has('pin');
const logLevel = options.text('log-level') ?? 'warn';
const spins = options.numbers('spin', []);
const root = join(__dirname, '..', '..');

function start(command: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const nodeArgs = [...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : []), ...command];
  // --pin: servers on CPU 0, this process (the load generator) on CPU 1, so they never share a core.
  const [file, argv] = pin ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(file, argv, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += String(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        // From here on the server's output is drained unread: parsing it would load this process,
        // which runs the load generator.
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve({ child, url: match[1] });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited with ${code}: ${out}`)));
  });
}

interface Measure {
  rps: number;
  /** CPU time the server process spent per answered request, user + system, in µs. */
  cpuPerRequest: number;
  /** Time the embedded store's thread was busy per 1,000 answered requests, in ms (keyward on PGlite only). */
  storePerThousand: number | null;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(
  server: { child: ChildProcess; url: string },
  headers: Record<string, string>,
  body: string,
): Promise<Measure> {
  const cpuBefore = cpuSeconds(server.child.pid!);
  const storeBefore = await metricSample(server.url, 'keyward_store_thread_busy_seconds_total');
  const result = await autocannon({
    url: `${server.url}/v1/verify`,
    method: 'POST',
    headers,
    body,
    connections,
    duration: seconds,
    pipelining: 1,
  });
  const cpu = cpuSeconds(server.child.pid!) - cpuBefore;
  // The call log is written after the round: a final flush is part of the round's store cost.
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const storeAfter = await metricSample(server.url, 'keyward_store_thread_busy_seconds_total');
  return {
    storePerThousand:
      storeBefore === null || storeAfter === null
        ? null
        : ((storeAfter - storeBefore) * 1e6) / Math.max(1, result.requests.total),
    rps: result.requests.average,
    cpuPerRequest: (cpu * 1e6) / Math.max(1, result.requests.total),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function main(): Promise<void> {
  if (pin) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-'));
  const keyward = await start([join(root, 'bin', 'keyward.js'), 'serve', '--port', '0'], {
    KEYWARD_DATA_DIR: dataDir,
    KEYWARD_LOG_LEVEL: logLevel,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
  const client = new Keyward({ baseUrl: keyward.url, rootKey });
  const key = await client.keys.create({
    name: 'bench',
    scopes: ['contacts:*', 'email:send'],
    ipAllowlist: ['10.0.0.0/8', '2001:db8::/32'],
  });
  const request = { key: key.key, scopes: ['contacts:read'], ip: '10.1.2.3', method: 'GET', path: '/contacts' };
  const warm = await client.verify(request);
  if (warm.code !== 'VALID') throw new Error(`bench key does not verify: ${warm.code}`);
  const bare = await start([join(__dirname, 'bare-server.js')], { BENCH_RESPONSE: JSON.stringify(warm) });
  const bareAtEndOfTurn = await start([join(__dirname, 'bare-server.js')], {
    BENCH_RESPONSE: JSON.stringify(warm),
    BENCH_END_OF_TURN: '1',
  });
  const floor = await start([join(__dirname, 'fastify-floor-server.js')], { BENCH_RESPONSE: JSON.stringify(warm) });
  const spinning = await Promise.all(
    spins.map((micros) =>
      start([join(__dirname, 'bare-server.js')], {
        BENCH_RESPONSE: JSON.stringify(warm),
        BENCH_BUSY_MICROS: String(micros),
      }),
    ),
  );

  const headers = { 'content-type': 'application/json', authorization: `Bearer ${rootKey}` };
  const body = JSON.stringify(request);
  const measured: {
    keyward: Measure[];
    bare: Measure[];
    bareAtEndOfTurn: Measure[];
    floor: Measure[];
    spinning: Measure[][];
  } = {
    keyward: [],
    bare: [],
    bareAtEndOfTurn: [],
    floor: [],
    spinning: spins.map(() => []),
  };
  try {
    // A short warm-up of each, not counted.
    for (const server of [keyward, bare, bareAtEndOfTurn, floor])
      await autocannon({ url: `${server.url}/v1/verify`, method: 'POST', headers, body, connections, duration: 2 });
    for (let round = 0; round < rounds; round += 1) {
      measured.keyward.push(await load(keyward, headers, body));
      measured.bare.push(await load(bare, headers, body));
      measured.bareAtEndOfTurn.push(await load(bareAtEndOfTurn, headers, body));
      measured.floor.push(await load(floor, headers, body));
      for (const [index, server] of spinning.entries())
        measured.spinning[index]!.push(await load(server, headers, body));
    }
  } finally {
    for (const server of [keyward, bare, bareAtEndOfTurn, floor, ...spinning]) server.child.kill('SIGTERM');
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const summary = (runs: Measure[]) => ({
    rps: mean(runs.map((run) => run.rps)),
    cpu: mean(runs.map((run) => run.cpuPerRequest)),
    p50: mean(runs.map((run) => run.p50)),
    p99: mean(runs.map((run) => run.p99)),
    failed: runs.reduce((sum, run) => sum + run.non2xx + run.errors, 0),
  });
  const k = summary(measured.keyward);
  const b = summary(measured.bare);
  const e = summary(measured.bareAtEndOfTurn);
  const f = summary(measured.floor);
  const perRound = measured.keyward.map((run, round) => run.rps / measured.bare[round]!.rps);
  const endOfTurnPerRound = measured.keyward.map((run, round) => run.rps / measured.bareAtEndOfTurn[round]!.rps);
  const floorPerRound = measured.floor.map((run, round) => run.rps / measured.bare[round]!.rps);
  const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
  console.log(
    `node ${process.version}, store ${databaseUrl ? 'Postgres' : 'PGlite'}, ${connections} connections, ${rounds} x ${seconds}s per server, alternating, keyward log level ${logLevel}${pin ? ', servers pinned to CPU 0 and the load generator to CPU 1' : ''}`,
  );
  console.log('| server | verifications/s | server CPU µs/request | p50 ms | p99 ms | non-2xx + errors |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const row = (name: string, m: ReturnType<typeof summary>) =>
    `| ${name} | ${m.rps.toFixed(0)} | ${m.cpu.toFixed(0)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${m.failed} |`;
  console.log(row('keyward POST /v1/verify (cached key)', k));
  const store = measured.keyward.map((run) => run.storePerThousand).filter((value) => value !== null);
  if (store.length > 0)
    console.log(
      `keyward store thread busy per 1,000 verifications: ${mean(store).toFixed(1)} ms (rounds ${store.map((value) => value.toFixed(1)).join(', ')})`,
    );
  console.log(row('bare node:http, same JSON', b));
  console.log(row('bare node:http, same JSON, answering at the end of the turn', e));
  console.log(row('fastify, one route, same JSON (no hooks, validation or auth)', f));
  for (const [index, micros] of spins.entries())
    console.log(row(`bare + ${micros} µs of busy work per request`, summary(measured.spinning[index]!)));
  console.log(`per round keyward/bare: ${perRound.map(percent).join(', ')}`);
  console.log(
    `ratio fastify floor/bare: median ${percent(median(floorPerRound))} (of means ${percent(f.rps / b.rps)})`,
  );
  for (const [index, micros] of spins.entries()) {
    console.log(
      `ratio bare+${micros}µs/bare: median ${percent(median(measured.spinning[index]!.map((run, round) => run.rps / measured.bare[round]!.rps)))}`,
    );
  }
  console.log(
    `ratio keyward/bare answering at the end of the turn: median ${percent(median(endOfTurnPerRound))} (of means ${percent(k.rps / e.rps)})`,
  );
  console.log(
    `ratio keyward/bare: median ${percent(median(perRound))}, range ${percent(Math.min(...perRound))}–${percent(Math.max(...perRound))} (of means ${percent(k.rps / b.rps)}; goal: at least ${pin && connections >= 64 ? 80 : 70}%)`,
  );
  rmSync(dataDir, { recursive: true, force: true });
  if (k.failed > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
