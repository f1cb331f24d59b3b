import { createHash, createHmac } from 'node:crypto';
import { type InnerList, type Item, parseDictionary, serializeInnerList } from 'structured-headers';

/*
 * HTTP Message Signatures (RFC 9421) with hmac-sha256, and Content-Digest (RFC 9530): the wire
 * format both sides build the same way, the SDK's signer and the server's verifier.
 * Structured fields are parsed and serialized by `structured-headers` (RFC 8941/9651).
 */

/** How far `created` may be from the verifier's clock, in seconds, either way. */
export const SIGNATURE_MAX_SKEW_SECONDS = 300;

/** The components every signature must cover; `content-digest` too when the request has a body. */
export const REQUIRED_COMPONENTS = ['@method', '@target-uri'] as const;

/** The parts of a request that signing reads. Header names are lower case. */
export interface MessageParts {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** `sha-256=:<base64>:` for a body, as the Content-Digest header carries it. */
export function contentDigest(body: string | Uint8Array): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

/** A derived component's value (RFC 9421 §2.2), or undefined for one we do not support. */
function derivedComponent(name: string, parts: MessageParts): string | undefined {
  const url = new URL(parts.url);
  switch (name) {
    case '@method':
      return parts.method.toUpperCase();
    case '@target-uri':
      return parts.url;
    case '@authority':
      return url.host.toLowerCase();
    case '@scheme':
      return url.protocol.replace(/:$/, '').toLowerCase();
    case '@path':
      return url.pathname || '/';
    case '@query':
      return url.search || '?';
    case '@request-target':
      return `${url.pathname || '/'}${url.search}`;
    default:
      return undefined;
  }
}

/** The signature base (RFC 9421 §2.5) for `components` and the serialized signature parameters; throws on a component the request lacks. */
export function signatureBase(parts: MessageParts, signatureParams: InnerList): string {
  const lines = signatureParams[0].map(([component, parameters]) => {
    if (typeof component !== 'string') throw new Error('a covered component must be a string');
    if (parameters.size > 0) throw new Error(`component parameters are not supported ("${component}")`);
    const value = component.startsWith('@') ? derivedComponent(component, parts) : parts.headers[component]?.trim();
    if (value === undefined) throw new Error(`the request has no "${component}"`);
    return `"${component}": ${value}`;
  });
  lines.push(`"@signature-params": ${serializeInnerList(signatureParams)}`);
  return lines.join('\n');
}

/** HMAC-SHA256 of a signature base with a signing secret (its UTF-8 bytes are the HMAC key). */
export function hmacSignature(secret: string, base: string): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(base, 'utf8').digest();
}

/** The signature parameters a signer writes: what is covered, when, by which key, with a fresh nonce. */
export function signatureParameters(
  components: string[],
  parameters: { created: number; keyId: string; nonce: string },
): InnerList {
  const items: Item[] = components.map((component) => [component, new Map()]);
  return [
    items,
    new Map<string, string | number>([
      ['created', parameters.created],
      ['keyid', parameters.keyId],
      ['nonce', parameters.nonce],
      ['alg', 'hmac-sha256'],
    ]),
  ];
}

/** Parses Signature-Input and Signature and picks the signature made with `keyId` (or the first, when keyId is undefined). */
export function findSignature(
  headers: Record<string, string>,
  keyId?: string,
): { label: string; params: InnerList; signature: Buffer } | { error: string } {
  const input = headers['signature-input'];
  const value = headers.signature;
  if (!input || !value) return { error: 'the request carries no Signature-Input and Signature' };
  let inputs: Map<string, unknown>;
  let signatures: Map<string, unknown>;
  try {
    inputs = parseDictionary(input);
    signatures = parseDictionary(value);
  } catch (error) {
    return { error: `unreadable signature headers: ${(error as Error).message}` };
  }
  for (const [label, member] of inputs) {
    if (!Array.isArray(member) || !Array.isArray(member[0])) continue;
    const params = member as InnerList;
    if (keyId !== undefined && params[1].get('keyid') !== keyId) continue;
    const signed = signatures.get(label) as Item | undefined;
    if (!signed || !(signed[0] instanceof ArrayBuffer))
      return { error: `no byte-sequence signature for label ${label}` };
    return { label, params, signature: Buffer.from(signed[0]) };
  }
  return { error: keyId === undefined ? 'no signature in Signature-Input' : `no signature made with key ${keyId}` };
}
