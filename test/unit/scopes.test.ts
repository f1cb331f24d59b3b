import { GRANTED_SCOPE_PATTERN, REQUESTED_SCOPE_PATTERN } from '../../schema';
import { compileScopes } from '../../server/verify/scopes';

describe('scope grammar', () => {
  it.each(['contacts:read', 'contacts:*', '*:read', '*', 'deals:write@team/emea', 'a.b-c_d:e@X/y-1/z.2'])(
    'grants %s',
    (scope) => {
      expect(GRANTED_SCOPE_PATTERN.test(scope)).toBe(true);
    },
  );
  it.each([
    '',
    'contacts',
    'Contacts:read',
    'contacts:read@',
    'contacts:read@a//b',
    'a:b:c',
    '**',
    'contacts :read',
    'a:b@x y',
  ])('refuses to grant %j', (scope) => {
    expect(GRANTED_SCOPE_PATTERN.test(scope)).toBe(false);
  });
  it('requires concrete requested scopes', () => {
    expect(REQUESTED_SCOPE_PATTERN.test('contacts:read@team/emea')).toBe(true);
    expect(REQUESTED_SCOPE_PATTERN.test('contacts:*')).toBe(false);
    expect(REQUESTED_SCOPE_PATTERN.test('*')).toBe(false);
  });
});

describe('scope matching', () => {
  const allows = (granted: string[], requested: string[]) => compileScopes(granted).allows(requested);

  it('matches exact, resource wildcard, action wildcard and global wildcard grants', () => {
    expect(allows(['contacts:read'], ['contacts:read'])).toBe(true);
    expect(allows(['contacts:read'], ['contacts:export'])).toBe(false);
    expect(allows(['contacts:*'], ['contacts:export'])).toBe(true);
    expect(allows(['contacts:*'], ['deals:read'])).toBe(false);
    expect(allows(['*:read'], ['deals:read'])).toBe(true);
    expect(allows(['*:read'], ['deals:write'])).toBe(false);
    expect(allows(['*'], ['users:manage@org/1'])).toBe(true);
  });

  it('needs every requested scope', () => {
    expect(allows(['contacts:read', 'email:send'], ['contacts:read', 'email:send'])).toBe(true);
    expect(allows(['contacts:read'], ['contacts:read', 'email:send'])).toBe(false);
    expect(allows([], ['contacts:read'])).toBe(false);
    expect(allows([], [])).toBe(true);
  });

  it('narrows by qualifier on path-segment boundaries', () => {
    expect(allows(['contacts:read@team/emea'], ['contacts:read@team/emea'])).toBe(true);
    expect(allows(['contacts:read@team/emea'], ['contacts:read@team/emea/sales'])).toBe(true);
    expect(allows(['contacts:read@team/emea'], ['contacts:read@team/emeax'])).toBe(false);
    expect(allows(['contacts:read@team/emea'], ['contacts:read'])).toBe(false);
    expect(allows(['contacts:read'], ['contacts:read@team/apac'])).toBe(true);
    expect(allows(['contacts:*@brand/a'], ['contacts:export@brand/a/x'])).toBe(true);
  });

  it('matches management scopes, which have no resource:action shape, exactly', () => {
    expect(allows(['verify'], ['verify'])).toBe(true);
    expect(allows(['verify'], ['keys:read'])).toBe(false);
    expect(allows(['keys:read'], ['verify'])).toBe(false);
  });
});

describe('a compiled key asked again and again', () => {
  it('answers every repeat as it answered first, past the number of verdicts it remembers', () => {
    const matcher = compileScopes(['contacts:*', 'email:send', 'deals:read@team/emea']);
    const expected = (scope: string) =>
      scope.startsWith('contacts:') ||
      scope === 'email:send' ||
      scope === 'deals:read@team/emea' ||
      scope.startsWith('deals:read@team/emea/');
    const scopes = Array.from(
      { length: 600 },
      (_, index) =>
        [
          `contacts:a${index}`,
          `email:s${index}`,
          `deals:read@team/emea/x${index}`,
          `deals:read@team/apac${index}`,
          `users:manage${index}`,
        ][index % 5]!,
    );
    for (let round = 0; round < 3; round += 1) {
      for (const scope of [...scopes, 'email:send', 'contacts:read', 'email:read', 'deals:read']) {
        expect({ scope, allowed: matcher.allows([scope]) }).toEqual({ scope, allowed: expected(scope) });
      }
    }
    expect(matcher.allows(['contacts:read', 'email:send'])).toBe(true);
    expect(matcher.allows(['contacts:read', 'email:read'])).toBe(false);
  });
});
