import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { generateKey, parseKey } from '../../server/keys/format';
import { compileAllowlist } from '../../server/verify/ip';
import { compileScopes } from '../../server/verify/scopes';

/* Properties the verify pipeline relies on, over many random cases (fast-check). */
describe('properties', () => {
  const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

  it('every generated key parses, and any one changed character after the prefix fails its checksum', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('live', 'test', 'root') as fc.Arbitrary<'live' | 'test' | 'root'>,
        fc.nat(),
        fc.nat(),
        (tag, position, replacement) => {
          const key = generateKey(tag);
          expect(parseKey(key)).toEqual({ tag });
          const prefixLength = `kw_${tag}_`.length;
          const index = prefixLength + (position % (key.length - prefixLength));
          const substitute = ALPHABET[replacement % ALPHABET.length]!;
          fc.pre(substitute !== key[index]);
          expect(parseKey(key.slice(0, index) + substitute + key.slice(index + 1))).toBeNull();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects any string that is not exactly a key', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const parsed = parseKey(text);
        if (parsed) expect(text).toMatch(/^kw_(live|test|root)_[0-9A-Za-z]{49}$/);
      }),
    );
  });

  const name = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,10}$/);

  it('scope matching: exact grants, resource wildcards, action wildcards and * behave as documented', () => {
    fc.assert(
      fc.property(name, name, name, name, (resource, action, otherResource, otherAction) => {
        const scope = `${resource}:${action}`;
        expect(compileScopes([scope]).allows([scope])).toBe(true);
        expect(compileScopes([`${resource}:*`]).allows([scope])).toBe(true);
        expect(compileScopes([`*:${action}`]).allows([scope])).toBe(true);
        expect(compileScopes(['*']).allows([scope, `${otherResource}:${otherAction}`])).toBe(true);
        if (otherResource !== resource) expect(compileScopes([`${otherResource}:*`]).allows([scope])).toBe(false);
        if (otherAction !== action) expect(compileScopes([`${resource}:${otherAction}`]).allows([scope])).toBe(false);
        // Every requested scope must be granted.
        if (otherResource !== resource)
          expect(compileScopes([scope]).allows([scope, `${otherResource}:${action}`])).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.'));
  const toInteger = (address: string) => address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);

  it('IPv4 CIDR matching agrees with plain bit arithmetic, and IPv4-mapped IPv6 addresses match the same ranges', () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (network, address, prefix) => {
        const base = ipaddr.IPv4.networkAddressFromCIDR(`${network}/${prefix}`).toString();
        const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
        const inside = (toInteger(address) & mask) >>> 0 === (toInteger(base) & mask) >>> 0;
        const matcher = compileAllowlist([`${base}/${prefix}`]);
        expect(matcher.allows(address)).toBe(inside);
        expect(matcher.allows(`::ffff:${address}`)).toBe(inside);
      }),
      { numRuns: 500 },
    );
  });

  it('IPv6 CIDR matching agrees with bit arithmetic over the 128-bit address', () => {
    const ipv6 = fc
      .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
      .map((groups) => groups.map((group) => group.toString(16)).join(':'));
    const toBigInt = (address: string) =>
      ipaddr.IPv6.parse(address)
        .toByteArray()
        .reduce((sum, byte) => (sum << 8n) + BigInt(byte), 0n);
    fc.assert(
      fc.property(ipv6, ipv6, fc.integer({ min: 0, max: 128 }), (network, address, prefix) => {
        const base = ipaddr.IPv6.networkAddressFromCIDR(`${network}/${prefix}`).toString();
        const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix);
        // IPv4-mapped addresses are unwrapped to IPv4 first, so an IPv6 range never holds them.
        fc.pre(!ipaddr.IPv6.parse(address).isIPv4MappedAddress());
        const inside = (toBigInt(address) & mask) === (toBigInt(base) & mask);
        expect(compileAllowlist([`${base}/${prefix}`]).allows(address)).toBe(inside);
        // An IPv4 range never admits an IPv6 address.
        expect(compileAllowlist(['0.0.0.0/0']).allows(address)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
