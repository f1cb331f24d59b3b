import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/*
 * Who sent a request. Behind trusted proxies the client is the nearest X-Forwarded-For entry
 * no trusted proxy vouches for; otherwise the peer. Fastify gets the same trust test as its
 * trustProxy, and the verify lane and the root-key guard both ask clientAddress(), so every path
 * sees one address for one request.
 */

/** How requests are traced back to their client. */
export interface ClientAddresses {
  /** The trust test for fastify's trustProxy option (false: no proxy trusted). */
  trust: ((address: string, hop: number) => boolean) | false;
  /** The client's address of a request. */
  clientAddress(request: IncomingMessage): string | null;
  /** The host the client asked for, as fastify's request.hostname reads it: for request log lines. */
  hostname(request: IncomingMessage): string;
}

/** Makes the address resolution for a list of trusted proxy CIDRs. */
export function clientAddresses(trustedProxies: readonly string[]): ClientAddresses {
  const trust = trustedProxies.length > 0 ? proxyAddr.compile([...trustedProxies]) : false;
  return {
    trust,
    clientAddress: trust
      ? (request) => {
          const addresses = proxyAddr.all(request, trust);
          return addresses[addresses.length - 1] ?? null;
        }
      : (request) => request.socket.remoteAddress ?? null,
    hostname(request) {
      const forwarded = request.headers['x-forwarded-host'];
      const address = request.socket.remoteAddress;
      // A trusted proxy's X-Forwarded-Host names the host; the last one when it is repeated.
      const host =
        trust && typeof forwarded === 'string' && address !== undefined && trust(address, 0)
          ? forwarded.slice(forwarded.lastIndexOf(',') + 1).trim()
          : (request.headers.host ?? '');
      return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':', 1)[0] ?? '');
    },
  };
}
