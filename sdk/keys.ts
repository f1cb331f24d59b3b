import { generateKey as generateWithTag } from '../server/keys/format';

/**
 * Makes a well-formed keyward API key locally, with no server call: 256 bits from
 * `crypto.randomBytes` and the format's checksum. Pass it as `key` when creating or rotating a key,
 * so the key never has to travel back from keyward (Terraform's write-only `key_wo`, say).
 *
 * @example
 * const key = generateKey({ environment: 'live' });
 * await kw.keys.create({ name: 'billing', scopes: ['invoices:read'], key });
 */
export function generateKey(options: { environment?: 'live' | 'test' } = {}): string {
  return generateWithTag(options.environment ?? 'live');
}
