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
import { rootKeyGuard } from './http/auth';
import { installErrorHandling } from './http/errors';
import { keyRoutes } from './keys/routes';
import type { KeyService } from './keys/service';
import type { Metrics } from './metrics';
import type { Db } from './store/database';
import type { Verifier } from './verify/pipeline';
import { verifyRoutes } from './verify/routes';

export interface AppDependencies {
  config: Config;
  db: Db;
  keys: KeyService;
  verifier: Verifier;
  recorder: CallRecorder;
  metrics: Metrics;
  logger: FastifyBaseLogger;
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

  const guard = rootKeyGuard(deps.verifier, deps.recorder);
  await app.register(keyRoutes, { prefix: '/v1/keys', kind: 'api', keys: deps.keys, guard });
  await app.register(keyRoutes, { prefix: '/v1/root-keys', kind: 'root', keys: deps.keys, guard });
  await app.register(verifyRoutes, {
    verifier: deps.verifier,
    recorder: deps.recorder,
    guard,
    onOutcome: (code) => deps.metrics.verifications.inc({ code }),
  });
  await app.register(auditRoutes, { db: deps.db, guard });
  await app.register(callRoutes, { db: deps.db, recorder: deps.recorder, guard });
  await app.register(healthRoutes, { db: deps.db, registry: deps.metrics.registry });
  return app;
}
