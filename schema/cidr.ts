import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * Turns an address or CIDR into its canonical `address/prefix` form. IPv4-mapped IPv6 ranges
 * (`::ffff:10.0.0.0/104`) become the IPv4 range they denote, so one rule matches a client however
 * its address reaches us. Returns null when the text is neither.
 */
export function canonicalCidr(text: string): string | null {
  if (!isStrictAddress(text.split('/')[0] ?? '')) return null;
  try {
    let address: ipaddr.IPv4 | ipaddr.IPv6;
    let prefix: number;
    if (text.includes('/')) {
      [address, prefix] = ipaddr.parseCIDR(text);
    } else {
      address = ipaddr.parse(text);
      prefix = address.kind() === 'ipv4' ? 32 : 128;
    }
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
      address = (address as ipaddr.IPv6).toIPv4Address();
      prefix -= 96;
    }
    const network =
      address.kind() === 'ipv4'
        ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${prefix}`)
        : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${prefix}`);
    return `${network.toString()}/${prefix}`;
  } catch {
    return null;
  }
}

/** An IPv4 address in dotted-quad form, or an IPv6 address; ipaddr.js alone also takes `1.2.3` or `0x7f.1`. */
export function isStrictAddress(text: string): boolean {
  // Every verify body carries a client address, and the same addresses come back again and again.
  let valid = strictAddresses.get(text);
  if (valid === undefined) {
    valid = ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
    if (strictAddresses.size >= ADDRESS_MEMO_SIZE) strictAddresses.clear();
    strictAddresses.set(text, valid);
  }
  return valid;
}

/** Addresses remembered by isStrictAddress; cleared when full, so memory stays bounded under any input. */
const ADDRESS_MEMO_SIZE = 10_000;
const strictAddresses = new Map<string, boolean>();

/** An IPv4 or IPv6 address or CIDR range; stored in canonical network/prefix form. */
export const CidrSchema = z
  .string()
  .max(64)
  .refine((value) => canonicalCidr(value) !== null, { message: 'must be an IPv4 or IPv6 address or CIDR range' })
  .transform((value) => canonicalCidr(value) as string);

/** A single IPv4 or IPv6 address. */
export const IpAddressSchema = z
  .string()
  .max(64)
  .refine(isStrictAddress, { message: 'must be an IPv4 or IPv6 address' });
