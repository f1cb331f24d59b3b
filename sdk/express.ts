import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { VerifyResponse } from '../schema';
import { requestVerifier, type VerifyRequestOptions } from './verify-request';

declare module 'express-serve-static-core' {
  interface Request {
    /** The verify answer for the API key this request carried, set by keyward's middleware. */
    keyward?: VerifyResponse & { clientIp: string | undefined };
  }
}

/**
 * Express middleware factory: `protect(scopes)` guards a route with keyward. On success the verify
 * answer is on `req.keyward`; otherwise it answers 401, 403 or 429 with the verify code.
 * @example
 * const protect = keywardExpress({ client: kw, trustedProxies: ['10.0.0.0/8'] });
 * app.get('/contacts', protect(['contacts:read']), (req, res) => res.json(listContacts(req.keyward!.metadata)));
 */
export function keywardExpress(
  options: Omit<VerifyRequestOptions, 'scopes'> = {},
): (scopes?: string[]) => RequestHandler {
  const verify = requestVerifier(options);
  return (scopes = []) =>
    function keywardGuard(request: Request, response: Response, next: NextFunction): void {
      verify(request, scopes).then((outcome) => {
        if (outcome.ok) {
          request.keyward = { ...outcome.result, clientIp: outcome.clientIp };
          next();
          return;
        }
        const { refusal } = outcome;
        if (refusal.retryAfterSeconds) response.setHeader('retry-after', String(refusal.retryAfterSeconds));
        if (refusal.status === 401) response.setHeader('www-authenticate', 'Bearer');
        response.status(refusal.status).json({ error: { code: refusal.code, message: refusal.message } });
      }, next);
    };
}
