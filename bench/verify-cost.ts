import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyward } from '../sdk';
import { startServer } from '../server';
import { bareHandler } from './bare-server';
import { benchOptions } from './options';

/*
 * bench/verify-cost: the CPU time keyward's own code spends on one verification of a cached key,
 * with the network taken out. Requests are handed to the server's real request listener (the
 * verify lane, the root-key check, the pipeline, the call log and metrics) as in-memory request
 * and response objects, and the bare server's handler gets the same objects as the baseline, in
 * alternating rounds. Where bench/verify swings with the machine's network stack and scheduler,
 * this figure is steady: it is the part of a verification that keyward's code can change.
 *   node dist/bench/verify-cost.js [--requests 100000] [--rounds 5]
 */
const options = benchOptions({ requests: 'value', rounds: 'value' });
const requests = options.number('requests', 100_000);
const rounds = options.number('rounds', 5);

type Listener = (request: IncomingMessage, response: ServerResponse) => unknown;

/** The connection every request arrives on, as bench/verify's keep-alive connections carry many requests each. */
const socket = { remoteAddress: '127.0.0.1' };

/** Header values as bytes: each request decodes its own strings, as node's parser makes new ones per request (a string met before costs less to hash and compare). */
type RawHeaders = readonly (readonly [string, Buffer])[];

/**
 * One request through `listener`, from in-memory objects; `answered` gets the answer's body. The
 * verify lane answers at the end of the event loop's turn (server/verify/fast/end-of-turn.ts), so
 * the answer may come after this returns.
 */
function send(listener: Listener, rawHeaders: RawHeaders, body: Buffer, answered?: (payload: string) => void): void {
  const headers: Record<string, string> = {};
  for (const [name, value] of rawHeaders) headers[name] = value.toString('latin1');
  const request = Object.assign(new EventEmitter(), { method: 'POST', url: '/v1/verify', headers, socket });
  const response = {
    headersSent: false,
    writeHead() {
      this.headersSent = true;
      return this;
    },
    end(payload: string) {
      answered?.(payload);
    },
  };
  listener(request as unknown as IncomingMessage, response as unknown as ServerResponse);
  request.emit('data', body);
  request.emit('end');
}

/**
 * µs per request over `requests` requests, yielding now and then so timers (call-log flushes) run
 * as they would, and the verify lane answers the requests handed to it since the last yield.
 */
async function time(listener: Listener, headers: RawHeaders, body: Buffer): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i += 1) {
    send(listener, headers, body);
    if ((i & 1023) === 1023) await new Promise((resolve) => setImmediate(resolve));
  }
  // The requests handed in since the last yield are answered within this round's time.
  await new Promise((resolve) => setImmediate(resolve));
  return Number(process.hrtime.bigint() - started) / requests / 1000;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-cost-'));
  const server = await startServer({ port: 0, host: '127.0.0.1', dataDir, logLevel: 'warn' }, { env: {} });
  try {
    const rootKey = server.bootstrapRootKey!;
    const client = new Keyward({ baseUrl: server.url, rootKey });
    const key = await client.keys.create({
      name: 'bench',
      scopes: ['contacts:*', 'email:send'],
      ipAllowlist: ['10.0.0.0/8', '2001:db8::/32'],
    });
    const body = Buffer.from(
      JSON.stringify({ key: key.key, scopes: ['contacts:read'], ip: '10.1.2.3', method: 'GET', path: '/contacts' }),
    );
    const headers = Object.entries({
      host: '127.0.0.1',
      'content-type': 'application/json',
      authorization: `Bearer ${rootKey}`,
      'content-length': String(body.length),
    }).map(([name, value]) => [name, Buffer.from(value, 'latin1')] as const);
    const keyward = server.app.server.listeners('request')[0] as Listener;
    // Warm the caches over HTTP, then check that the in-memory path answers as the server does.
    const warm = await client.verify({ key: key.key, scopes: ['contacts:read'], ip: '10.1.2.3' });
    const answer = JSON.parse(await new Promise<string>((resolve) => send(keyward, headers, body, resolve))) as {
      code?: string;
    };
    if (warm.code !== 'VALID' || answer.code !== 'VALID')
      throw new Error(`bench key does not verify: ${warm.code} / ${answer.code}`);
    const bare = bareHandler(JSON.stringify(warm)) as Listener;
    const measured = { keyward: [] as number[], bare: [] as number[] };
    await time(keyward, headers, body);
    await time(bare, headers, body);
    for (let round = 0; round < rounds; round += 1) {
      measured.keyward.push(await time(keyward, headers, body));
      measured.bare.push(await time(bare, headers, body));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const k = median(measured.keyward);
    const b = median(measured.bare);
    console.log(
      `node ${process.version}, PGlite, ${rounds} x ${requests} requests per handler, alternating, in-process (no sockets)`,
    );
    console.log('| handler | µs per request (median round) |');
    console.log('|---|---:|');
    console.log(`| keyward's request listener, POST /v1/verify (cached key) | ${k.toFixed(2)} |`);
    console.log(`| bare node:http handler, same body and JSON | ${b.toFixed(2)} |`);
    console.log(`keyward's own work per verification: ${(k - b).toFixed(2)} µs; keyward/bare: ${(k / b).toFixed(1)}x`);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
