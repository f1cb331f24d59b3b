import ipaddr from 'ipaddr.js';
import { parseAddress } from '../../schema';

/** A precompiled IP allowlist. */
export interface IpMatcher {
  /** True when the list is empty, or the address lies in one of its ranges. */
  allows(ip: string | undefined): boolean;
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses a client address, unwrapping IPv4-mapped IPv6 (`::ffff:10.0.0.1` is `10.0.0.1`); remembered per text by schema/cidr.ts. */
export function parseClientIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  return parseAddress(ip).address;
}

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
