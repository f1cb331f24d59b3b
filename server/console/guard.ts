import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { ManagementScope } from '../../schema';
import { CSRF_HEADER } from '../../schema/console';
import type { Actor } from '../audit/log';
import { KeywardError } from '../errors';
import { lockedOutError, requestOrigin } from '../http/auth';
import type { BruteForceGuard } from '../verify/brute-force';
import { cameOverHttps, foreignOrigin, isMutation, sessionCookie, sessionCookieHeader } from './requests';
import { type ConsoleSessions, csrfTokenMatches, type LiveSession } from './sessions';

/** What the session checks need from the app. */
export interface SessionGuardDeps {
  sessions: ConsoleSessions;
  bruteForce: BruteForceGuard;
  clientAddress: (request: IncomingMessage) => string | null;
  trust: ((address: string, hop: number) => boolean) | false;
}

/** A clearing Set-Cookie, sent with every answer that ends a session, so the browser forgets it. */
function clearCookie(request: FastifyRequest, reply: FastifyReply, deps: SessionGuardDeps): void {
  reply.header('set-cookie', sessionCookieHeader('', 0, cameOverHttps(request.raw, deps.trust)));
}

/**
 * Authenticates a request by its console session: a lockout of the source, the same-origin rule
 * and, for a change, the CSRF token come first; then the session and its root key, read afresh;
 * then the scope (null: any). The session and actor, or the error to answer.
 */
export async function authenticateSession(
  request: FastifyRequest,
  reply: FastifyReply,
  sessionId: string,
  scope: ManagementScope | null,
  deps: SessionGuardDeps,
): Promise<{ session: LiveSession; actor: Actor } | KeywardError> {
  const origin = requestOrigin(request, deps.clientAddress);
  const now = deps.sessions.now();
  const until = deps.bruteForce.lockedOut(origin.ip, now);
  if (until) return lockedOutError(until, now);
  const foreign = foreignOrigin(request.raw, deps.trust);
  if (foreign) return foreign;
  if (isMutation(request.method)) {
    const token = request.headers[CSRF_HEADER];
    if (!csrfTokenMatches(sessionId, typeof token === 'string' ? token : undefined))
      return new KeywardError(
        'KW_ERR_FORBIDDEN',
        'a change made with a console session needs its CSRF token in the X-CSRF-Token header',
      );
  }
  const session = await deps.sessions.resume(sessionId);
  if (session instanceof KeywardError) {
    clearCookie(request, reply, deps);
    return session;
  }
  const actor = await deps.sessions.admit(session, origin, scope);
  return actor instanceof KeywardError ? actor : { session, actor };
}

/**
 * Wraps the root-key guard: a request without an Authorization header that carries a console
 * session cookie is authenticated by the session (same scopes, same answers); every other request
 * goes to the root-key guard unchanged.
 */
export function sessionAwareGuard(
  rootKeyGuard: (scope: ManagementScope) => preHandlerHookHandler,
  deps: SessionGuardDeps,
): (scope: ManagementScope) => preHandlerHookHandler {
  return (scope) => {
    const byRootKey = rootKeyGuard(scope);
    return function authorize(request, reply, done) {
      const sessionId = request.headers.authorization === undefined ? sessionCookie(request.raw) : undefined;
      if (sessionId === undefined) return byRootKey.call(this, request, reply, done);
      authenticateSession(request, reply, sessionId, scope, deps).then(
        (verdict) => {
          if (verdict instanceof KeywardError) return done(verdict);
          request.actor = verdict.actor;
          done();
        },
        (error: Error) => done(error),
      );
    };
  };
}
