import { type LookupAddress, lookup } from 'node:dns';
import { promisify } from 'node:util';
import ipaddr from 'ipaddr.js';
import { KeywardError } from '../errors';

const lookupAll = promisify(lookup);

/** What a webhook URL may point at, from the configuration. */
export interface AddressPolicy {
  /** KEYWARD_WEBHOOK_ALLOW_PRIVATE: loopback, private and link-local addresses are allowed too. */
  allowPrivate: boolean;
  /** KEYWARD_WEBHOOK_ALLOW_HTTP: plain http is allowed too. */
  allowHttp: boolean;
}

/**
 * Why an address may not receive webhooks, or null when it is a public unicast address. Only
 * ipaddr.js's `unicast` passes: loopback, private, link-local (169.254.169.254, the cloud metadata
 * address), unique-local, carrier-grade NAT, reserved, multicast and the NAT64/6to4/Teredo
 * embeddings (which can carry any IPv4 address) are all refused. An IPv4-mapped IPv6 address is
 * judged as the IPv4 address it carries.
 */
export function blockedAddressReason(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'is not an IP address';
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  return range === 'unicast' ? null : `resolves to a ${range} address, which webhooks may not reach`;
}

/** The host of a URL as DNS and ipaddr.js take it: IPv6 literals lose their brackets. */
function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Checks a webhook URL on create and update: https (unless allowed), no credentials, and every
 * address its host resolves to public (unless allowed). Throws a 400 naming `field`.
 */
export async function assertDeliverableUrl(text: string, policy: AddressPolicy, field: string): Promise<void> {
  const url = new URL(text);
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:'))
    throw KeywardError.invalidField(field, 'must be an https URL');
  if (url.username || url.password) throw KeywardError.invalidField(field, 'must not carry credentials');
  if (policy.allowPrivate) return;
  const host = hostOf(url);
  let addresses: LookupAddress[];
  try {
    addresses = ipaddr.isValid(host) ? [{ address: host, family: 0 }] : await lookupAll(host, { all: true });
  } catch {
    throw KeywardError.invalidField(field, 'has a host that does not resolve');
  }
  for (const { address } of addresses) {
    const reason = blockedAddressReason(address);
    if (reason) throw KeywardError.invalidField(field, `has a host that ${reason}`);
  }
}

/**
 * A `lookup` for node's http(s).request that refuses a non-public address at connect time, so a
 * host that resolved to a public address on create and to a private one now (DNS rebinding) is
 * still refused, and the address checked is the one connected to.
 */
export function guardedLookup(policy: AddressPolicy): typeof lookup {
  const guarded = (
    hostname: string,
    options: { all?: boolean },
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      if (!policy.allowPrivate) {
        for (const { address } of list) {
          const reason = blockedAddressReason(address);
          if (reason) return callback(Object.assign(new Error(`the host ${reason}`), { code: 'EBLOCKED' }), []);
        }
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error('the host has no address'), { code: 'ENOTFOUND' }), []);
      return callback(null, first.address, first.family);
    });
  };
  return guarded as unknown as typeof lookup;
}

/**
 * Why the literal IP address in a URL's host may not be reached, or null. Node connects to a
 * literal address without calling `lookup`, so a delivery checks literals here first.
 */
export function blockedLiteralReason(text: string, policy: AddressPolicy): string | null {
  if (policy.allowPrivate) return null;
  const host = hostOf(new URL(text));
  return ipaddr.isValid(host) ? blockedAddressReason(host) : null;
}
