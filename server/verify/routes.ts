import type { FastifyPluginAsync, LogLevel, preHandlerHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ErrorBodySchema, type ManagementScope, VerifyRequestSchema, VerifyResponseSchema } from '../../schema';
import { type VerifyService, verifyResponse } from './service';

export interface VerifyRoutesOptions {
  service: VerifyService;
  guard: (scope: ManagementScope) => preHandlerHookHandler;
  /** The route's log level for fastify's own request lines. */
  requestLogLevel: LogLevel;
}

/**
 * POST /v1/verify: the hot path. Always 200 for a well-formed request; `code` carries the verdict.
 * Most requests are answered by the verify lane (./fast/lane.ts) before they reach fastify; this
 * route declares the API for OpenAPI and answers what the lane passes on.
 */
export const verifyRoutes: FastifyPluginAsync<VerifyRoutesOptions> = async (
  app,
  { service, guard, requestLogLevel },
) => {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/verify', {
    preHandler: guard('verify'),
    logLevel: requestLogLevel,
    // The answer is made by verifyResponse() and typed; it is written as JSON.stringify writes it,
    // as the lane writes it. The zod response schema documents it in OpenAPI.
    serializerCompiler: () => (data) => JSON.stringify(data),
    schema: {
      tags: ['verify'],
      summary: 'Verify an API key against scopes and the caller IP',
      body: VerifyRequestSchema,
      response: { 200: VerifyResponseSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
    },
    handler: async (request) => {
      const now = Date.now();
      return verifyResponse(await service.answer(request.body, request.actor, now), now);
    },
  });
};
