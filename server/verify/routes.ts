import type { FastifyPluginAsync, LogLevel, preHandlerHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ErrorBodySchema, type ManagementScope, VerifyRequestSchema, VerifyResponseSchema } from '../../schema';
import { type VerifyService, verifyResponseJson } from './service';

export interface VerifyRoutesOptions {
  answer: VerifyService;
  guard: (scope: ManagementScope) => preHandlerHookHandler;
  /** The route's log level: fastify's two request lines per verification only when debugging (the call log has every verification). */
  requestLogLevel: LogLevel;
}

/**
 * POST /v1/verify: the hot path. Always 200 for a well-formed request; `code` carries the verdict.
 * Most requests are answered by the verify lane (./lane.ts) before they reach fastify; this route
 * declares the API for OpenAPI and answers what the lane passes on.
 */
export const verifyRoutes: FastifyPluginAsync<VerifyRoutesOptions> = async (
  app,
  { answer, guard, requestLogLevel },
) => {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/verify', {
    preHandler: guard('verify'),
    logLevel: requestLogLevel,
    // The answer is built by verifyResponse(), typed as VerifyResponse, so its plain JSON (shared
    // answers are serialized once) is safe here; the zod response schema still documents it in OpenAPI.
    serializerCompiler: () => (data) => verifyResponseJson(data as Parameters<typeof verifyResponseJson>[0]),
    schema: {
      tags: ['verify'],
      summary: 'Verify an API key against scopes and the caller IP',
      body: VerifyRequestSchema,
      response: { 200: VerifyResponseSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
    },
    // Not async: a cached key is verified synchronously, and the answer is sent without a promise.
    handler: (request, reply) => {
      const response = answer(request.body, request.actor);
      if (response instanceof Promise) return response;
      void reply.send(response);
      return undefined;
    },
  });
};
