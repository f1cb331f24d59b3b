import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GITHUB_TOKEN_TYPES } from '../../schema';
import { raw } from './harness';

/** A signing key pair standing in for GitHub's secret-scanning key: tests make their own. */
export interface GithubSigner {
  identifier: string;
  /** The entry GitHub's keys document would list for it. */
  entry: { key_identifier: string; key: string; is_current: boolean };
  privateKey: KeyObject;
  /** The base64 DER ECDSA P-256/SHA-256 signature of `body`, as GitHub sends it. */
  sign(body: string | Buffer): string;
}

/** Makes a P-256 key pair and its keys-document entry. */
export function githubSigner(identifier: string): GithubSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    identifier,
    entry: {
      key_identifier: identifier,
      key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      is_current: true,
    },
    privateKey,
    sign: (body) => sign('sha256', Buffer.from(body), { key: privateKey, dsaEncoding: 'der' }).toString('base64'),
  };
}

/** GitHub's keys document listing these signers. */
export function keysDocument(...signers: GithubSigner[]): string {
  return JSON.stringify({ public_keys: signers.map((signer) => signer.entry) });
}

/** One GitHub match: a token found at a URL. */
export interface Match {
  token: string;
  type: string;
  url: string;
  source: string;
}

/** A match as GitHub would send it for a keyward key. */
export function match(token: string, url = 'https://github.com/octo/app/blob/abc123/.env', source = 'content'): Match {
  return { token, type: GITHUB_TOKEN_TYPES[token.startsWith('kw_root_') ? 'root' : 'api'], url, source };
}

/**
 * POSTs an alert to /v1/leaks/github as GitHub does: the exact body bytes, signed by `signer`
 * (or with the given headers instead), as application/json.
 */
export function sendAlert(
  base: string,
  body: string,
  signer: GithubSigner | null,
  headers: Record<string, string> = {},
): ReturnType<typeof raw> {
  return raw(base, 'POST', '/v1/leaks/github', {
    rawBody: body,
    headers: {
      'content-type': 'application/json',
      ...(signer
        ? { 'github-public-key-identifier': signer.identifier, 'github-public-key-signature': signer.sign(body) }
        : {}),
      ...headers,
    },
  });
}

/** A local stand-in for api.github.com's keys endpoint: serves `document`, counts requests, honours ETags. */
export interface KeysServer {
  url: string;
  document: string;
  requests: number;
  /** The headers of the latest request. */
  lastHeaders: IncomingHttpHeaders;
  /** Answer every request with this status instead (e.g. 500). */
  failWith: number | null;
  close(): Promise<void>;
}

/** Starts a keys endpoint on 127.0.0.1. */
export async function startKeysServer(document: string): Promise<KeysServer> {
  const state = { document, requests: 0, lastHeaders: {} as IncomingHttpHeaders, failWith: null as number | null };
  const server: Server = createServer((request, response) => {
    state.requests += 1;
    state.lastHeaders = request.headers;
    if (state.failWith !== null) {
      response.writeHead(state.failWith).end('unavailable');
      return;
    }
    const etag = `"${createHash('sha256').update(state.document).digest('hex').slice(0, 16)}"`;
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', etag }).end(state.document);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/meta/public_keys/secret_scanning`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
