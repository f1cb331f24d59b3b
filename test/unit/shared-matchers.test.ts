import { compileAllowlist } from '../../server/verify/ip';
import { compileScopes } from '../../server/verify/scopes';
import { REMEMBERED_LISTS, SharedMatchers } from '../../server/verify/shared-matchers';

/* Cached keys with equal scope lists or allowlists hold one compiled matcher between them. */
describe('shared matchers', () => {
  it('give keys with equal lists one matcher, and each list its own verdicts', () => {
    const scopes = new SharedMatchers(compileScopes);
    // Lists equal in content, not in identity: each key's record holds its own copy.
    const readers = [
      ['contacts:read', 'deals:read'],
      ['contacts:read', 'deals:read'],
    ].map((list) => scopes.of(list));
    const writer = scopes.of(['contacts:*']);
    expect(readers[0]).toBe(readers[1]);
    expect(writer).not.toBe(readers[0]);
    expect(readers[0]!.allows(['deals:read'])).toBe(true);
    expect(readers[0]!.allows(['contacts:write'])).toBe(false);
    expect(writer.allows(['contacts:write'])).toBe(true);
    expect(writer.allows(['deals:read'])).toBe(false);
  });

  it('never let one list stand in for another that only joins to the same text', () => {
    const scopes = new SharedMatchers(compileScopes);
    const two = scopes.of(['a:b', 'c:d']);
    const one = scopes.of(['a:b,c:d']);
    expect(one).not.toBe(two);
    expect(two.allows(['c:d'])).toBe(true);
    expect(one.allows(['c:d'])).toBe(false);
  });

  it('compile allowlists alike, an empty one included', () => {
    const allowlists = new SharedMatchers(compileAllowlist);
    const office = allowlists.of(['10.0.0.0/8']);
    expect(allowlists.of(['10.0.0.0/8'])).toBe(office);
    expect(office.allows('10.1.2.3')).toBe(true);
    expect(office.allows('192.0.2.1')).toBe(false);
    const anywhere = allowlists.of([]);
    expect(allowlists.of([])).toBe(anywhere);
    expect(anywhere.allows('192.0.2.1')).toBe(true);
  });

  it('remember only the lists compiled last, so keys with lists of their own cost no table entry each', () => {
    let compiled = 0;
    const scopes = new SharedMatchers((list) => {
      compiled += 1;
      return compileScopes(list);
    });
    const first = scopes.of(['contacts:read']);
    for (let n = 0; n < REMEMBERED_LISTS; n += 1) scopes.of([`contacts:read@team/${n}`]);
    expect(compiled).toBe(REMEMBERED_LISTS + 1);
    // The first list was used least lately: compiled anew, and the key that held the old matcher keeps it.
    const again = scopes.of(['contacts:read']);
    expect(compiled).toBe(REMEMBERED_LISTS + 2);
    expect(again).not.toBe(first);
    expect(first.allows(['contacts:read'])).toBe(true);
    expect(again.allows(['contacts:read'])).toBe(true);
  });
});
