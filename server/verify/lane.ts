import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
// The global `performance` is an accessor in Node 20, read on every use; the module's export is a plain binding.
import { performance } from 'node:perf_hooks';
import proxyAddr from '@fastify/proxy-addr';
import { errorCodes, type FastifyBaseLogger } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import secureJson from 'secure-json-parse';
import { type VerifyRequest, VerifyRequestSchema, type VerifyResponse } from '../../schema';
import { compileAcceptor } from '../../schema/accept';
import { KeywardError } from '../errors';
import { type Authentication, type Origin, type RootKeyAuthenticator, userAgentOf } from '../http/auth';
import { toErrorBody } from '../http/errors';
import type { Metrics } from '../metrics';
import { type VerifyService, verifyResponseJson } from './service';

/*
 * The verify lane answers POST /v1/verify straight from node:http, ahead of fastify's router.
 * Verification is the hot path, and fastify's per-request machinery (routing, the request and
 * reply objects, hook runners, the child logger) cost more than the verification itself
 * (docs/benchmarks.md). The lane keeps fastify's contract for this one route: the same JSON
 * parsing (secure-json-parse, poisoned prototypes refused), the same zod validation and error
 * body, the same root-key authentication, verify service, error catalogue, request id and metrics.
 * It takes only requests whose answer it can give exactly as fastify would: anything unusual
 * (another content type, no Content-Length, an empty or oversized body, a query string, debug
 * logging, shutdown) is passed to fastify untouched, before a byte of the body is read.
 */

/** The content types the lane takes; fastify answers any other (415, or its own JSON parsing). */
const JSON_TYPE = /^application\/json(?:;\s*charset=utf-8)?$/i;

/**
 * Parses a body as fastify does (secure-json-parse, refusing `__proto__` and `constructor.prototype`).
 * secure-json-parse tests the whole text with two patterns for those keys, written plainly or with
 * \u escapes; a text with no backslash, no `__proto__` and no `constructor` matches neither, and
 * then a plain JSON.parse gives the same value. Anything else goes to secure-json-parse itself.
 */
function parseJson(text: string): unknown {
  if (
    text.charCodeAt(0) !== 0xfeff &&
    !text.includes('\\') &&
    !text.includes('__proto__') &&
    !text.includes('constructor')
  )
    return JSON.parse(text);
  return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
}

const acceptsBody = compileAcceptor(VerifyRequestSchema);
const validateBody = validatorCompiler({ schema: VerifyRequestSchema, method: 'POST', url: '/v1/verify' } as Parameters<
  typeof validatorCompiler
>[0]);

export interface VerifyLaneOptions {
  answer: VerifyService;
  authenticate: RootKeyAuthenticator;
  bodyLimitBytes: number;
  /** The trusted proxies, as fastify's trustProxy gets them: the caller's address is resolved alike. */
  trustedProxies: readonly string[];
  requestId: (headers: IncomingHttpHeaders) => string;
  metrics: Metrics;
  logger: FastifyBaseLogger;
}

/** A request handler that answers POST /v1/verify and returns true, or returns false to pass the request to fastify. */
export interface VerifyLane {
  (request: IncomingMessage, response: ServerResponse): boolean;
  /** From now on every request goes to fastify, which answers 503 while the server closes. */
  close(): void;
}

/** Makes the verify lane (see above). */
export function verifyLane(options: VerifyLaneOptions): VerifyLane {
  const { answer, authenticate, bodyLimitBytes, requestId, metrics, logger } = options;
  const trust = options.trustedProxies.length > 0 ? proxyAddr.compile([...options.trustedProxies]) : null;
  const callerIp = (request: IncomingMessage): string | null => {
    if (!trust) return request.socket.remoteAddress ?? null;
    const addresses = proxyAddr.all(request, trust);
    return addresses[addresses.length - 1] ?? null;
  };
  // One tally per status answered: counting a request is an addition (see talliedCounter).
  const tallyOf = metrics.httpRequests.tallyBy('status', { method: 'POST', route: '/v1/verify' });
  const duration = metrics.httpDuration.labels({ method: 'POST', route: '/v1/verify' });
  let open = true;

  const send = (
    response: ServerResponse,
    id: string,
    started: number,
    status: number,
    payload: string,
    headers?: Record<string, string>,
  ) => {
    const head = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      'x-request-id': id,
    };
    response.writeHead(status, headers === undefined ? head : { ...headers, ...head });
    response.end(payload);
    tallyOf(String(status)).count += 1;
    duration.observe((performance.now() - started) / 1000);
  };
  const fail = (response: ServerResponse, id: string, started: number, error: unknown) => {
    const { status, body, headers } = toErrorBody(error, id);
    if (status >= 500) logger.error({ err: error, reqId: id }, 'request failed');
    // Only a fault after the answer went out could get here with one sent; it is logged above.
    if (response.headersSent) return;
    send(response, id, started, status, JSON.stringify(body), headers);
  };
  const reply = (response: ServerResponse, id: string, started: number, verdict: VerifyResponse | KeywardError) => {
    if (verdict instanceof KeywardError) fail(response, id, started, verdict);
    else send(response, id, started, 200, verifyResponseJson(verdict));
  };

  // Parse, validate, authenticate, verify: the order fastify runs them in (body, validation, preHandler, handler).
  const handle = (request: IncomingMessage, response: ServerResponse, id: string, started: number, text: string) => {
    let parsed: unknown;
    try {
      parsed = parseJson(text);
    } catch {
      return fail(response, id, started, new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY());
    }
    let body: VerifyRequest;
    // A body the schema accepts unchanged is taken as it is; anything else gets zod's own answer.
    if (acceptsBody(parsed)) body = parsed as VerifyRequest;
    else {
      const validated = validateBody(parsed) as { value?: VerifyRequest; error?: unknown[] };
      if (validated.error)
        return fail(response, id, started, { validation: validated.error, validationContext: 'body', statusCode: 400 });
      body = validated.value!;
    }
    const origin: Origin = {
      ip: callerIp(request),
      userAgent: userAgentOf(request.headers['user-agent']),
      requestId: id,
    };
    // One reading of the wall clock serves the root key's checks and the verification.
    const now = Date.now();
    const authenticated = authenticate(request.headers.authorization, origin, 'verify', request.socket, now);
    if (authenticated instanceof Promise) {
      authenticated
        .then((verdict) => settle(response, id, started, now, body, verdict))
        .catch((error: unknown) => fail(response, id, started, error));
    } else settle(response, id, started, now, body, authenticated);
  };
  // The verdict on the root key, then the answer: made once here rather than as a closure per request.
  const settle = (
    response: ServerResponse,
    id: string,
    started: number,
    now: number,
    body: VerifyRequest,
    verdict: Authentication,
  ) => {
    if (verdict instanceof KeywardError) return fail(response, id, started, verdict);
    const outcome = answer(body, verdict, now, started);
    if (outcome instanceof Promise) {
      outcome.then(
        (settled) => reply(response, id, started, settled),
        (error: unknown) => fail(response, id, started, error),
      );
    } else reply(response, id, started, outcome);
  };

  const lane = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (!open || request.method !== 'POST' || request.url !== '/v1/verify') return false;
    const type = request.headers['content-type'];
    if (
      type === undefined ||
      (type !== 'application/json' && !JSON_TYPE.test(type)) ||
      request.headers['transfer-encoding'] !== undefined
    )
      return false;
    const length = Number(request.headers['content-length']);
    if (!(length > 0 && length <= bodyLimitBytes)) return false;

    const started = performance.now();
    const id = requestId(request.headers);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        handle(
          request,
          response,
          id,
          started,
          chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
        );
      } catch (error) {
        fail(response, id, started, error);
      }
    });
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
