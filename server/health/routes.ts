import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { Registry } from 'prom-client';
import type { Db } from '../store/database';

/** Liveness, readiness (the store answers) and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsync<{ db: Db; registry: Registry }> = async (app, { db, registry }) => {
  const hidden = { hide: true } as const;
  app.get('/healthz', { schema: hidden }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: hidden }, async (_request, reply) => {
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
