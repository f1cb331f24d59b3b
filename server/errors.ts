import type { z } from 'zod';
import { ERROR_CATALOGUE, type ErrorCode, type FieldIssue } from '../schema';

/**
 * An expected failure, carried as a value with a catalogue code. Services throw it; the edge
 * (server/http/errors.ts) turns it into the HTTP status the catalogue assigns. Messages must
 * never contain a key, a secret or the pepper.
 */
export class KeywardError extends Error {
  readonly code: ErrorCode;
  readonly issues: FieldIssue[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string = ERROR_CATALOGUE[code].title,
    options: { issues?: FieldIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'KeywardError';
    this.code = code;
    this.issues = options.issues;
    this.headers = options.headers ?? {};
  }

  /** The HTTP status of this error's code. */
  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  /** A 400 that names one field and why it was rejected. */
  static invalidField(path: string, reason: string): KeywardError {
    return new KeywardError('KW_ERR_VALIDATION', `${path} ${reason}`, { issues: [{ path, message: reason }] });
  }

  /** A 400 from a zod parse done by hand (not at the route), with each issue's path under `prefix`. */
  static fromZod(error: z.ZodError, prefix: string): KeywardError {
    const issues = error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? { path: [prefix, ...issue.path, issue.keys.join(',')].join('.'), message: 'is not a known field' }
        : { path: [prefix, ...issue.path].join('.'), message: issue.message },
    );
    return new KeywardError('KW_ERR_VALIDATION', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), {
      issues,
    });
  }

  /** A 404 for a key id the caller's workspace does not have. */
  static keyNotFound(id: string, kind: 'api' | 'root' = 'api'): KeywardError {
    return new KeywardError(
      'KW_ERR_NOT_FOUND',
      `no ${kind === 'root' ? 'root key' : 'key'} with id ${JSON.stringify(id)}`,
    );
  }
}
