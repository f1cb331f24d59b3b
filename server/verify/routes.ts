import type { FastifyPluginAsync, FastifyRequest, LogLevel, preHandlerHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ErrorBodySchema, type ManagementScope, type VerifyCode, type VerifyResponse, VerifyRequestSchema, VerifyResponseSchema } from '../../schema';
import type { BruteForceGuard } from './brute-force';
import type { CallRecorder } from '../calls/recorder';
import { presentedStart } from '../keys/format';
import { effectiveStatus } from '../keys/record';
import type { VerifyOutcome, Verifier } from './pipeline';

export interface VerifyRoutesOptions {
  verifier: Verifier;
  recorder: CallRecorder;
  guard: (scope: ManagementScope) => preHandlerHookHandler;
  bruteForce: BruteForceGuard;
  onOutcome: (code: VerifyCode) => void;
  /** The route's log level: fastify's two request lines per verification only when debugging (the call log has every verification). */
  requestLogLevel: LogLevel;
  /** A source or key prefix just crossed its failure limit. */
  onThrottled: (request: FastifyRequest, reason: 'ip' | 'prefix', source: { ip: string | null; prefix: string | null }) => void;
}

/** Outcomes that count toward brute-force throttling: guessing keys, forging or replaying signatures. */
const GUESSES: ReadonlySet<VerifyCode> = new Set(['MALFORMED', 'NOT_FOUND', 'SIGNATURE_INVALID', 'REPLAYED']);

/** The answer when the source is throttled: the pipeline is not run at all. */
const BLOCKED = { valid: false, code: 'BLOCKED', key: null, rateLimit: null } as const;

/** Shapes a pipeline outcome as the API answers it. */
export function verifyResponse(outcome: VerifyOutcome | typeof BLOCKED, now: number): VerifyResponse {
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
export const verifyRoutes: FastifyPluginAsync<VerifyRoutesOptions> = async (app, { verifier, recorder, guard, bruteForce, onOutcome, onThrottled, requestLogLevel }) => {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/verify', {
    preHandler: guard('verify'),
    logLevel: requestLogLevel,
    // The hot path: the answer is built by verifyResponse(), typed as VerifyResponse, so a plain
    // JSON.stringify is safe here; the zod response schema still documents it in OpenAPI.
    serializerCompiler: () => (data) => JSON.stringify(data),
    schema: {
      tags: ['verify'],
      summary: 'Verify an API key against scopes and the caller IP',
      body: VerifyRequestSchema,
      response: { 200: VerifyResponseSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
    },
    // Not async: a cached key is verified synchronously, and the answer is sent without a promise.
    handler: (request, reply) => {
      const started = performance.now();
      const { key, scopes, ip, request: signed } = request.body;
      const now = Date.now();
      // Brute force: the end client's address when the caller passes it, else the caller's own.
      const source = { ip: ip ?? request.ip ?? null, prefix: key === undefined ? null : presentedStart(key) };
      const finish = (outcome: VerifyOutcome | typeof BLOCKED): VerifyResponse => {
        if (GUESSES.has(outcome.code)) {
          // Only an unknown key counts against its prefix: a real key's prefix is not being guessed.
          const throttled = bruteForce.failed(source.ip, outcome.key === null ? source.prefix : null, now);
          if (throttled) onThrottled(request, throttled, source);
        }
        onOutcome(outcome.code);
        recorder.record({
          workspaceId: request.actor.workspaceId,
          at: new Date(now),
          keyId: outcome.key?.id ?? null,
          keyStart: outcome.key?.start ?? source.prefix,
          ip: ip ?? null,
          scopes: scopes ?? [],
          // The signed request, when given, says what the call was; method and path default to it.
          method: request.body.method ?? signed?.method ?? null,
          path: request.body.path ?? (signed ? new URL(signed.url).pathname : null),
          code: outcome.code,
          latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
        });
        return verifyResponse(outcome, now);
      };
      const outcome =
        bruteForce.blocked(source.ip, source.prefix, now) !== null
          ? BLOCKED
          : verifier.verify({ key, request: signed, kind: 'api', workspaceId: request.actor.workspaceId, ip, scopes }, now);
      if (outcome instanceof Promise) return outcome.then(finish);
      void reply.send(finish(outcome));
      return undefined;
    },
  });
};
