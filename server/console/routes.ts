import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBodySchema } from '../../schema';
import { type ConsoleSession, ConsoleSessionSchema, CSRF_HEADER, SignInBodySchema } from '../../schema/console';
import { KeywardError } from '../errors';
import { type RootKeyAuthenticator, requestOrigin } from '../http/auth';
import type { ConsoleAssets } from './assets';
import { authenticateSession, type SessionGuardDeps } from './guard';
import { cameOverHttps, foreignOrigin, sessionCookie, sessionCookieHeader } from './requests';
import { csrfTokenMatches, csrfTokenOf, type LiveSession } from './sessions';

/**
 * The console's Content-Security-Policy: its own scripts, styles and API only; no inline script or
 * style, no plugins, no framing, no <base>. Inline SVG charts need no more than this.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every /console answer: pages, files, session routes and their errors alike. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Shown at /console when the server was started from a checkout whose console was never built. */
const NOT_BUILT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>keyward console</title></head>' +
  '<body><main><h1>The console has not been built</h1><p>Run <code>npm run build</code>, then restart keyward.</p>' +
  '</main></body></html>';

export interface ConsoleRoutesOptions extends SessionGuardDeps {
  assets: ConsoleAssets;
  authenticator: RootKeyAuthenticator;
}

/**
 * /console: the web console's files, and its session routes: POST /console/session signs in with a
 * root key, GET reads the session (with its CSRF token), DELETE signs out. Everything else the
 * console does goes through /v1 with the session cookie (./guard.ts).
 */
export const consoleRoutes: FastifyPluginAsync<ConsoleRoutesOptions> = async (app, options) => {
  const { assets, authenticator, sessions, clientAddress, trust } = options;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['console'];
  const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 429: ErrorBodySchema };

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    if (request.url.startsWith('/console/session')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  const describe = async (session: LiveSession): Promise<ConsoleSession> => ({
    rootKey: {
      id: session.record.id,
      name: session.record.name,
      start: session.record.start,
      scopes: session.record.scopes,
    },
    workspace: await sessions.workspace(session.record.workspaceId),
    csrfToken: csrfTokenOf(session.sessionId),
    createdAt: session.createdAt.toISOString(),
    idleTimeoutSeconds: sessions.idleTimeoutSeconds,
    expiresAt: session.expiresAt.toISOString(),
  });

  api.post('/console/session', {
    schema: {
      tags,
      summary: 'Sign in to the web console with a root key; the session is an HttpOnly cookie',
      security: [],
      body: SignInBodySchema,
      response: { 201: ConsoleSessionSchema, ...errors },
    },
    handler: async (request, reply) => {
      const foreign = foreignOrigin(request.raw, trust);
      if (foreign) throw foreign;
      const origin = requestOrigin(request, clientAddress);
      // The root-key path itself: the same lockout, failure counting and answers as a bearer token.
      // A key pasted with a line break in it is read without the whitespace; a key has none.
      const verdict = await authenticator.authenticate(
        `Bearer ${request.body.rootKey.replace(/\s+/g, '')}`,
        origin,
        null,
        sessions.now(),
      );
      if (verdict instanceof KeywardError) throw verdict;
      const opened = await sessions.open(verdict, origin);
      const session = await sessions.resume(opened.sessionId);
      if (session instanceof KeywardError) throw session;
      request.log.info({ rootKeyId: verdict.rootKeyId, ip: origin.ip }, 'console session opened');
      reply.header(
        'set-cookie',
        sessionCookieHeader(opened.sessionId, sessions.maxAgeSeconds, cameOverHttps(request.raw, trust)),
      );
      return reply.code(201).send(await describe(session));
    },
  });

  api.get('/console/session', {
    schema: {
      tags,
      summary: 'The console session of this browser: its root key, workspace and CSRF token',
      security: [],
      response: { 200: ConsoleSessionSchema, ...errors },
    },
    handler: async (request, reply) => {
      const sessionId = sessionCookie(request.raw);
      if (sessionId === undefined) throw new KeywardError('KW_ERR_UNAUTHENTICATED', 'not signed in to the console');
      const verdict = await authenticateSession(request, reply, sessionId, null, options);
      if (verdict instanceof KeywardError) throw verdict;
      return describe(verdict.session);
    },
  });

  api.delete('/console/session', {
    schema: {
      tags,
      summary: 'Sign out: the session ends at once and its cookie is cleared',
      security: [],
      response: { 204: z.null(), ...errors },
    },
    handler: async (request, reply) => {
      const sessionId = sessionCookie(request.raw);
      if (sessionId !== undefined) {
        const foreign = foreignOrigin(request.raw, trust);
        if (foreign) throw foreign;
        const token = request.headers[CSRF_HEADER];
        if (!csrfTokenMatches(sessionId, typeof token === 'string' ? token : undefined))
          throw new KeywardError('KW_ERR_FORBIDDEN', 'signing out needs the session CSRF token in X-CSRF-Token');
        await sessions.close(sessionId);
      }
      reply.header('set-cookie', sessionCookieHeader('', 0, cameOverHttps(request.raw, trust)));
      return reply.code(204).send(null);
    },
  });

  const send = (request: FastifyRequest, reply: FastifyReply, path: string, cacheControl: string) => {
    const asset = assets.get(path);
    if (!asset) return undefined;
    reply.header('content-type', asset.contentType).header('etag', asset.etag).header('cache-control', cacheControl);
    reply.header('vary', 'accept-encoding');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? asset.gzipped : asset.body);
  };
  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    const sent = send(request, reply, 'index.html', 'no-cache');
    if (sent) return sent;
    return reply.code(503).header('content-type', 'text/html; charset=utf-8').send(NOT_BUILT);
  };

  // The console's pages are one document; its router reads the path (/console/keys/…).
  app.get('/console', { schema: { hide: true } }, page);
  app.get('/console/*', { schema: { hide: true } }, page);
  app.get<{ Params: { file: string } }>('/console/assets/:file', { schema: { hide: true } }, async (request, reply) => {
    // Names carry a content hash: a file never changes under its name.
    const sent = send(request, reply, `assets/${request.params.file}`, 'public, max-age=31536000, immutable');
    if (sent) return sent;
    throw new KeywardError('KW_ERR_ROUTE_NOT_FOUND', `no console file ${request.params.file}`);
  });
};
