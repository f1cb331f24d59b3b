import type { FastifyPluginAsync, preHandlerHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  CallPageSchema,
  ErrorBodySchema,
  KeyIdParamsSchema,
  ListCallsQuerySchema,
  ListKeyCallsQuerySchema,
  type ManagementScope,
} from '../../schema';
import { KeywardError } from '../errors';
import { findKey } from '../keys/repository';
import type { Db } from '../store/database';
import type { CallRecorder } from './recorder';
import { listCalls } from './repository';

/** The call log: GET /v1/calls and GET /v1/keys/{id}/calls, newest first. */
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
};
