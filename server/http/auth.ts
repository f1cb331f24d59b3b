import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { ManagementScope } from '../../schema';
import type { Actor } from '../audit/log';
import type { CallRecorder } from '../calls/recorder';
import { KeywardError } from '../errors';
import { maskSecrets } from '../keys/format';
import type { BruteForceGuard } from '../verify/brute-force';
import type { Verifier, VerifyOutcome } from '../verify/pipeline';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

/** Where a request came from, as audit entries record it. */
export type Origin = Omit<Actor, 'workspaceId' | 'rootKeyId' | 'scopes'>;

/** "bearer" in lower case, compared with the header's first six characters folded to lower case. */
const BEARER = [0x62, 0x65, 0x61, 0x72, 0x65, 0x72];

/** Whether a UTF-16 code unit is whitespace as a regular expression's \s means it. */
function isSpace(code: number): boolean {
  if (code > 0x20 && code < 0xa0) return false;
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/**
 * The token in `Authorization: Bearer <token>`, or null: exactly what /^Bearer (\S+)$/i captures
 * (the scheme in any case, one space, then no whitespace), read without a regular expression, as
 * every management and verify request runs it.
 */
export function bearerToken(header: string): string | null {
  if (header.length < 8 || header.charCodeAt(6) !== 0x20) return null;
  // Folding with 0x20 maps exactly the two cases of each ASCII letter to the lower one.
  for (let index = 0; index < 6; index += 1) if ((header.charCodeAt(index) | 0x20) !== BEARER[index]) return null;
  for (let index = 7; index < header.length; index += 1) if (isSpace(header.charCodeAt(index))) return null;
  return header.slice(7);
}

/** The user agent as recorded: a string header, cut to 512 characters, with anything key-shaped masked. */
export function userAgentOf(header: string | string[] | undefined): string | null {
  return typeof header === 'string' ? maskSecrets(header.slice(0, 512)) : null;
}

/** Who sent a request, as audit entries record it: the client's address as the management API sees it (fastify applies the trusted-proxy list), its user agent and the request id. */
export function requestOrigin(request: FastifyRequest): Origin {
  return { ip: request.ip ?? null, userAgent: userAgentOf(request.headers['user-agent']), requestId: request.id };
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
) {
  const lockedOut = (until: Date, now: number) =>
    new KeywardError(
      'KW_ERR_LOCKED_OUT',
      `too many failed root-key attempts from this address; try again after ${until.toISOString()}`,
      {
        headers: { 'retry-after': String(Math.max(1, Math.ceil((until.getTime() - now) / 1000))) },
      },
    );
  // A failure counts toward a lockout of the source; the one that starts it is reported once.
  const failed = (origin: Origin, error: KeywardError): KeywardError => {
    const until = bruteForce.rootKeyFailed(origin.ip, Date.now());
    if (until) onLockout(origin, until);
    return error;
  };
  const admit = (origin: Origin, scope: ManagementScope, outcome: VerifyOutcome, now: number): Authentication => {
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
        return failed(origin, new KeywardError('KW_ERR_UNAUTHENTICATED', 'the root key is not valid'));
      case 'REVOKED':
      case 'SUSPENDED':
      case 'EXPIRED':
        return failed(
          origin,
          new KeywardError('KW_ERR_UNAUTHENTICATED', `the root key is ${outcome.code.toLowerCase()}`),
        );
      case 'IP_NOT_ALLOWED':
        return new KeywardError('KW_ERR_FORBIDDEN', 'the root key may not be used from this address');
      case 'INSUFFICIENT_SCOPE':
        return new KeywardError('KW_ERR_FORBIDDEN', `the root key lacks the ${scope} scope`);
      case 'RATE_LIMITED':
        return new KeywardError('KW_ERR_RATE_LIMITED', 'the root key is over its rate limit', {
          headers: {
            'retry-after': String(
              Math.max(1, Math.ceil(((outcome.rateLimit?.resetAt.getTime() ?? Date.now()) - Date.now()) / 1000)),
            ),
          },
        });
      default:
        return failed(origin, new KeywardError('KW_ERR_UNAUTHENTICATED', 'the root key is not valid'));
    }
  };
  /** Authenticates one request; synchronous for a cached root key, as every management and verify call runs it. `connection` is the request's socket (see Verifier.verify). */
  return (
    authorization: string | undefined,
    origin: Origin,
    scope: ManagementScope,
    connection?: object,
    now: number = Date.now(),
  ): Authentication | Promise<Authentication> => {
    const until = bruteForce.lockedOut(origin.ip, now);
    if (until) return lockedOut(until, now);
    const token = typeof authorization === 'string' ? bearerToken(authorization) : null;
    if (token === null)
      return failed(
        origin,
        new KeywardError('KW_ERR_UNAUTHENTICATED', 'send a root key as Authorization: Bearer <root key>'),
      );
    // Every field the verify service passes, in its order: the pipeline then sees one shape of input, which V8 reads fastest.
    const outcome = verifier.verify(
      {
        key: token,
        request: undefined,
        kind: 'root',
        workspaceId: undefined,
        ip: origin.ip ?? undefined,
        scopes: scopeList(scope),
      },
      now,
      connection,
    );
    return outcome instanceof Promise
      ? outcome.then((settled) => admit(origin, scope, settled, now))
      : admit(origin, scope, outcome, now);
  };
}
export type RootKeyAuthenticator = ReturnType<typeof rootKeyAuthenticator>;

/** Makes fastify route guards that require one management scope; callback style, so a cached root key costs no promise. */
export function rootKeyGuard(authenticate: RootKeyAuthenticator) {
  const settle = (request: FastifyRequest, done: (error?: KeywardError) => void, verdict: Authentication) => {
    if (verdict instanceof KeywardError) return done(verdict);
    request.actor = verdict;
    done();
  };
  return (scope: ManagementScope): preHandlerHookHandler =>
    function authorize(request, _reply, done) {
      const verdict = authenticate(request.headers.authorization, requestOrigin(request), scope, request.raw.socket);
      if (verdict instanceof Promise) verdict.then((settled) => settle(request, done, settled), done);
      else settle(request, done, verdict);
    };
}
