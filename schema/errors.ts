import { z } from 'zod';

/**
 * The one catalogue of error codes the API can answer with, each bound to its HTTP status.
 * The server maps a thrown KeywardError to HTTP with this table alone; the SDK reads it to
 * pick the typed error class.
 */
export const ERROR_CATALOGUE = {
  KW_ERR_VALIDATION: { status: 400, title: 'The request does not match the schema' },
  KW_ERR_BAD_JSON: { status: 400, title: 'The request body is not valid JSON' },
  KW_ERR_UNAUTHENTICATED: { status: 401, title: 'A valid root key is required' },
  KW_ERR_FORBIDDEN: { status: 403, title: 'The root key may not do this' },
  KW_ERR_SCOPE_ESCALATION: { status: 403, title: 'A root key may not grant scopes it does not hold' },
  KW_ERR_NOT_FOUND: { status: 404, title: 'No such resource' },
  KW_ERR_ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  KW_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  KW_ERR_IDEMPOTENCY_MISMATCH: { status: 409, title: 'The Idempotency-Key was used with a different request' },
  KW_ERR_CONFLICT: { status: 409, title: 'It already exists' },
  KW_ERR_INVALID_STATE: { status: 409, title: 'The key is in a state that does not allow this' },
  KW_ERR_VERSION_MISMATCH: { status: 412, title: 'If-Match does not match the current version' },
  KW_ERR_BODY_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  KW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body must be application/json' },
  KW_ERR_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  KW_ERR_LOCKED_OUT: {
    status: 429,
    title: 'Too many failed root-key attempts from this address; wait for Retry-After',
  },
  KW_ERR_INTERNAL: { status: 500, title: 'Internal error' },
  KW_ERR_UNAVAILABLE: { status: 503, title: 'The service is not ready' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]]);

/** One reason a field was rejected; `path` is the dotted location inside the body, query, params or headers. */
export const FieldIssueSchema = z.object({
  path: z.string().describe('Where the problem is, e.g. `body.ipAllowlist.1`'),
  message: z.string(),
});
export type FieldIssue = z.infer<typeof FieldIssueSchema>;

/** The body of every non-2xx answer. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string(),
      requestId: z.string(),
      issues: z.array(FieldIssueSchema).optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
