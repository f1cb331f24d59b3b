import Fastify from 'fastify';

/**
 * The second baseline for bench/verify: fastify with one POST route that answers a fixed verify
 * response after fastify's own JSON body parsing, with no hooks, validation, auth, lookup or
 * logging. The gap between it and the bare server is fastify's; the gap between it and keyward is
 * keyward's own work.
 */
const response = process.env.BENCH_RESPONSE ?? '{}';
const app = Fastify({ logger: false });
app.post('/v1/verify', (_request, reply) => {
  void reply.header('content-type', 'application/json; charset=utf-8').send(response);
});
app.listen({ port: 0, host: '127.0.0.1' }).then((address) => process.stdout.write(`listening on ${address}\n`));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
