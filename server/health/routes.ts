import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { Registry } from 'prom-client';
import type { Db } from '../store/database';

/** Liveness, readiness (not draining, and the store answers) and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsync<{
  db: Db;
  registry: Registry;
  readiness: { draining: boolean };
}> = async (app, { db, registry, readiness }) => {
  const hidden = { hide: true } as const;
  app.get('/healthz', { schema: hidden }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: hidden }, async (_request, reply) => {
    // A replica that is stopping says so first, so the load balancer sends it nothing new.
    if (readiness.draining) return reply.code(503).send({ status: 'unavailable', reason: 'draining' });
    try {
      await sql`select 1`.execute(db);
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'the store does not answer' });
    }
  });
  app.get('/metrics', { schema: hidden }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};
