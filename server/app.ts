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
import { reportSecurityBlock } from './audit/log';
import { auditRoutes } from './audit/routes';
import type { CallRecorder } from './calls/recorder';
import { callRoutes } from './calls/routes';
import type { Config } from './config';
import { consoleParts, consoleRoutes, sessionAwareGuard } from './console';
import { KeywardError } from './errors';
import { webhookRoutes } from './events/routes';
import type { WebhookService } from './events/service';
import { healthRoutes } from './health/routes';
import { rootKeyAuthenticator, rootKeyGuard } from './http/auth';
import { frameworkErrors, installErrorHandling } from './http/errors';
import { keyRoutes } from './keys/routes';
import type { KeyService } from './keys/service';
import { leakRoutes } from './leaks/routes';
import type { LeakService } from './leaks/service';
import type { Metrics } from './metrics';
import type { Db } from './store/database';
import type { BruteForceGuard } from './verify/brute-force';
import { clientAddresses } from './verify/fast/address';
import { readBody } from './verify/fast/body';
import { verifyLane } from './verify/fast/lane';
import { requestMetrics } from './verify/fast/metrics';
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
  webhooks: WebhookService;
  leaks: LeakService;
  /** Set while the replica drains (SIGTERM): /readyz then answers 503. */
  readiness: { draining: boolean };
  verifier: Verifier;
  recorder: CallRecorder;
  metrics: Metrics;
  logger: FastifyBaseLogger;
  bruteForce: BruteForceGuard;
  /** The clock console sessions expire by (ms since the epoch); Date.now unless a test moves it. */
  clock?: () => number;
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
  // Decimal: a number in another radix is written by a slower, general routine.
  return `req_${requestIdPrefix}${requestCounter}`;
}

/** Builds the HTTP app: every route, the OpenAPI document at /openapi.json and docs at /docs. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const bruteForce = deps.bruteForce;
  const addresses = clientAddresses(deps.config.trustedProxies);
  const routeMetrics = requestMetrics(deps.metrics);
  const authenticator = rootKeyAuthenticator(deps.verifier, deps.recorder, bruteForce, (origin, until) => {
    deps.logger.warn(
      { ip: origin.ip, until: until.toISOString() },
      'too many failed root-key attempts: source locked out of the management API',
    );
    void reportSecurityBlock(deps.db, null, origin, {
      action: 'security.root_key_lockout',
      ip: origin.ip,
      keyPrefix: null,
      blockedUntil: until,
      changes: { ip: origin.ip, lockedUntil: until.toISOString() },
    }).catch((error: unknown) => deps.logger.error({ err: error }, 'auditing a lockout failed'));
  });
  const outcomeTally = deps.metrics.verifications.tallyBy('code');
  const service = verifyService({
    verifier: deps.verifier,
    recorder: deps.recorder,
    keepQueryInCallLog: deps.config.callLogKeepQuery,
    bruteForce,
    onOutcome: (code) => {
      outcomeTally(code).count += 1;
    },
    onThrottled: (actor, reason, source) => {
      deps.logger.warn({ ip: source.ip, keyPrefix: source.prefix, reason }, 'too many failed verifications: throttled');
      // A sliding window: the source is let through again at the latest one window from now.
      const window = reason === 'ip' ? deps.config.verifyFailuresPerIp : deps.config.verifyFailuresPerPrefix;
      void reportSecurityBlock(
        deps.db,
        actor.workspaceId,
        { ip: actor.ip, userAgent: null, requestId: actor.requestId },
        {
          action: 'security.verify_throttled',
          ip: reason === 'ip' ? source.ip : null,
          keyPrefix: reason === 'prefix' ? source.prefix : null,
          blockedUntil: new Date(Date.now() + window.windowSeconds * 1000),
          changes: {
            reason,
            ip: reason === 'ip' ? source.ip : null,
            keyPrefix: reason === 'prefix' ? source.prefix : null,
          },
        },
      ).catch((error: unknown) => deps.logger.error({ err: error }, 'auditing a throttle failed'));
    },
  });
  // Fastify's own request lines for the verify route: not at info, where they would cost more than
  // the verification and the call log has every one; the lane writes its one line at debug and trace.
  const verifyLogLevel = deps.config.logLevel === 'info' ? 'warn' : deps.config.logLevel;
  const lane = verifyLane({
    service,
    authenticator,
    bodyLimitBytes: deps.config.bodyLimitBytes,
    addresses,
    requestId: requestIdFor,
    metrics: routeMetrics('POST', '/v1/verify'),
    logger: deps.logger,
  });
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.bodyLimitBytes,
    // The same trust test the lane and the root-key guard resolve addresses with (fast/address.ts).
    trustProxy: addresses.trust,
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
      const server = createServer((request, response) => lane(request, response) || handler(request, response));
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
  app.addHook('preClose', (done) => {
    lane.close();
    done();
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  // Every body is read by readBody(), which the lane shares: JSON in UTF-8, or an empty body of any
  // type (bodiless POSTs such as suspend or revoke carry whatever Content-Type a client sets by default).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, text: string, done) => {
    const body = readBody(request.headers['content-type'], text);
    if (body instanceof KeywardError) done(body, undefined);
    else done(null, body);
  });

  // Callback-style hooks: an async hook costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    routeMetrics(request.method, request.routeOptions.url ?? 'unmatched').record(
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
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

  // A request without Authorization that carries a console session cookie acts as its root key.
  const webConsole = consoleParts({ ...deps, clock: deps.clock ?? Date.now, addresses });
  const guard = sessionAwareGuard(rootKeyGuard(authenticator, addresses.clientAddress), webConsole);
  await app.register(keyRoutes, { prefix: '/v1/keys', kind: 'api', keys: deps.keys, guard });
  await app.register(keyRoutes, { prefix: '/v1/root-keys', kind: 'root', keys: deps.keys, guard });
  await app.register(verifyRoutes, { service, guard, requestLogLevel: verifyLogLevel });
  await app.register(workspaceRoutes, { workspaces: deps.workspaces, guard });
  await app.register(auditRoutes, { db: deps.db, guard });
  await app.register(webhookRoutes, { webhooks: deps.webhooks, guard });
  await app.register(leakRoutes, { leaks: deps.leaks, guard, clientAddress: addresses.clientAddress });
  await app.register(callRoutes, { db: deps.db, recorder: deps.recorder, guard });
  await app.register(consoleRoutes, { ...webConsole, authenticator });
  await app.register(healthRoutes, { db: deps.db, registry: deps.metrics.registry, readiness: deps.readiness });
  return app;
}
