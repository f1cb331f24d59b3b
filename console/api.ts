import type { ErrorBody, FieldIssue } from '../schema/errors';

/*
 * The console's thin fetch layer over the same /v1 API every client uses. The browser sends the
 * HttpOnly session cookie by itself; the layer adds the session's CSRF token to every change
 * (docs/console.md). The token lives in this module's memory only: never in storage.
 */

/** A refusal from keyward, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[],
    readonly retryAfter: string | null,
  ) {
    super(message);
  }
}

/** A refusal's messages by the body field each names (`body.url` gives `url`); empty for any other error. */
export function fieldMessages(error: unknown): Record<string, string> {
  const byField: Record<string, string> = {};
  if (error instanceof ApiError)
    for (const issue of error.issues) {
      const field = issue.path.split('.')[1];
      if (field) byField[field] = issue.message;
    }
  return byField;
}

/** What a query string may carry; empty values are left out. */
export type Query = Record<string, string | number | boolean | undefined | null>;

let csrfToken: string | null = null;
let sessionEnded: (message: string) => void = () => undefined;

/** Remembers the session's CSRF token (null after sign-out) and what to do when the session ends. */
export function setSessionToken(token: string | null, onEnded?: (message: string) => void): void {
  csrfToken = token;
  if (onEnded) sessionEnded = onEnded;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A path with its query string, empty values left out. */
export function withQuery(path: string, query: Query = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/** One API call: the parsed answer and its ETag, or an ApiError. */
export async function call<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  options: { query?: Query; body?: unknown; ifMatch?: number } = {},
): Promise<{ data: T; etag: string | null }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(
      0,
      'NETWORK',
      'keyward did not answer. Check that it is running and that you are online.',
      [],
      null,
    );
  }
  const text = await response.text();
  const parsed = text ? parse(text) : null;
  if (!response.ok) {
    const error = (parsed as ErrorBody | null)?.error;
    const failure = new ApiError(
      response.status,
      error?.code ?? 'UNKNOWN',
      error?.message ?? `keyward answered with status ${response.status}`,
      error?.issues ?? [],
      response.headers.get('retry-after'),
    );
    if (response.status === 401 && path.startsWith('/v1/')) sessionEnded(failure.message);
    throw failure;
  }
  return { data: parsed as T, etag: response.headers.get('etag') };
}

/** A GET's parsed answer. */
export async function get<T>(path: string, query?: Query): Promise<T> {
  return (await call<T>('GET', path, query ? { query } : {})).data;
}
