import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { Keyward } from '../sdk';
import { cpuSeconds } from './cpu';
import { runBench, serve } from './iac-run';
import { benchOptions } from './options';

/*
 * bench/events: webhook delivery from a real `keyward serve` process to a receiver in this process.
 * 1. Latency: `--changes` key renames (PATCH /v1/keys/{id}) from `--workers` clients back to back;
 *    for each, the time from sending the change to the receiver getting its key.updated event,
 *    p50/p99, and the delivery rate while changes flow. The dispatcher polls every
 *    `--dispatch-interval-ms` (1000, the shipped default), which bounds the latency from below.
 * 2. Throughput: `--backlog` changes made while the dispatcher is idle (a 10-minute interval), then
 *    the server restarted with a 3 s interval (its first round starts once start-up work is done,
 *    and drains the whole backlog): events per second from the first delivery to the last, and the
 *    server's CPU time per delivered event over that span (from /proc), which says what a given
 *    event rate costs the verify path on the same cores.
 * 3. Verify while events flow: rounds of `--seconds` of POST /v1/verify (autocannon, a cached key)
 *    alone; with `--change-rate` changes per second and the endpoint disabled (events written, none
 *    delivered); and with the same changes delivered. Ratios are medians of the rounds' own ratios.
 *   node dist/bench/events.js [--database-url postgres://…] [--changes 500] [--workers 4]
 *     [--backlog 2000] [--dispatch-interval-ms 1000] [--seconds 3] [--rounds 6] [--change-rate 20]
 */
const options = benchOptions({
  'database-url': 'value',
  changes: 'value',
  workers: 'value',
  backlog: 'value',
  'dispatch-interval-ms': 'value',
  seconds: 'value',
  rounds: 'value',
  'change-rate': 'value',
});
const adminUrl = options.text('database-url');
const changes = options.number('changes', 500);
const workers = options.number('workers', 4);
const backlog = options.number('backlog', 2000);
const dispatchIntervalMs = options.number('dispatch-interval-ms', 1000);
const seconds = options.number('seconds', 3);
const rounds = options.number('rounds', 6);
const changeRate = options.number('change-rate', 20);

/** Every event the receiver got: its id, the key name the change set, and when it arrived. */
interface Arrival {
  id: string;
  name: string;
  at: number;
}

/** A webhook receiver that answers 204 at once, notes each arrival, and calls `onArrival` after. */
async function startReceiver(): Promise<{
  server: Server;
  url: string;
  arrivals: Arrival[];
  onArrival: { call: (arrival: Arrival) => void };
}> {
  const arrivals: Arrival[] = [];
  const onArrival: { call: (arrival: Arrival) => void } = { call: () => undefined };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const at = performance.now();
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        id: string;
        data: { key?: { name: string } };
      };
      const arrival = { id: event.id, name: event.data.key?.name ?? '', at };
      arrivals.push(arrival);
      onArrival.call(arrival);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals, onArrival };
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!;
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, failing past `limitMs`. */
async function until(limitMs: number, check: () => boolean): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`not reached within ${limitMs} ms`);
    await sleep(2);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  const receiver = await startReceiver();
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-events-'));
  let dropDatabase = async () => undefined;
  const env: NodeJS.ProcessEnv = { KEYWARD_WEBHOOK_ALLOW_PRIVATE: 'true', KEYWARD_WEBHOOK_ALLOW_HTTP: 'true' };
  if (adminUrl) {
    const name = `kw_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    dropDatabase = async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    };
  }
  const start = (intervalMs: number) =>
    serve(dataDir, { ...env, KEYWARD_WEBHOOK_DISPATCH_INTERVAL_MS: String(intervalMs) });

  let server = await start(dispatchIntervalMs);
  try {
    const rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
    let client = new Keyward({ baseUrl: server.url, rootKey, retries: 0 });
    const keys = await Promise.all(
      Array.from({ length: workers }, (_, index) => client.keys.create({ name: `bench ${index}`, scopes: ['a:b'] })),
    );
    const hook = await client.webhooks.create({ url: `${receiver.url}/events`, eventTypes: ['key.updated'] });

    // 1. Latency, changes back to back from `workers` clients.
    const sentAt = new Map<string, number>();
    const ackedAt = new Map<string, number>();
    let sequence = 0;
    const change = async (worker: number, tag: string) => {
      sequence += 1;
      const name = `${tag} ${sequence}`;
      sentAt.set(name, performance.now());
      await client.keys.update(keys[worker]!.id, { name });
      ackedAt.set(name, performance.now());
    };
    const cpuBefore = cpuSeconds(server.child.pid!);
    const firstSent = performance.now();
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        for (let index = worker; index < changes; index += workers) await change(worker, 'latency');
      }),
    );
    const acked = performance.now();
    await until(
      60_000,
      () => receiver.arrivals.filter((arrival) => arrival.name.startsWith('latency ')).length >= changes,
    );
    const cpuPerChange = ((cpuSeconds(server.child.pid!) - cpuBefore) * 1e6) / changes;
    const latencyArrivals = receiver.arrivals.filter((arrival) => arrival.name.startsWith('latency '));
    const latencies = latencyArrivals.map((arrival) => arrival.at - sentAt.get(arrival.name)!);
    // From the change's answer: the delivery's own share (negative when it arrived before the answer did).
    const fromAck = latencyArrivals.map((arrival) => arrival.at - ackedAt.get(arrival.name)!);
    const lastArrival = Math.max(...latencyArrivals.map((arrival) => arrival.at));
    const flowRate = changes / ((lastArrival - firstSent) / 1000);
    const changeRateSeen = changes / ((acked - firstSent) / 1000);

    // 2. Throughput, a backlog drained after a restart.
    await stop(server.child);
    server = await start(600_000);
    client = new Keyward({ baseUrl: server.url, rootKey, retries: 0 });
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        for (let index = worker; index < backlog; index += workers) await change(worker, 'backlog');
      }),
    );
    await stop(server.child);
    server = await start(3_000);
    const drainingPid = server.child.pid!;
    // CPU read at the first and the last delivery, in the receiver's handler, as each arrives.
    const cpuAt = { first: 0, last: 0, count: 0 };
    receiver.onArrival.call = (arrival) => {
      if (!arrival.name.startsWith('backlog ')) return;
      cpuAt.count += 1;
      if (cpuAt.count === 1) cpuAt.first = cpuSeconds(drainingPid);
      if (cpuAt.count === backlog) cpuAt.last = cpuSeconds(drainingPid);
    };
    await until(
      120_000,
      () => receiver.arrivals.filter((arrival) => arrival.name.startsWith('backlog ')).length >= backlog,
    );
    const drained = receiver.arrivals.filter((arrival) => arrival.name.startsWith('backlog '));
    const firstDrained = Math.min(...drained.map((arrival) => arrival.at));
    const lastDrained = Math.max(...drained.map((arrival) => arrival.at));
    const drainRate = (backlog - 1) / ((lastDrained - firstDrained) / 1000);
    const cpuPerEvent = ((cpuAt.last - cpuAt.first) * 1e6) / (backlog - 1);
    receiver.onArrival.call = () => undefined;

    // 3. Verify alone, with changes but no delivery, and with changes delivered.
    await stop(server.child);
    server = await start(dispatchIntervalMs);
    client = new Keyward({ baseUrl: server.url, rootKey, retries: 0 });
    const verified = await client.keys.create({ name: 'verified', scopes: ['contacts:read'] });
    const body = JSON.stringify({ key: verified.key, scopes: ['contacts:read'] });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${rootKey}` };
    const verify = async () => {
      const result = await autocannon({
        url: `${server.url}/v1/verify`,
        method: 'POST',
        headers,
        body,
        connections: 16,
        duration: seconds,
      });
      if (result.non2xx > 0 || result.errors > 0) throw new Error('verifications failed under load');
      return result.requests.average;
    };
    /** Renames keys at `changeRate` per second (spread over the workers) until `stop.done`. */
    const paced = (flag: { done: boolean }) =>
      Promise.all(
        Array.from({ length: workers }, async (_, worker) => {
          const gapMs = (1000 * workers) / changeRate;
          while (!flag.done) {
            const began = performance.now();
            await change(worker, 'paced');
            await sleep(Math.max(0, gapMs - (performance.now() - began)));
          }
        }),
      );
    const withChanges = async (enabled: boolean) => {
      await client.webhooks.update(hook.id, { enabled });
      const flag = { done: false };
      const running = paced(flag);
      const before = receiver.arrivals.length;
      const rate = await verify();
      flag.done = true;
      await running;
      return { rate, delivered: receiver.arrivals.length - before };
    };
    await verify(); // warm-up, not counted
    const measured: { alone: number; written: number; delivered: number; deliveredEvents: number }[] = [];
    for (let round = 0; round < rounds; round += 1) {
      // The three in a rotating order, so drift in the machine's speed does not favour one.
      const result = { alone: 0, written: 0, delivered: 0, deliveredEvents: 0 };
      const steps = [
        async () => {
          result.alone = await verify();
        },
        async () => {
          result.written = (await withChanges(false)).rate;
        },
        async () => {
          const delivered = await withChanges(true);
          result.delivered = delivered.rate;
          result.deliveredEvents = delivered.delivered;
        },
      ];
      for (let step = 0; step < steps.length; step += 1) await steps[(round + step) % steps.length]!();
      measured.push(result);
    }

    const duplicates = receiver.arrivals.length - new Set(receiver.arrivals.map((arrival) => arrival.id)).size;
    const ms = (value: number) => value.toFixed(0);
    const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
    console.log(
      `node ${process.version}, store ${adminUrl ? 'Postgres' : 'PGlite'}, dispatch interval ${dispatchIntervalMs} ms, ${workers} change workers`,
    );
    console.log('| measure | figure |');
    console.log('|---|---:|');
    console.log(`| latency change → receiver, ${changes} changes: p50 | ${ms(percentile(latencies, 0.5))} ms |`);
    console.log(`| latency p99 | ${ms(percentile(latencies, 0.99))} ms |`);
    console.log(`| latency max | ${ms(Math.max(...latencies))} ms |`);
    console.log(
      `| latency from the change's answer → receiver: p50 / p99 | ${ms(percentile(fromAck, 0.5))} / ${ms(percentile(fromAck, 0.99))} ms |`,
    );
    console.log(
      `| delivery rate while changes flow (changes acknowledged at ${changeRateSeen.toFixed(0)}/s) | ${flowRate.toFixed(0)} events/s |`,
    );
    console.log(
      `| backlog of ${backlog} drained in one dispatcher round, first to last delivery | ${drainRate.toFixed(0)} events/s |`,
    );
    console.log(
      `| server CPU per change (the PATCH, its audit entry and event, and its delivery) | ${cpuPerChange.toFixed(0)} µs |`,
    );
    console.log(`| server CPU per delivered event, while draining | ${cpuPerEvent.toFixed(0)} µs |`);
    console.log(`| so ${changeRate} events/s cost | ${((cpuPerEvent * changeRate) / 1e4).toFixed(2)}% of a core |`);
    console.log(`| duplicate deliveries (same event id twice) | ${duplicates} |`);
    console.log('');
    console.log(
      `verify, ${rounds} rounds of ${seconds} s each, 16 connections; changes at ${changeRate}/s in two of the three (order rotated each round)`,
    );
    console.log('| round | verify alone/s | + changes, not delivered/s | + changes, delivered/s | events delivered |');
    console.log('|---|---:|---:|---:|---:|');
    for (const [index, round] of measured.entries())
      console.log(
        `| ${index + 1} | ${round.alone.toFixed(0)} | ${round.written.toFixed(0)} | ${round.delivered.toFixed(0)} | ${round.deliveredEvents} |`,
      );
    console.log(
      `ratio delivered/alone: median ${percent(median(measured.map((round) => round.delivered / round.alone)))}; delivered/not delivered: median ${percent(median(measured.map((round) => round.delivered / round.written)))}`,
    );
  } finally {
    await stop(server.child);
    receiver.server.close();
    await dropDatabase();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
