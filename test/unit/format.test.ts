import { generateKey, keyStart, parseKey, presentedStart } from '../../server/keys/format';

describe('key format', () => {
  it('makes kw_<tag>_ keys with 43 base62 body characters and a 6-character CRC32', () => {
    for (const tag of ['live', 'test', 'root'] as const) {
      const key = generateKey(tag);
      expect(key).toMatch(new RegExp(`^kw_${tag}_[0-9A-Za-z]{49}$`));
      expect(parseKey(key)).toEqual({ tag });
    }
  });

  it('carries at least 256 random bits: no repeats, and every base62 character in use', () => {
    const keys = Array.from({ length: 2000 }, () => generateKey('live'));
    expect(new Set(keys).size).toBe(keys.length);
    const alphabet = new Set(keys.flatMap((key) => [...key.slice(8, 51)]));
    expect(alphabet.size).toBe(62);
    expect(62 ** 43).toBeGreaterThan(2 ** 256);
  });

  it('rejects every single-character typo by checksum', () => {
    const key = generateKey('live');
    const body = key.slice(8);
    for (let i = 0; i < body.length; i += 1) {
      const replacement = body[i] === 'x' ? 'y' : 'x';
      expect(parseKey(`kw_live_${body.slice(0, i)}${replacement}${body.slice(i + 1)}`)).toBeNull();
    }
    expect(parseKey(key.replace('kw_live_', 'kw_test_'))).toBeNull();
    expect(parseKey(`${key}x`)).toBeNull();
    expect(parseKey('')).toBeNull();
  });

  it('shows only the prefix and four characters', () => {
    const key = generateKey('test');
    expect(keyStart(key)).toBe(key.slice(0, 12));
    expect(presentedStart(key)).toBe(key.slice(0, 12));
    expect(presentedStart('sk_live_supersecretvalue')).toBe('sk_l');
    expect(presentedStart('\u0000\u0001ab')).toBe('??ab');
  });
});
