import type { ErrorCode, FieldIssue } from '../schema';

/** Base class of every error the SDK throws; `status` is 0 when no HTTP answer arrived. */
export class KeywardError extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'KW_ERR_NETWORK' | 'KW_ERR_TIMEOUT' | 'KW_ERR_BAD_RESPONSE';
  readonly requestId: string | null;

  constructor(message: string, status: number, code: KeywardError['code'], requestId: string | null) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** 400: the request did not match the schema; `issues` name each field and reason. */
export class KeywardValidationError extends KeywardError {
  readonly issues: FieldIssue[];
  constructor(message: string, code: ErrorCode, requestId: string | null, issues: FieldIssue[]) {
    super(message, 400, code, requestId);
    this.issues = issues;
  }
}
/** 401: the root key is missing, unknown, revoked, suspended or expired. */
export class KeywardAuthenticationError extends KeywardError {}
/** 403: the root key lacks the scope, or is used from a disallowed address. */
export class KeywardPermissionError extends KeywardError {}
/** 404: no such key (in this workspace) or route. */
export class KeywardNotFoundError extends KeywardError {}
/** 409: an Idempotency-Key reused with another body, or a key in the wrong state. */
export class KeywardConflictError extends KeywardError {}
/** 412: If-Match did not match the key's current version. */
export class KeywardPreconditionError extends KeywardError {}
/** 413: the body is over the server's limit. */
export class KeywardPayloadTooLargeError extends KeywardError {}
/** 429: too many requests; `retryAfterMs` comes from Retry-After when sent. */
export class KeywardRateLimitError extends KeywardError {
  readonly retryAfterMs: number | null;
  constructor(message: string, code: ErrorCode, requestId: string | null, retryAfterMs: number | null) {
    super(message, 429, code, requestId);
    this.retryAfterMs = retryAfterMs;
  }
}
/** 5xx: the server failed. */
export class KeywardServerError extends KeywardError {}
/** The server could not be reached, or the connection broke. */
export class KeywardNetworkError extends KeywardError {}
/** No answer within `timeoutMs`. */
export class KeywardTimeoutError extends KeywardError {}
/** The server answered with a body that does not match the schema; the message names the field. */
export class KeywardResponseError extends KeywardError {}
