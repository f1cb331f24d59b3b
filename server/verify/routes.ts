import type { FastifyPluginAsync, preHandlerAsyncHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ErrorBodySchema, type ManagementScope, type VerifyResponse, VerifyRequestSchema, VerifyResponseSchema } from '../../schema';
import type { CallRecorder } from '../calls/recorder';
import { presentedStart } from '../keys/format';
import { effectiveStatus } from '../keys/record';
import type { VerifyOutcome, Verifier } from './pipeline';

export interface VerifyRoutesOptions {
  verifier: Verifier;
  recorder: CallRecorder;
  guard: (scope: ManagementScope) => preHandlerAsyncHookHandler;
  onOutcome: (code: VerifyOutcome['code']) => void;
}

/** Shapes a pipeline outcome as the API answers it. */
export function verifyResponse(outcome: VerifyOutcome, now: number): VerifyResponse {
  const key = outcome.key;
  const status = key ? effectiveStatus(key, now) : null;
  return {
    valid: outcome.valid,
    code: outcome.code,
    keyId: key?.id ?? null,
    scopes: outcome.valid ? key!.scopes : [],
    metadata: outcome.valid ? (key!.metadata as VerifyResponse['metadata']) : null,
    expiresAt: key?.expiresAt?.toISOString() ?? null,
    status,
    deprecated: status === 'retiring',
    graceUntil: key?.graceUntil?.toISOString() ?? null,
    successorId: key?.successorId ?? null,
    rateLimit: outcome.rateLimit ? { limit: outcome.rateLimit.limit, remaining: outcome.rateLimit.remaining, resetAt: outcome.rateLimit.resetAt.toISOString() } : null,
  };
}

/** POST /v1/verify: the hot path. Always 200 for a well-formed request; `code` carries the verdict. */
export const verifyRoutes: FastifyPluginAsync<VerifyRoutesOptions> = async (app, { verifier, recorder, guard, onOutcome }) => {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/verify', {
    preHandler: guard('verify'),
    // The hot path: the answer is built by verifyResponse(), typed as VerifyResponse, so a plain
    // JSON.stringify is safe here; the zod response schema still documents it in OpenAPI.
    serializerCompiler: () => (data) => JSON.stringify(data),
    schema: {
      tags: ['verify'],
      summary: 'Verify an API key against scopes and the caller IP',
      body: VerifyRequestSchema,
      response: { 200: VerifyResponseSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
    },
    handler: async (request) => {
      const started = performance.now();
      const { key, scopes, ip, method, path } = request.body;
      const now = Date.now();
      const outcome = await verifier.verify({ key, kind: 'api', workspaceId: request.actor.workspaceId, ip, scopes }, now);
      onOutcome(outcome.code);
      recorder.record({
        workspaceId: request.actor.workspaceId,
        at: new Date(now),
        keyId: outcome.key?.id ?? null,
        keyStart: outcome.key?.start ?? presentedStart(key),
        ip: ip ?? null,
        scopes: scopes ?? [],
        method: method ?? null,
        path: path ?? null,
        code: outcome.code,
        latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
      return verifyResponse(outcome, now);
    },
  });
};
