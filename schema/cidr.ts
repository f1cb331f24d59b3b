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
  return parseAddress(text).strict;
}

/** What an address string is: strictly written or not, and the address ipaddr.js reads in it (IPv4-mapped IPv6 unwrapped), if any. */
export interface ParsedAddress {
  strict: boolean;
  address: ipaddr.IPv4 | ipaddr.IPv6 | null;
}

/**
 * Parses an address once per distinct text. Every verify body carries a client address, checked by
 * the schema and then matched against allowlists, and the same addresses come back again and again.
 * The parsed objects are shared: nothing may mutate them.
 */
export function parseAddress(text: string): ParsedAddress {
  let parsed = parsedAddresses.get(text);
  if (parsed === undefined) {
    let address: ipaddr.IPv4 | ipaddr.IPv6 | null;
    try {
      address = ipaddr.process(text);
    } catch {
      address = null;
    }
    parsed = { strict: ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text), address };
    if (parsedAddresses.size >= ADDRESS_MEMO_SIZE) parsedAddresses.clear();
    parsedAddresses.set(text, parsed);
  }
  return parsed;
}

/** Addresses remembered by parseAddress; cleared when full, so memory stays bounded under any input. */
const ADDRESS_MEMO_SIZE = 10_000;
const parsedAddresses = new Map<string, ParsedAddress>();

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
