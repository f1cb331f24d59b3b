import { randomBytes } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { auditRoutes } from './audit/routes';
import { KeywardError } from './errors';
import type { CallRecorder } from './calls/recorder';
import { callRoutes } from './calls/routes';
import type { Config } from './config';
import { healthRoutes } from './health/routes';
import { requestOrigin, rootKeyGuard } from './http/auth';
import { frameworkErrors, installErrorHandling } from './http/errors';
import { keyRoutes } from './keys/routes';
import type { KeyService } from './keys/service';
import type { Metrics } from './metrics';
import type { Db } from './store/database';
import type { Verifier } from './verify/pipeline';
import { verifyRoutes } from './verify/routes';
import { workspaceRoutes } from './workspaces/routes';
import type { BruteForceGuard } from './verify/brute-force';
import { auditSecurityEvent } from './audit/log';

export interface AppDependencies {
  config: Config;
  db: Db;
  keys: KeyService;
  verifier: Verifier;
  recorder: CallRecorder;
  metrics: Metrics;
  logger: FastifyBaseLogger;
  bruteForce: BruteForceGuard;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Request ids are a random per-process prefix and a counter: unique, and no randomness per request. */
const requestIdPrefix = randomBytes(6).toString('base64url');
let requestCounter = 0;

/** Builds the HTTP app: every route, the OpenAPI document at /openapi.json and docs at /docs. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.bodyLimitBytes,
    trustProxy: deps.config.trustedProxies.length > 0 ? deps.config.trustedProxies : false,
    // A caller's own request id is kept when it is safe to log, so traces join up.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
      requestCounter += 1;
      return `req_${requestIdPrefix}${requestCounter.toString(36)}`;
    },
    requestIdHeader: false,
    frameworkErrors,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  // Bodiless POSTs (suspend, revoke…) arrive with whatever Content-Type a client sets by default;
  // an empty body is fine whatever its type, a non-empty one must be JSON.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
    if (body.length === 0) done(null, undefined);
    else done(new KeywardError('KW_ERR_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'), undefined);
  });

  // Callback-style hooks: on the verify hot path an async hook costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    deps.metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'keyward', version: '1', description: 'Scoped, IP-limited, rotatable API keys with call and audit logs.' },
      components: { securitySchemes: { rootKey: { type: 'http', scheme: 'bearer', description: 'A root key (kw_root_…)' } } },
      security: [{ rootKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const bruteForce = deps.bruteForce;
  const guard = rootKeyGuard(deps.verifier, deps.recorder, bruteForce, (request, until) => {
    deps.logger.warn({ ip: request.ip, until: until.toISOString() }, 'too many failed root-key attempts: source locked out of the management API');
    void auditSecurityEvent(deps.db, null, requestOrigin(request), {
      action: 'security.root_key_lockout',
      changes: { ip: request.ip ?? null, lockedUntil: until.toISOString() },
    }).catch((error: unknown) => deps.logger.error({ err: error }, 'auditing a lockout failed'));
  });
  await app.register(keyRoutes, { prefix: '/v1/keys', kind: 'api', keys: deps.keys, guard });
  await app.register(keyRoutes, { prefix: '/v1/root-keys', kind: 'root', keys: deps.keys, guard });
  await app.register(verifyRoutes, {
    // At info, fastify would write two lines per verification, several times the cost of the
    // verification itself; the call log already records each one. Warnings and errors still show.
    requestLogLevel: deps.config.logLevel === 'info' ? 'warn' : deps.config.logLevel,
    verifier: deps.verifier,
    recorder: deps.recorder,
    guard,
    bruteForce,
    onOutcome: (code) => deps.metrics.verifications.inc({ code }),
    onThrottled: (request, reason, source) => {
      deps.logger.warn({ ip: source.ip, keyPrefix: source.prefix, reason }, 'too many failed verifications: throttled');
      void auditSecurityEvent(deps.db, request.actor.workspaceId, { ip: request.ip ?? null, userAgent: null, requestId: request.id }, {
        action: 'security.verify_throttled',
        changes: { reason, ip: reason === 'ip' ? source.ip : null, keyPrefix: reason === 'prefix' ? source.prefix : null },
      }).catch((error: unknown) => deps.logger.error({ err: error }, 'auditing a throttle failed'));
    },
  });
  await app.register(workspaceRoutes, { keys: deps.keys, guard });
  await app.register(auditRoutes, { db: deps.db, guard });
  await app.register(callRoutes, { db: deps.db, recorder: deps.recorder, guard });
  await app.register(healthRoutes, { db: deps.db, registry: deps.metrics.registry });
  return app;
}
