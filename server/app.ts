import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { auditSecurityEvent } from './audit/log';
import { auditRoutes } from './audit/routes';
import type { CallRecorder } from './calls/recorder';
import { callRoutes } from './calls/routes';
import type { Config } from './config';
import { KeywardError } from './errors';
import { healthRoutes } from './health/routes';
import { rootKeyAuthenticator, rootKeyGuard } from './http/auth';
import { frameworkErrors, installErrorHandling } from './http/errors';
import { keyRoutes } from './keys/routes';
import type { KeyService } from './keys/service';
import type { Metrics } from './metrics';
import type { Db } from './store/database';
import type { BruteForceGuard } from './verify/brute-force';
import { verifyLane } from './verify/lane';
import type { Verifier } from './verify/pipeline';
import { verifyRoutes } from './verify/routes';
import { verifyService } from './verify/service';
import { workspaceRoutes } from './workspaces/routes';
import type { WorkspaceService } from './workspaces/service';

export interface AppDependencies {
  config: Config;
  db: Db;
  keys: KeyService;
  workspaces: WorkspaceService;
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

/** A request's id: the caller's own x-request-id when it is safe to log, so traces join up, else a new one. */
function requestIdFor(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  // A key is shaped like a safe id; it must never become one, as ids are logged and audited.
  if (typeof given === 'string' && REQUEST_ID.test(given) && !given.includes('kw_')) return given;
  requestCounter += 1;
  return `req_${requestIdPrefix}${requestCounter.toString(36)}`;
}

/** Builds the HTTP app: every route, the OpenAPI document at /openapi.json and docs at /docs. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const bruteForce = deps.bruteForce;
  const authenticate = rootKeyAuthenticator(deps.verifier, deps.recorder, bruteForce, (origin, until) => {
    deps.logger.warn(
      { ip: origin.ip, until: until.toISOString() },
      'too many failed root-key attempts: source locked out of the management API',
    );
    void auditSecurityEvent(deps.db, null, origin, {
      action: 'security.root_key_lockout',
      changes: { ip: origin.ip, lockedUntil: until.toISOString() },
    }).catch((error: unknown) => deps.logger.error({ err: error }, 'auditing a lockout failed'));
  });
  const outcomeTally = deps.metrics.verifications.tallyBy('code');
  const answer = verifyService({
    verifier: deps.verifier,
    recorder: deps.recorder,
    keepQueryInCallLog: deps.config.callLogKeepQuery,
    bruteForce,
    onOutcome: (code) => {
      outcomeTally(code).count += 1;
    },
    onThrottled: (actor, reason, source) => {
      deps.logger.warn({ ip: source.ip, keyPrefix: source.prefix, reason }, 'too many failed verifications: throttled');
      void auditSecurityEvent(
        deps.db,
        actor.workspaceId,
        { ip: actor.ip, userAgent: null, requestId: actor.requestId },
        {
          action: 'security.verify_throttled',
          changes: {
            reason,
            ip: reason === 'ip' ? source.ip : null,
            keyPrefix: reason === 'prefix' ? source.prefix : null,
          },
        },
      ).catch((error: unknown) => deps.logger.error({ err: error }, 'auditing a throttle failed'));
    },
  });
  // At info, fastify would write two lines per verification, several times the cost of the
  // verification itself; the call log already records each one. Warnings and errors still show.
  const verifyLogLevel = deps.config.logLevel === 'info' ? 'warn' : deps.config.logLevel;
  // When verifications are logged per request (debug, trace), fastify answers them all and logs them.
  const lane =
    verifyLogLevel === 'debug' || verifyLogLevel === 'trace'
      ? null
      : verifyLane({
          answer,
          authenticate,
          bodyLimitBytes: deps.config.bodyLimitBytes,
          trustedProxies: deps.config.trustedProxies,
          requestId: requestIdFor,
          metrics: deps.metrics,
          logger: deps.logger,
        });
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.bodyLimitBytes,
    trustProxy: deps.config.trustedProxies.length > 0 ? deps.config.trustedProxies : false,
    genReqId: (request) => requestIdFor(request.headers),
    // The verify lane sees each request first; what it does not take goes to fastify. The server
    // is set up as fastify sets up its own.
    serverFactory: (handler, fastifyOptions) => {
      const options = fastifyOptions as {
        keepAliveTimeout?: number;
        requestTimeout?: number;
        connectionTimeout?: number;
        maxRequestsPerSocket?: number;
      };
      const server = createServer(
        lane ? (request, response) => lane(request, response) || handler(request, response) : handler,
      );
      server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000;
      server.requestTimeout = options.requestTimeout ?? 0;
      server.setTimeout(options.connectionTimeout ?? 0);
      if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
      return server;
    },
    requestIdHeader: false,
    frameworkErrors,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
  });
  if (lane)
    app.addHook('preClose', (done) => {
      lane.close();
      done();
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
      info: {
        title: 'keyward',
        version: '1',
        description: 'Scoped, IP-limited, rotatable API keys with call and audit logs.',
      },
      components: {
        securitySchemes: { rootKey: { type: 'http', scheme: 'bearer', description: 'A root key (kw_root_…)' } },
      },
      security: [{ rootKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const guard = rootKeyGuard(authenticate);
  await app.register(keyRoutes, { prefix: '/v1/keys', kind: 'api', keys: deps.keys, guard });
  await app.register(keyRoutes, { prefix: '/v1/root-keys', kind: 'root', keys: deps.keys, guard });
  await app.register(verifyRoutes, { answer, guard, requestLogLevel: verifyLogLevel });
  await app.register(workspaceRoutes, { workspaces: deps.workspaces, guard });
  await app.register(auditRoutes, { db: deps.db, guard });
  await app.register(callRoutes, { db: deps.db, recorder: deps.recorder, guard });
  await app.register(healthRoutes, { db: deps.db, registry: deps.metrics.registry });
  return app;
}
