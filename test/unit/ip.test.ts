import { canonicalCidr } from '../../schema';
import { compileAllowlist } from '../../server/verify/ip';

describe('CIDR canonical form', () => {
  it.each([
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.0.2.7', '192.0.2.7/32'],
    ['2001:DB8::1/32', '2001:db8::/32'],
    ['::1', '::1/128'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:192.0.2.1', '192.0.2.1/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
  ])('%s becomes %s', (input, output) => {
    expect(canonicalCidr(input)).toBe(output);
  });
  it.each(['', '10.0.0.0/33', '300.1.1.1', 'fe80::/129', 'example.com', '10.0.0.0/-1', '1.2.3'])(
    'rejects %j',
    (input) => {
      expect(canonicalCidr(input)).toBeNull();
    },
  );
});

describe('IP allowlist matching', () => {
  const list = compileAllowlist(['10.0.0.0/8', '2001:db8::/32', '192.0.2.1/32']);
  it.each([
    ['10.200.1.1', true],
    ['11.0.0.1', false],
    ['::ffff:10.0.0.1', true],
    ['::ffff:a00:1', true],
    ['2001:db8:ffff::1', true],
    ['2001:db9::1', false],
    ['192.0.2.1', true],
    ['192.0.2.2', false],
    ['not-an-ip', false],
  ])('%s → %s', (ip, expected) => {
    expect(list.allows(ip)).toBe(expected);
  });
  it('allows anything when empty, and nothing when the address is unknown and the list is not', () => {
    expect(compileAllowlist([]).allows(undefined)).toBe(true);
    expect(list.allows(undefined)).toBe(false);
  });
});
