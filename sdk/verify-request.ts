import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import proxyaddr from 'proxy-addr';
import type { VerifyCode, VerifyResponse } from '../schema';
import { Keyward } from './client';

/** The parts of an incoming request verification reads: Node's, Express's and Fastify's all fit. */
export interface IncomingRequestLike {
  headers: IncomingHttpHeaders;
  method?: string | undefined;
  url?: string | undefined;
  socket?: { remoteAddress?: string | undefined } | null;
}

export interface VerifyRequestOptions {
  /** Every one of these scopes must be granted to the key. */
  scopes?: string[];
  /** The keyward client; by default one is made from KEYWARD_URL and KEYWARD_ROOT_KEY. */
  client?: Keyward;
  /**
   * Proxies whose X-Forwarded-For is believed (CIDRs, or `loopback`, `linklocal`, `uniquelocal`).
   * Empty by default: the client IP is the TCP peer, and a forged header changes nothing.
   */
  trustedProxies?: string[];
  /**
   * Keep positive answers this long (ms). Off (0) by default: with a cache, a revoked key keeps
   * working here for up to this long, and cached calls skip keyward's rate limit and call log.
   */
  cacheTtlMs?: number;
}

/** Why a request was refused, with the HTTP status an API should answer. */
export interface Refusal {
  status: 401 | 403 | 429;
  code: Exclude<VerifyCode, 'VALID'> | 'MISSING_KEY';
  message: string;
  retryAfterSeconds?: number;
}

export type VerifyRequestResult =
  | { ok: true; result: VerifyResponse; clientIp: string | undefined }
  | { ok: false; refusal: Refusal; result?: VerifyResponse; clientIp: string | undefined };

const BEARER = /^Bearer\s+(\S+)$/i;

/** The key a request carries, from `Authorization: Bearer …` or `x-api-key`. */
export function keyFromHeaders(headers: IncomingHttpHeaders): string | null {
  const authorization = headers.authorization;
  const bearer = typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
  if (bearer) return bearer;
  const apiKey = headers['x-api-key'];
  const value = Array.isArray(apiKey) ? apiKey[0] : apiKey;
  return value?.trim() ? value.trim() : null;
}

/** The client's address: the TCP peer, unless it is a trusted proxy, walking X-Forwarded-For from the right. */
export function clientIpOf(
  request: IncomingRequestLike,
  trust: (address: string, hop: number) => boolean,
): string | undefined {
  const peer = request.socket?.remoteAddress;
  if (!peer) return undefined;
  return proxyaddr({ headers: request.headers, connection: { remoteAddress: peer } } as never, trust);
}

const REFUSALS: Record<Exclude<VerifyCode, 'VALID'>, Refusal['status']> = {
  MALFORMED: 401,
  NOT_FOUND: 401,
  REVOKED: 401,
  SUSPENDED: 401,
  EXPIRED: 401,
  IP_NOT_ALLOWED: 403,
  INSUFFICIENT_SCOPE: 403,
  SIGNATURE_REQUIRED: 401,
  SIGNATURE_INVALID: 401,
  SIGNATURE_EXPIRED: 401,
  REPLAYED: 401,
  RATE_LIMITED: 429,
  BLOCKED: 429,
};

/** Turns a verify answer into the refusal an API gives, or null when the key is valid. */
export function refusalFor(result: VerifyResponse): Refusal | null {
  if (result.valid) return null;
  const code = result.code as Exclude<VerifyCode, 'VALID'>;
  const refusal: Refusal = { status: REFUSALS[code], code, message: `API key refused: ${code}` };
  if (code === 'RATE_LIMITED' && result.rateLimit) {
    refusal.retryAfterSeconds = Math.max(1, Math.ceil((Date.parse(result.rateLimit.resetAt) - Date.now()) / 1000));
  }
  return refusal;
}

/**
 * Builds a verifier with its options fixed once (client, trusted proxies, cache), to call per request.
 * @example
 * const check = requestVerifier({ trustedProxies: ['10.0.0.0/8'] });
 * const outcome = await check(req, ['contacts:read']);
 * if (!outcome.ok) res.writeHead(outcome.refusal.status).end();
 */
export function requestVerifier(options: Omit<VerifyRequestOptions, 'scopes'> = {}) {
  let client = options.client;
  const trust = proxyaddr.compile(options.trustedProxies ?? []);
  const cacheTtlMs = options.cacheTtlMs ?? 0;
  const cache = cacheTtlMs > 0 ? new LRUCache<string, VerifyResponse>({ max: 10_000, ttl: cacheTtlMs }) : null;

  return async function verify(request: IncomingRequestLike, scopes: string[] = []): Promise<VerifyRequestResult> {
    const clientIp = clientIpOf(request, trust);
    const key = keyFromHeaders(request.headers);
    if (!key) {
      return {
        ok: false,
        clientIp,
        refusal: {
          status: 401,
          code: 'MISSING_KEY',
          message: 'send an API key as Authorization: Bearer <key> or x-api-key',
        },
      };
    }
    // The cache is keyed by a hash of everything the answer depends on, never by the key itself.
    const cacheKey = cache
      ? createHash('sha256')
          .update(JSON.stringify([key, [...scopes].sort(), clientIp]))
          .digest('base64url')
      : '';
    const cached = cache?.get(cacheKey);
    if (cached) return { ok: true, result: cached, clientIp };
    client ??= clientFromEnvironment();
    const result = await client.verify({
      key,
      scopes,
      ...(clientIp ? { ip: clientIp } : {}),
      ...(request.method ? { method: request.method } : {}),
      ...(request.url ? { path: request.url.split('?')[0] } : {}),
    });
    const refusal = refusalFor(result);
    if (refusal) return { ok: false, refusal, result, clientIp };
    cache?.set(cacheKey, result);
    return { ok: true, result, clientIp };
  };
}

function clientFromEnvironment(): Keyward {
  const baseUrl = process.env.KEYWARD_URL;
  const rootKey = process.env.KEYWARD_ROOT_KEY;
  if (!baseUrl || !rootKey) throw new TypeError('keyward: pass a client, or set KEYWARD_URL and KEYWARD_ROOT_KEY');
  return new Keyward({ baseUrl, rootKey });
}

/**
 * Verifies the API key an incoming request carries, with the client IP taken from the TCP peer
 * (or, behind trusted proxies, from X-Forwarded-For). For many requests, build one verifier with
 * requestVerifier() instead, so options are compiled once.
 * @example
 * const outcome = await verifyRequest(req, { scopes: ['contacts:export'], client: kw });
 * if (!outcome.ok) return res.status(outcome.refusal.status).json({ error: outcome.refusal });
 */
export function verifyRequest(
  request: IncomingRequestLike,
  options: VerifyRequestOptions = {},
): Promise<VerifyRequestResult> {
  return requestVerifier(options)(request, options.scopes ?? []);
}
