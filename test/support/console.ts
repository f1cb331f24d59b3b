import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { raw } from './harness';

/** Builds the web console into a new temporary directory (what `npm run build` does into dist/console). */
export function buildConsoleInto(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-console-'));
  execFileSync(process.execPath, [join(__dirname, '../../scripts/build-console.mjs'), dir], { stdio: 'pipe' });
  return dir;
}

/** The value of one cookie in a response's Set-Cookie header, with its attributes, or undefined. */
export function setCookie(headers: Headers, name: string): { value: string; attributes: string[] } | undefined {
  for (const line of headers.getSetCookie()) {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const equals = pair?.indexOf('=') ?? -1;
    if (pair && equals > 0 && pair.slice(0, equals) === name)
      return { value: pair.slice(equals + 1), attributes: attributes.map((attribute) => attribute.toLowerCase()) };
  }
  return undefined;
}

/** A browser's side of a console session, over plain HTTP: the cookie and CSRF token it holds. */
export interface ConsoleSessionClient {
  cookie: string;
  csrfToken: string;
  session: Record<string, unknown>;
  /** A request as the console makes it: cookie always, CSRF token unless `csrf: false`. */
  request(
    method: string,
    path: string,
    options?: { body?: unknown; csrf?: boolean; headers?: Record<string, string> },
  ): ReturnType<typeof raw>;
}

/** Signs in over HTTP as the console does; throws unless the server answers 201 with a session cookie. */
export async function signInOverHttp(
  url: string,
  rootKey: string,
  headers: Record<string, string> = {},
): Promise<ConsoleSessionClient> {
  const answer = await raw(url, 'POST', '/console/session', { body: { rootKey }, headers });
  if (answer.status !== 201) throw new Error(`sign-in answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  const cookie = setCookie(answer.headers, 'keyward_session');
  if (!cookie) throw new Error('sign-in set no session cookie');
  const csrfToken = answer.body.csrfToken as string;
  return {
    cookie: cookie.value,
    csrfToken,
    session: answer.body,
    request(method, path, options = {}) {
      return raw(url, method, path, {
        ...(options.body !== undefined ? { body: options.body } : {}),
        headers: {
          cookie: `keyward_session=${cookie.value}`,
          ...(options.csrf === false ? {} : { 'x-csrf-token': csrfToken }),
          ...headers,
          ...(options.headers ?? {}),
        },
      });
    },
  };
}
