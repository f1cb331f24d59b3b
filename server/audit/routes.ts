import type { FastifyPluginAsync, preHandlerHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  AuditPageSchema,
  AuditVerificationSchema,
  ErrorBodySchema,
  ListAuditQuerySchema,
  type ManagementScope,
} from '../../schema';
import type { Db } from '../store/database';
import { listAudit } from './log';
import { verifyWorkspaceAudit } from './verify';

/** GET /v1/audit: the workspace's hash-chained management log, oldest or newest first; GET /v1/audit/verify checks the chain. */
export const auditRoutes: FastifyPluginAsync<{
  db: Db;
  guard: (scope: ManagementScope) => preHandlerHookHandler;
}> = async (app, { db, guard }) => {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/audit', {
    preHandler: guard('audit:read'),
    schema: {
      tags: ['audit'],
      summary: 'List management actions in chain order, or newest first; verify with `keyward audit verify`',
      querystring: ListAuditQuerySchema,
      response: { 200: AuditPageSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
    },
    handler: async (request) => listAudit(db, request.actor.workspaceId, request.query),
  });

  app.withTypeProvider<ZodTypeProvider>().get('/v1/audit/verify', {
    preHandler: guard('audit:read'),
    schema: {
      tags: ['audit'],
      summary: "Check the workspace's whole hash chain on the server, up to its recorded head",
      response: { 200: AuditVerificationSchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
    },
    handler: async (request) => verifyWorkspaceAudit(db, request.actor.workspaceId),
  });
};
