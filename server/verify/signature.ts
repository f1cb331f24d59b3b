import { timingSafeEqual } from 'node:crypto';
import { parseDictionary } from 'structured-headers';
import {
  findSignature,
  hmacSignature,
  REQUIRED_COMPONENTS,
  SIGNATURE_MAX_SKEW_SECONDS,
  type SignedRequest,
  signatureBase,
} from '../../schema';

/** What checking a request's signature found; `nonce` is still to be claimed against replays. */
export type SignatureVerdict =
  | { ok: true; nonce: string; created: number }
  | { ok: false; code: 'SIGNATURE_REQUIRED' | 'SIGNATURE_INVALID' | 'SIGNATURE_EXPIRED'; reason: string };

/** The keyid of the first signature on a request, for a signed request that carries no key. */
export function signatureKeyId(request: SignedRequest): string | undefined {
  const found = findSignature(request.headers);
  if ('error' in found) return undefined;
  const keyId = found.params[1].get('keyid');
  return typeof keyId === 'string' ? keyId : undefined;
}

function invalid(reason: string): SignatureVerdict {
  return { ok: false, code: 'SIGNATURE_INVALID', reason };
}

/**
 * Checks an RFC 9421 hmac-sha256 signature made with key `keyId`: the covered components, the
 * Content-Digest against the body digest the API owner computed, freshness of `created`, and the
 * HMAC itself (compared in constant time). Replays are the caller's part: it claims the nonce.
 */
export function checkSignature(
  request: SignedRequest | undefined,
  keyId: string,
  signingSecret: string,
  now: number,
): SignatureVerdict {
  if (!request || (!request.headers['signature-input'] && !request.headers.signature))
    return { ok: false, code: 'SIGNATURE_REQUIRED', reason: 'this key requires a signed request' };
  const found = findSignature(request.headers, keyId);
  if ('error' in found) return invalid(found.error);
  const [items, params] = found.params;
  const covered = new Set(items.map(([component]) => component));
  for (const component of REQUIRED_COMPONENTS)
    if (!covered.has(component)) return invalid(`the signature must cover ${component}`);
  const hasBody = request.bodyDigest !== undefined || request.headers['content-digest'] !== undefined;
  if (hasBody && !covered.has('content-digest')) return invalid('a request with a body must sign content-digest');
  const alg = params.get('alg');
  if (alg !== undefined && alg !== 'hmac-sha256') return invalid(`alg ${String(alg)} is not hmac-sha256`);
  const created = params.get('created');
  const nonce = params.get('nonce');
  if (typeof created !== 'number' || !Number.isInteger(created))
    return invalid('the signature has no integer created parameter');
  if (typeof nonce !== 'string' || nonce.length < 8 || nonce.length > 256)
    return invalid('the signature needs a nonce of 8 to 256 characters');
  if (Math.abs(now / 1000 - created) > SIGNATURE_MAX_SKEW_SECONDS)
    return {
      ok: false,
      code: 'SIGNATURE_EXPIRED',
      reason: `created is more than ${SIGNATURE_MAX_SKEW_SECONDS} s from now`,
    };
  const expires = params.get('expires');
  if (typeof expires === 'number' && expires * 1000 < now)
    return { ok: false, code: 'SIGNATURE_EXPIRED', reason: 'the signature has expired' };

  if (request.bodyDigest !== undefined) {
    // The header is what was signed; the digest is what actually arrived. They must agree.
    const claimed = digestEntries(request.headers['content-digest']);
    const received = digestEntries(request.bodyDigest);
    const shared = [...received.keys()].filter((algorithm) => claimed.has(algorithm));
    if (shared.length === 0 || shared.some((algorithm) => claimed.get(algorithm) !== received.get(algorithm)))
      return invalid('the body does not match Content-Digest');
  }

  let base: string;
  try {
    base = signatureBase({ method: request.method, url: request.url, headers: request.headers }, found.params);
  } catch (error) {
    return invalid((error as Error).message);
  }
  const expected = hmacSignature(signingSecret, base);
  if (found.signature.length !== expected.length || !timingSafeEqual(found.signature, expected))
    return invalid('the signature does not match');
  return { ok: true, nonce, created };
}

/** Content-Digest entries, algorithm → base64 digest; empty when absent or unreadable. */
function digestEntries(header: string | undefined): Map<string, string> {
  if (!header) return new Map();
  try {
    return new Map(
      [...parseDictionary(header)].flatMap(([algorithm, member]) =>
        Array.isArray(member) && member[0] instanceof ArrayBuffer
          ? [[algorithm, Buffer.from(member[0]).toString('base64')] as [string, string]]
          : [],
      ),
    );
  } catch {
    return new Map();
  }
}
