import { randomBytes } from 'node:crypto';
import type { InternalAxiosRequestConfig } from 'axios';
import { serializeDictionary } from 'structured-headers';
import { contentDigest, hmacSignature, signatureBase, signatureParameters } from '../schema/signing';

/** What signing a request needs: the key's id and its signing secret (both from create or rotate). */
export interface SigningCredentials {
  keyId: string;
  signingSecret: string;
}

/**
 * The headers that sign one request (RFC 9421, hmac-sha256): Signature-Input and Signature, and
 * Content-Digest (RFC 9530) when there is a body. Covers @method, @target-uri and content-digest.
 * @example
 * const headers = signatureHeaders({ method: 'POST', url: 'https://api.example.com/contacts/export', body }, { keyId, signingSecret });
 * await fetch(url, { method: 'POST', body, headers: { ...headers, 'content-type': 'application/json' } });
 */
export function signatureHeaders(
  request: { method: string; url: string; body?: string | Uint8Array | undefined },
  credentials: SigningCredentials,
  options: { now?: number; nonce?: string; label?: string } = {},
): Record<string, string> {
  const headers: Record<string, string> = {};
  const components = ['@method', '@target-uri'];
  if (request.body !== undefined && request.body.length > 0) {
    headers['content-digest'] = contentDigest(request.body);
    components.push('content-digest');
  }
  const params = signatureParameters(components, {
    created: Math.floor((options.now ?? Date.now()) / 1000),
    keyId: credentials.keyId,
    nonce: options.nonce ?? randomBytes(16).toString('base64url'),
  });
  const base = signatureBase({ method: request.method, url: request.url, headers }, params);
  const label = options.label ?? 'sig1';
  headers['signature-input'] = serializeDictionary(new Map([[label, params]]));
  headers.signature = serializeDictionary(
    new Map([[label, [hmacSignature(credentials.signingSecret, base), new Map()]]]) as never,
  );
  return headers;
}

/**
 * An axios request interceptor that signs every request it sends, so an API that checks
 * signatures through keyward accepts it. Objects are sent as JSON, serialized here so the digest
 * covers the exact bytes on the wire.
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.com' });
 * api.interceptors.request.use(signRequest({ keyId: created.id, signingSecret: created.signingSecret! }));
 * await api.post('/contacts/export', { since: '2026-01-01' });
 */
export function signRequest(credentials: SigningCredentials, options: { key?: string } = {}) {
  return (config: InternalAxiosRequestConfig): InternalAxiosRequestConfig => {
    const method = (config.method ?? 'get').toUpperCase();
    let body: string | Uint8Array | undefined;
    if (config.data !== undefined && config.data !== null) {
      if (typeof config.data === 'string' || config.data instanceof Uint8Array) body = config.data;
      else {
        body = JSON.stringify(config.data);
        config.headers.set('content-type', 'application/json', false);
      }
      config.data = body;
    }
    const url = new URL(config.url ?? '', config.baseURL ?? undefined);
    for (const [name, value] of Object.entries((config.params as Record<string, unknown> | undefined) ?? {}))
      if (value !== undefined) url.searchParams.append(name, String(value));
    config.url = url.toString();
    config.baseURL = undefined;
    config.params = undefined;
    for (const [name, value] of Object.entries(signatureHeaders({ method, url: config.url, body }, credentials)))
      config.headers.set(name, value);
    if (options.key) config.headers.set('authorization', `Bearer ${options.key}`);
    return config;
  };
}
