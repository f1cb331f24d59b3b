import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * The baseline for bench/verify: a bare node:http server that reads the request body and answers
 * with a fixed verify response, with no validation, auth, lookup or logging.
 */

/** The bare handler: read the body, parse it, answer the fixed response. bench/verify-cost runs it in-process too. */
export function bareHandler(response: string): (request: IncomingMessage, reply: ServerResponse) => void {
  return (request, reply) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      reply.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(response) });
      reply.end(response);
    });
  };
}

if (require.main === module) {
  const server = createServer(bareHandler(process.env.BENCH_RESPONSE ?? '{}'));
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
