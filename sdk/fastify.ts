import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { VerifyResponse } from '../schema';
import { requestVerifier, type VerifyRequestOptions } from './verify-request';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verify answer for the API key this request carried, set by keyward's preHandler. */
    keyward?: VerifyResponse & { clientIp: string | undefined };
  }
}

/**
 * Fastify preHandler factory: `protect(scopes)` guards a route with keyward. On success the verify
 * answer is on `request.keyward`; otherwise it answers 401, 403 or 429 with the verify code.
 * @example
 * const protect = keywardFastify({ client: kw });
 * app.get('/contacts', { preHandler: protect(['contacts:read']) }, async (request) => listContacts());
 */
export function keywardFastify(
  options: Omit<VerifyRequestOptions, 'scopes'> = {},
): (scopes?: string[]) => preHandlerAsyncHookHandler {
  const verify = requestVerifier(options);
  return (scopes = []) =>
    async function keywardGuard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      // The raw Node request: its socket is the TCP peer, whatever fastify's own trustProxy says.
      const outcome = await verify(request.raw, scopes);
      if (outcome.ok) {
        request.keyward = { ...outcome.result, clientIp: outcome.clientIp };
        return;
      }
      const { refusal } = outcome;
      if (refusal.retryAfterSeconds) void reply.header('retry-after', String(refusal.retryAfterSeconds));
      if (refusal.status === 401) void reply.header('www-authenticate', 'Bearer');
      await reply.code(refusal.status).send({ error: { code: refusal.code, message: refusal.message } });
    };
}
