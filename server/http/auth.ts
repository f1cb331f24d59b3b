import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { ManagementScope } from '../../schema';
import type { Actor } from '../audit/log';
import type { CallRecorder } from '../calls/recorder';
import { KeywardError } from '../errors';
import type { BruteForceGuard } from '../verify/brute-force';
import type { VerifyOutcome, Verifier } from '../verify/pipeline';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

const BEARER = /^Bearer ([^\s]+)$/i;

/** Who sent a request, as audit entries record it: the client's address as the management API sees it (fastify applies the trusted-proxy list), its user agent and the request id. */
export function requestOrigin(request: FastifyRequest): Omit<Actor, 'workspaceId' | 'rootKeyId'> {
  const agent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null, requestId: request.id };
}

function actorFor(request: FastifyRequest, workspaceId: string, rootKeyId: string | null): Actor {
  return { workspaceId, rootKeyId, ...requestOrigin(request) };
}

/**
 * Makes route guards: each one authenticates the root key in `Authorization: Bearer` through the
 * same verification pipeline API keys use (kind root), and requires one management scope.
 */
export function rootKeyGuard(verifier: Verifier, recorder: CallRecorder, bruteForce: BruteForceGuard, onLockout: (request: FastifyRequest, until: Date) => void) {
  const lockedOut = (until: Date, now: number) =>
    new KeywardError('KW_ERR_LOCKED_OUT', `too many failed root-key attempts from this address; try again after ${until.toISOString()}`, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil((until.getTime() - now) / 1000))) },
    });
  // A failure counts toward a lockout of the source; the one that starts it is reported once.
  const failed = (request: FastifyRequest, error: KeywardError): KeywardError => {
    const now = Date.now();
    const until = bruteForce.rootKeyFailed(request.ip ?? null, now);
    if (until) onLockout(request, until);
    return error;
  };
  // The verdict on a root key: undefined to let the request through, else the error to answer.
  const admit = (request: FastifyRequest, scope: ManagementScope, outcome: VerifyOutcome, now: number): KeywardError | undefined => {
    switch (outcome.code) {
      case 'VALID':
        recorder.noteUse(outcome.key.id, new Date(now), request.ip ?? null);
        request.actor = actorFor(request, outcome.key.workspaceId, outcome.key.id);
        return undefined;
      case 'MALFORMED':
      case 'NOT_FOUND':
        return failed(request, new KeywardError('KW_ERR_UNAUTHENTICATED', 'the root key is not valid'));
      case 'REVOKED':
      case 'SUSPENDED':
      case 'EXPIRED':
        return failed(request, new KeywardError('KW_ERR_UNAUTHENTICATED', `the root key is ${outcome.code.toLowerCase()}`));
      case 'IP_NOT_ALLOWED':
        return new KeywardError('KW_ERR_FORBIDDEN', 'the root key may not be used from this address');
      case 'INSUFFICIENT_SCOPE':
        return new KeywardError('KW_ERR_FORBIDDEN', `the root key lacks the ${scope} scope`);
      case 'RATE_LIMITED':
        return new KeywardError('KW_ERR_RATE_LIMITED', 'the root key is over its rate limit', {
          headers: { 'retry-after': String(Math.max(1, Math.ceil(((outcome.rateLimit?.resetAt.getTime() ?? Date.now()) - Date.now()) / 1000))) },
        });
      default:
        return failed(request, new KeywardError('KW_ERR_UNAUTHENTICATED', 'the root key is not valid'));
    }
  };
  // Callback style, and synchronous for a cached root key: every management and verify call runs it.
  return (scope: ManagementScope): preHandlerHookHandler =>
    function authorize(request, _reply, done) {
      const now = Date.now();
      const until = bruteForce.lockedOut(request.ip ?? null, now);
      if (until) return done(lockedOut(until, now));
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? BEARER.exec(header) : null;
      if (!match?.[1]) return done(failed(request, new KeywardError('KW_ERR_UNAUTHENTICATED', 'send a root key as Authorization: Bearer <root key>')));
      const outcome = verifier.verify({ key: match[1], kind: 'root', ip: request.ip, scopes: [scope] }, now);
      if (outcome instanceof Promise) outcome.then((settled) => done(admit(request, scope, settled, now)), done);
      else done(admit(request, scope, outcome, now));
    };
}
