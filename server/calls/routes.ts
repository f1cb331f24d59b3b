import type { FastifyPluginAsync, preHandlerHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  CallerListSchema,
  CallPageSchema,
  CallStatsQuerySchema,
  CallStatsSchema,
  ErrorBodySchema,
  KeyIdParamsSchema,
  ListCallersQuerySchema,
  ListCallsQuerySchema,
  ListKeyCallsQuerySchema,
  type ManagementScope,
} from '../../schema';
import { KeywardError } from '../errors';
import { findKey } from '../keys/repository';
import type { Db } from '../store/database';
import { callersOf, hourlyCounts } from './aggregate';
import type { CallRecorder } from './recorder';
import { listCalls } from './repository';

/** Callers are looked for this far back unless the query says. */
const CALLERS_DEFAULT_DAYS = 7;

/**
 * The call log: GET /v1/calls and GET /v1/keys/{id}/calls, newest first; and its summaries:
 * GET /v1/keys/{id}/callers (who still uses a key, and from where) and GET /v1/calls/stats.
 */
export const callRoutes: FastifyPluginAsync<{
  db: Db;
  recorder: CallRecorder;
  guard: (scope: ManagementScope) => preHandlerHookHandler;
}> = async (app, { db, recorder, guard }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema };

  api.get('/v1/calls', {
    preHandler: guard('calls:read'),
    schema: {
      tags: ['calls'],
      summary: 'List verifications with caller IPs',
      querystring: ListCallsQuerySchema,
      response: { 200: CallPageSchema, ...errors },
    },
    handler: async (request) => {
      // Reads see this process's buffered calls: flush before listing.
      await recorder.flush();
      return listCalls(db, request.actor.workspaceId, request.query);
    },
  });

  api.get('/v1/keys/:id/calls', {
    preHandler: guard('calls:read'),
    schema: {
      tags: ['calls'],
      summary: "List one key's verifications",
      params: KeyIdParamsSchema,
      querystring: ListKeyCallsQuerySchema,
      response: { 200: CallPageSchema, ...errors },
    },
    handler: async (request) => {
      const key = await findKey(db, { workspaceId: request.actor.workspaceId, kind: 'api', id: request.params.id });
      if (!key) throw KeywardError.keyNotFound(request.params.id);
      await recorder.flush();
      return listCalls(db, request.actor.workspaceId, { ...request.query, keyId: key.id });
    },
  });

  api.get('/v1/keys/:id/callers', {
    preHandler: guard('calls:read'),
    schema: {
      tags: ['calls'],
      summary: 'Who used a key, and from where: each caller IP with its call count and latest call',
      params: KeyIdParamsSchema,
      querystring: ListCallersQuerySchema,
      response: { 200: CallerListSchema, ...errors },
    },
    handler: async (request) => {
      const key = await findKey(db, { workspaceId: request.actor.workspaceId, kind: 'api', id: request.params.id });
      if (!key) throw KeywardError.keyNotFound(request.params.id);
      await recorder.flush();
      const since = request.query.since
        ? Date.parse(request.query.since)
        : Date.now() - CALLERS_DEFAULT_DAYS * 86_400_000;
      const found = await callersOf(db, request.actor.workspaceId, key.id, since, request.query.limit);
      return { since: new Date(since).toISOString(), ...found };
    },
  });

  api.get('/v1/calls/stats', {
    preHandler: guard('calls:read'),
    schema: {
      tags: ['calls'],
      summary: 'Calls per hour by result code, for the workspace or one key',
      querystring: CallStatsQuerySchema,
      response: { 200: CallStatsSchema, ...errors },
    },
    handler: async (request) => {
      const { keyId } = request.query;
      if (keyId && !(await findKey(db, { workspaceId: request.actor.workspaceId, kind: 'api', id: keyId })))
        throw KeywardError.keyNotFound(keyId);
      await recorder.flush();
      return hourlyCounts(db, request.actor.workspaceId, request.query, Date.now());
    },
  });
};
