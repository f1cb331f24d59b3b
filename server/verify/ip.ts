import ipaddr from 'ipaddr.js';

/** A precompiled IP allowlist. */
export interface IpMatcher {
  /** True when the list is empty, or the address lies in one of its ranges. */
  allows(ip: string | undefined): boolean;
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses a client address, unwrapping IPv4-mapped IPv6 (`::ffff:10.0.0.1` is `10.0.0.1`). */
export function parseClientIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  // Parsing costs more than the match itself, and callers' addresses repeat: remember them.
  let address = parsedAddresses.get(ip);
  if (address === undefined) {
    try {
      address = ipaddr.process(ip);
    } catch {
      address = null;
    }
    if (parsedAddresses.size >= ADDRESS_MEMO_SIZE) parsedAddresses.clear();
    parsedAddresses.set(ip, address);
  }
  return address;
}

/** Addresses remembered by parseClientIp (never mutated by matching); cleared when full, so memory stays bounded. */
const ADDRESS_MEMO_SIZE = 10_000;
const parsedAddresses = new Map<string, ipaddr.IPv4 | ipaddr.IPv6 | null>();

/** Compiles canonical CIDRs (see schema/cidr.ts) once per cached key. */
export function compileAllowlist(cidrs: readonly string[]): IpMatcher {
  if (cidrs.length === 0) return { allows: () => true };
  const ranges: Range[] = cidrs.map((cidr) => ipaddr.parseCIDR(cidr));
  return {
    allows(ip) {
      // A key that is limited to some addresses fails closed when the caller's address is unknown.
      if (ip === undefined) return false;
      const address = parseClientIp(ip);
      if (!address) return false;
      return ranges.some(([network, prefix]) => network.kind() === address.kind() && address.match(network, prefix));
    },
  };
}
