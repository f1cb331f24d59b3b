import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
// The global `performance` is an accessor in Node 20, read on every use; the module's export is a plain binding.
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { type VerifyRequest, VerifyRequestSchema } from '../../../schema';
import { KeywardError } from '../../errors';
import { type Authentication, type PresentedRootKey, type RootKeyAuthenticator, userAgentOf } from '../../http/auth';
import { toErrorBody } from '../../http/errors';
import { maskSecrets } from '../../keys/format';
import { keyFingerprint } from '../pipeline';
import type { Verdict, VerifyService } from '../service';
import { compileAcceptor } from './accept';
import type { ClientAddresses } from './address';
import { answerJson } from './answers';
import { bearerToken } from './bearer';
import { isJsonType, parsesPlainly, readJson } from './body';
import { EndOfTurn } from './end-of-turn';
import type { RouteMetrics } from './metrics';

/*
 * The verify lane answers POST /v1/verify straight from node:http, ahead of fastify's router, at
 * every log level. Verification is the hot path, and fastify's per-request machinery (routing,
 * the request and reply objects, hook runners, the child logger) cost more than the verification
 * itself (docs/benchmarks.md). The lane keeps fastify's contract for this one route: it reads the
 * body, checks the content type, resolves the client's address and records metrics through the
 * same helpers fastify uses (./body.ts, ./address.ts, ./metrics.ts), runs the same zod validation,
 * root-key authentication and verify service, and answers with the same error catalogue and
 * request id. It takes only requests it can answer exactly as fastify would: anything unusual
 * (another content type, no Content-Length, an empty or oversized body, a query string, shutdown)
 * goes to fastify untouched, before a byte of the body is read. test/integration/verify.lane.test.ts
 * holds the two to the same answers.
 *
 * Everything here that exists for speed stays here: answering a cached key without a promise
 * (the business code's *Cached functions, tried first), the body acceptor, the answer texts, the
 * per-connection memo of the root key's fingerprint, and answering the requests whose bodies end
 * in one turn of the event loop together, after that turn's reads (./end-of-turn.ts).
 */

const acceptsBody = compileAcceptor(VerifyRequestSchema);
const validateBody = validatorCompiler({ schema: VerifyRequestSchema, method: 'POST', url: '/v1/verify' } as Parameters<
  typeof validatorCompiler
>[0]);

export interface VerifyLaneOptions {
  service: VerifyService;
  authenticator: RootKeyAuthenticator;
  bodyLimitBytes: number;
  addresses: ClientAddresses;
  requestId: (headers: IncomingHttpHeaders) => string;
  /** The recorder fastify's onResponse hook uses for POST /v1/verify. */
  metrics: RouteMetrics;
  logger: FastifyBaseLogger;
}

/** A request handler that answers POST /v1/verify and returns true, or returns false to pass the request to fastify. */
export interface VerifyLane {
  (request: IncomingMessage, response: ServerResponse): boolean;
  /** From now on every request goes to fastify, which answers 503 while the server closes. */
  close(): void;
}

/** One request the lane took, from arrival to answer. */
interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  id: string;
  /** performance.now() when the request arrived. */
  started: number;
  /** The body as read. */
  chunks: Buffer[];
}

/** Makes the verify lane (see above). */
export function verifyLane(options: VerifyLaneOptions): VerifyLane {
  const { service, authenticator, bodyLimitBytes, addresses, requestId, metrics, logger } = options;
  let open = true;

  /**
   * Per connection, the last Authorization header, its token and the token's fingerprint. A gateway
   * sends the same root key on every request of a keep-alive connection; it then reads the header
   * and pays the SHA-256 once per connection, not per request. The header is held only while the
   * connection lives, and the fingerprint still goes through the verifier's cache, so expiry and
   * invalidation apply as before.
   */
  const presented = new WeakMap<Socket, { authorization: string; key: PresentedRootKey }>();
  const presentedKey = (socket: Socket, authorization: string | undefined): PresentedRootKey | undefined => {
    if (authorization === undefined) return undefined;
    const memo = presented.get(socket);
    if (memo !== undefined && memo.authorization === authorization) return memo.key;
    const token = bearerToken(authorization);
    if (token === null) return undefined;
    const key = { token, fingerprint: keyFingerprint(token) };
    presented.set(socket, { authorization, key });
    return key;
  };

  // At debug and trace, one line per request, with the fields fastify's two request lines carry;
  // `req` goes through the logger's serializer as fastify's request does (server/index.ts masks its url).
  const logRequest = (exchange: Exchange, status: number, elapsed: number) => {
    const { request, id } = exchange;
    logger.debug(
      {
        reqId: id,
        req: {
          method: request.method,
          url: maskSecrets(request.url ?? ''),
          hostname: addresses.hostname(request),
          ip: addresses.clientAddress(request),
          socket: { remotePort: request.socket.remotePort },
        },
        res: { statusCode: status },
        responseTime: elapsed,
      },
      'request completed',
    );
  };

  const send = (exchange: Exchange, status: number, payload: string, headers?: Record<string, string>) => {
    const head = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      'x-request-id': exchange.id,
    };
    exchange.response.writeHead(status, headers === undefined ? head : { ...headers, ...head });
    exchange.response.end(payload);
    const elapsed = performance.now() - exchange.started;
    metrics.record(status, elapsed / 1000);
    // The level is read per request: a logger's level may be changed while the server runs.
    const level = logger.level;
    if (level === 'debug' || level === 'trace') logRequest(exchange, status, elapsed);
  };
  const fail = (exchange: Exchange, error: unknown) => {
    const { status, body, headers } = toErrorBody(error, exchange.id);
    if (status >= 500) logger.error({ err: error, reqId: exchange.id }, 'request failed');
    // Only a fault after the answer went out could get here with one sent; it is logged above.
    if (exchange.response.headersSent) return;
    send(exchange, status, JSON.stringify(body), headers);
  };
  const answered = (exchange: Exchange, now: number, verdict: Verdict) => {
    send(exchange, 200, answerJson(verdict, now));
  };

  // Parse, validate, authenticate, verify: the order fastify runs them in (body, validation, preHandler, handler).
  // Each step is tried from memory first (its *Cached function); only when that has no answer is
  // the plain async step run. A cached key is thus answered without a promise.
  const handle = (exchange: Exchange, text: string) => {
    let plain: unknown;
    try {
      plain = JSON.parse(text);
    } catch {
      // JSON.parse never returns undefined: here it means "not parsed", and readJson answers.
    }
    let body: VerifyRequest;
    // A body the schema accepts unchanged is taken as it is. It holds only the schema's own keys,
    // none that readJson refuses (./accept.ts), so readJson would give the same value: its scans
    // of the text are left out. Anything else is read by readJson and gets zod's own answer.
    if (plain !== undefined && acceptsBody(plain)) body = plain as VerifyRequest;
    else {
      const parsed = plain !== undefined && parsesPlainly(text) ? plain : readJson(text);
      if (parsed instanceof KeywardError) return fail(exchange, parsed);
      const validated = validateBody(parsed) as { value?: VerifyRequest; error?: unknown[] };
      if (validated.error)
        return fail(exchange, { validation: validated.error, validationContext: 'body', statusCode: 400 });
      body = validated.value!;
    }
    const { request } = exchange;
    const origin = {
      ip: addresses.clientAddress(request),
      userAgent: userAgentOf(request.headers['user-agent']),
      requestId: exchange.id,
    };
    const authorization = request.headers.authorization;
    // One reading of the wall clock serves the root key's checks and the verification.
    const now = Date.now();
    const verdict = authenticator.authenticateCached(
      authorization,
      origin,
      'verify',
      now,
      presentedKey(request.socket, authorization),
    );
    if (verdict !== undefined) return authenticated(exchange, now, body, verdict);
    authenticator.authenticate(authorization, origin, 'verify', now).then(
      (settled) => authenticated(exchange, now, body, settled),
      (error: unknown) => fail(exchange, error),
    );
  };
  const authenticated = (exchange: Exchange, now: number, body: VerifyRequest, verdict: Authentication) => {
    if (verdict instanceof KeywardError) return fail(exchange, verdict);
    const cached = service.answerCached(body, verdict, now, exchange.started);
    if (cached !== undefined) return answered(exchange, now, cached);
    service.answer(body, verdict, now, exchange.started).then(
      (settled) => answered(exchange, now, settled),
      (error: unknown) => fail(exchange, error),
    );
  };

  const bodiesRead = new EndOfTurn<Exchange>((exchange) => {
    const { chunks } = exchange;
    try {
      handle(exchange, chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      fail(exchange, error);
    }
  });

  const lane = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (!open || request.method !== 'POST' || request.url !== '/v1/verify') return false;
    if (!isJsonType(request.headers['content-type']) || request.headers['transfer-encoding'] !== undefined)
      return false;
    const length = Number(request.headers['content-length']);
    if (!(length > 0 && length <= bodyLimitBytes)) return false;

    const started = performance.now();
    const chunks: Buffer[] = [];
    const exchange: Exchange = { request, response, id: requestId(request.headers), started, chunks };
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => bodiesRead.add(exchange));
    // A client that goes away mid-body: node closes the socket, and emits no 'error' on a request
    // that has no listener for it, so none is added; there is nobody to answer.
    return true;
  };
  return Object.assign(lane, {
    close: () => {
      open = false;
    },
  });
}
