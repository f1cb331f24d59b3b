import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { CONSOLE_SESSION_COOKIE } from '../../schema/console';
import { KeywardError } from '../errors';

/*
 * What the console's cookie rules read from a request: the session cookie, whether the request
 * came over HTTPS, and whether it came from the console's own origin (docs/console.md, "CSRF").
 */

/** Methods that change nothing: they need no CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request method may change something. */
export function isMutation(method: string): boolean {
  return !SAFE_METHODS.has(method);
}

/** The session id in the request's Cookie header, or undefined. */
export function sessionCookie(request: IncomingMessage): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const equals = part.indexOf('=');
    if (equals === -1) continue;
    if (part.slice(0, equals).trim() === CONSOLE_SESSION_COOKIE) return part.slice(equals + 1).trim();
  }
  return undefined;
}

/** Whether a request's peer is a trusted proxy. */
function fromTrustedProxy(request: IncomingMessage, trust: ((address: string, hop: number) => boolean) | false) {
  const peer = request.socket.remoteAddress;
  return trust !== false && peer !== undefined && trust(peer, 0);
}

/**
 * Whether the session cookie gets `Secure`: the request came over TLS, or through a trusted proxy
 * (KEYWARD_TRUSTED_PROXIES), unless that proxy says the browser's request was plain http
 * (X-Forwarded-Proto: http).
 */
export function cameOverHttps(
  request: IncomingMessage,
  trust: ((address: string, hop: number) => boolean) | false,
): boolean {
  if ((request.socket as TLSSocket).encrypted) return true;
  if (!fromTrustedProxy(request, trust)) return false;
  const proto = request.headers['x-forwarded-proto'];
  const last =
    typeof proto === 'string'
      ? proto
          .slice(proto.lastIndexOf(',') + 1)
          .trim()
          .toLowerCase()
      : undefined;
  return last !== 'http';
}

/** The Set-Cookie value for a session id; an empty id and Max-Age=0 clear the cookie. */
export function sessionCookieHeader(sessionId: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${CONSOLE_SESSION_COOKIE}=${sessionId}`,
    // Path=/: the same cookie authenticates the console's calls to /v1.
    'Path=/',
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** The host (with port) a request was sent to: the Host header, or a trusted proxy's X-Forwarded-Host. */
function requestedHost(request: IncomingMessage, trust: ((address: string, hop: number) => boolean) | false) {
  const forwarded = request.headers['x-forwarded-host'];
  if (typeof forwarded === 'string' && fromTrustedProxy(request, trust))
    return forwarded.slice(forwarded.lastIndexOf(',') + 1).trim();
  return request.headers.host ?? '';
}

/**
 * The same-origin rule for requests made with a session cookie (and for sign-in): a browser's
 * `Sec-Fetch-Site` must not say cross-site or same-site, and an `Origin` header, when there is one,
 * must name the host the request was sent to. The error to answer, or null.
 */
export function foreignOrigin(
  request: IncomingMessage,
  trust: ((address: string, hop: number) => boolean) | false,
): KeywardError | null {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site')
    return new KeywardError('KW_ERR_FORBIDDEN', 'console sessions accept requests from the console itself only');
  const origin = request.headers.origin;
  if (origin === undefined) return null;
  let host: string | null = null;
  try {
    host = origin === 'null' ? null : new URL(origin).host;
  } catch {
    host = null;
  }
  if (host === null || host.toLowerCase() !== requestedHost(request, trust).toLowerCase())
    return new KeywardError('KW_ERR_FORBIDDEN', 'console sessions accept requests from the console itself only');
  return null;
}
