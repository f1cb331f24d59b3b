import type { IncomingMessage } from 'node:http';
import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { ManagementScope } from '../../schema';
import type { Actor } from '../audit/log';
import type { CallRecorder } from '../calls/recorder';
import { KeywardError } from '../errors';
import { maskSecrets } from '../keys/format';
import type { BruteForceGuard } from '../verify/brute-force';
import { bearerToken } from '../verify/fast/bearer';
import type { Verifier, VerifyInput, VerifyOutcome } from '../verify/pipeline';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

/** Where a request came from, as audit entries record it. */
export type Origin = Omit<Actor, 'workspaceId' | 'rootKeyId' | 'scopes'>;

/** The user agent as recorded: a string header, cut to 512 characters, with anything key-shaped masked. */
export function userAgentOf(header: string | string[] | undefined): string | null {
  return typeof header === 'string' ? maskSecrets(header.slice(0, 512)) : null;
}

/** Who sent a request, as audit entries record it: the client's address (`clientAddress`, as the verify lane resolves it), its user agent and the request id. */
export function requestOrigin(
  request: FastifyRequest,
  clientAddress: (request: IncomingMessage) => string | null,
): Origin {
  return {
    ip: clientAddress(request.raw),
    userAgent: userAgentOf(request.headers['user-agent']),
    requestId: request.id,
  };
}

/** The one-scope list each management scope is checked as, made once: every authenticated request asks for one. */
const scopeLists = new Map<ManagementScope, readonly ManagementScope[]>();
function scopeList(scope: ManagementScope): readonly ManagementScope[] {
  let list = scopeLists.get(scope);
  if (!list) {
    list = Object.freeze([scope]);
    scopeLists.set(scope, list);
  }
  return list;
}

/** The verdict on a root key: the actor it makes, or the error to answer. */
export type Authentication = Actor | KeywardError;

/** The bearer token of an Authorization header, and its keyFingerprint(). */
export interface PresentedRootKey {
  token: string;
  fingerprint: string;
}

/** Authenticates root keys: authenticate() for one request, authenticateCached() for the same verdict from memory alone. */
export interface RootKeyAuthenticator {
  /**
   * Authenticates from memory alone, exactly as authenticate() would: the verdict, or undefined
   * when the store must be asked (then call authenticate()). Nothing is counted when it returns
   * undefined. `presented` is the bearer token of `authorization` and its keyFingerprint(), when
   * the caller has them.
   */
  authenticateCached(
    authorization: string | undefined,
    origin: Origin,
    scope: ManagementScope,
    now: number,
    presented?: PresentedRootKey,
  ): Authentication | undefined;
  /**
   * Authenticates one request: the root key in `Authorization: Bearer` must be valid and hold
   * `scope`; null asks for no particular scope (signing in to the web console).
   */
  authenticate(
    authorization: string | undefined,
    origin: Origin,
    scope: ManagementScope | null,
    now?: number,
  ): Promise<Authentication>;
}

/** Whole seconds until `untilMs`, at least 1: a Retry-After value. */
function retryAfter(untilMs: number, now: number): string {
  return String(Math.max(1, Math.ceil((untilMs - now) / 1000)));
}

/** The answer to a source locked out of root-key use until `until`. */
export function lockedOutError(until: Date, now: number): KeywardError {
  return new KeywardError(
    'KW_ERR_LOCKED_OUT',
    `too many failed root-key attempts from this address; try again after ${until.toISOString()}`,
    { headers: { 'retry-after': retryAfter(until.getTime(), now) } },
  );
}

/** The answer to a root key used from an address its allowlist leaves out. */
export function addressRefusedError(): KeywardError {
  return new KeywardError('KW_ERR_FORBIDDEN', 'the root key may not be used from this address');
}

/** The answer to a root key that lacks the scope a request needs. */
export function scopeMissingError(scope: ManagementScope): KeywardError {
  return new KeywardError('KW_ERR_FORBIDDEN', `the root key lacks the ${scope} scope`);
}

/** The answer to a root key over its rate limit, to retry once its window resets. */
export function rateLimitedError(outcome: VerifyOutcome, now: number): KeywardError {
  return new KeywardError('KW_ERR_RATE_LIMITED', 'the root key is over its rate limit', {
    headers: { 'retry-after': retryAfter(outcome.rateLimit?.resetAt.getTime() ?? now, now) },
  });
}

/**
 * Authenticates root keys: the key in `Authorization: Bearer` goes through the same verification
 * pipeline API keys use (kind root) and must hold one management scope. The verify lane and the
 * fastify route guards both call it, so every path applies the same lockouts and answers.
 */
export function rootKeyAuthenticator(
  verifier: Verifier,
  recorder: CallRecorder,
  bruteForce: BruteForceGuard,
  onLockout: (origin: Origin, until: Date) => void,
): RootKeyAuthenticator {
  // A failure counts toward a lockout of the source; the one that starts it is reported once.
  const failed = (origin: Origin, error: KeywardError, now: number): KeywardError => {
    const until = bruteForce.rootKeyFailed(origin.ip, now);
    if (until) onLockout(origin, until);
    return error;
  };
  /** The bearer token to verify, or the error that ends the request first: the source locked out, or no token. */
  const presented = (
    authorization: string | undefined,
    origin: Origin,
    now: number,
    known?: PresentedRootKey,
  ): string | KeywardError => {
    const until = bruteForce.lockedOut(origin.ip, now);
    if (until) return lockedOutError(until, now);
    if (known !== undefined) return known.token;
    const token = authorization === undefined ? null : bearerToken(authorization);
    if (token !== null) return token;
    return failed(
      origin,
      new KeywardError('KW_ERR_UNAUTHENTICATED', 'send a root key as Authorization: Bearer <root key>'),
      now,
    );
  };
  /** The pipeline's input: every field the verify service passes, in its order, so the pipeline sees one shape. */
  const input = (token: string, origin: Origin, scope: ManagementScope | null): VerifyInput => ({
    key: token,
    request: undefined,
    kind: 'root',
    workspaceId: undefined,
    ip: origin.ip ?? undefined,
    scopes: scope === null ? undefined : scopeList(scope),
  });
  /** The verdict on a verified root key. */
  const admit = (
    origin: Origin,
    scope: ManagementScope | null,
    outcome: VerifyOutcome,
    now: number,
  ): Authentication => {
    switch (outcome.code) {
      case 'VALID':
        recorder.noteUse(outcome.key.id, now, origin.ip);
        return {
          workspaceId: outcome.key.workspaceId,
          rootKeyId: outcome.key.id,
          scopes: outcome.key.scopes,
          ip: origin.ip,
          userAgent: origin.userAgent,
          requestId: origin.requestId,
        };
      case 'MALFORMED':
      case 'NOT_FOUND':
        return failed(origin, new KeywardError('KW_ERR_UNAUTHENTICATED', 'the root key is not valid'), now);
      case 'REVOKED':
      case 'SUSPENDED':
      case 'EXPIRED':
        return failed(
          origin,
          new KeywardError('KW_ERR_UNAUTHENTICATED', `the root key is ${outcome.code.toLowerCase()}`),
          now,
        );
      case 'IP_NOT_ALLOWED':
        return addressRefusedError();
      case 'INSUFFICIENT_SCOPE':
        return scopeMissingError(scope!);
      case 'RATE_LIMITED':
        return rateLimitedError(outcome, now);
      default:
        return failed(origin, new KeywardError('KW_ERR_UNAUTHENTICATED', 'the root key is not valid'), now);
    }
  };
  return {
    authenticateCached(authorization, origin, scope, now, known) {
      const token = presented(authorization, origin, now, known);
      if (typeof token !== 'string') return token;
      const outcome = verifier.verifyCached(input(token, origin, scope), now, known?.fingerprint);
      return outcome === undefined ? undefined : admit(origin, scope, outcome, now);
    },
    async authenticate(authorization, origin, scope, now = Date.now()) {
      const token = presented(authorization, origin, now);
      if (typeof token !== 'string') return token;
      return admit(origin, scope, await verifier.verify(input(token, origin, scope), now), now);
    },
  };
}

/** Makes fastify route guards that require one management scope, with the client's address as `clientAddress` resolves it. */
export function rootKeyGuard(
  authenticator: RootKeyAuthenticator,
  clientAddress: (request: IncomingMessage) => string | null,
) {
  return (scope: ManagementScope): preHandlerHookHandler =>
    function authorize(request, _reply, done) {
      authenticator.authenticate(request.headers.authorization, requestOrigin(request, clientAddress), scope).then(
        (verdict) => {
          if (verdict instanceof KeywardError) return done(verdict);
          request.actor = verdict;
          done();
        },
        (error: Error) => done(error),
      );
    };
}
