import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { EndOfTurn } from '../server/verify/fast/end-of-turn';

/**
 * The baseline for bench/verify: a bare node:http server that reads the request body and answers
 * with a fixed verify response, with no validation, auth, lookup or logging.
 */

/**
 * The bare handler: read the body, parse it, answer the fixed response. bench/verify-cost runs it
 * in-process too. `busyMicros` adds that much busy-waiting per request: bench/verify --spin uses it
 * to show what a given amount of per-request work costs in throughput on this machine. With
 * `atEndOfTurn`, the requests whose bodies end in one turn of the event loop are answered together
 * after it, as keyward's verify lane answers them: bench/verify shows what that alone is worth.
 */
export function bareHandler(
  response: string,
  busyMicros = 0,
  atEndOfTurn = false,
): (request: IncomingMessage, reply: ServerResponse) => void {
  const busyNanos = BigInt(Math.round(busyMicros * 1000));
  const answer = (chunks: Buffer[], reply: ServerResponse) => {
    JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (busyNanos > 0n) {
      const until = process.hrtime.bigint() + busyNanos;
      while (process.hrtime.bigint() < until);
    }
    reply.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(response),
    });
    reply.end(response);
  };
  // Only the deferred handler pays for an item per request: the plain baseline stays as it was.
  const endOfTurn = new EndOfTurn<{ chunks: Buffer[]; reply: ServerResponse }>((item) =>
    answer(item.chunks, item.reply),
  );
  return (request, reply) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => (atEndOfTurn ? endOfTurn.add({ chunks, reply }) : answer(chunks, reply)));
  };
}

if (require.main === module) {
  const server = createServer(
    bareHandler(
      process.env.BENCH_RESPONSE ?? '{}',
      Number(process.env.BENCH_BUSY_MICROS ?? 0),
      process.env.BENCH_END_OF_TURN === '1',
    ),
  );
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(
      `listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`,
    );
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
