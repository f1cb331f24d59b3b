import fc from 'fast-check';
import { bearerToken } from '../../server/verify/fast/bearer';

/*
 * Every management and verify request reads its root key from `Authorization: Bearer <key>`.
 * bearerToken() reads it without a regular expression; it must take exactly what the pattern
 * /^Bearer (\S+)$/i (the scheme in any case, one space, no whitespace in the token) takes.
 */
const PATTERN = /^Bearer (\S+)$/i;
const reference = (header: string) => PATTERN.exec(header)?.[1] ?? null;

/** Every character \s matches, and neighbours of each. */
const SPACES = [
  '\t',
  '\n',
  '\v',
  '\f',
  '\r',
  ' ',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
];
const NEAR = [
  '\u0008',
  '\u000e',
  '\u001f',
  '!',
  '\u009f',
  '\u00a1',
  '\u167f',
  '\u1681',
  '\u1fff',
  '\u200b',
  '\u2027',
  '\u202a',
  '\u202e',
  '\u2030',
  '\u205e',
  '\u2060',
  '\u2fff',
  '\u3001',
  '\ufefe',
  '\uffff',
];

describe('reading the bearer token', () => {
  it('takes the token in the usual spellings', () => {
    expect(bearerToken('Bearer kw_root_abc123')).toBe('kw_root_abc123');
    expect(bearerToken('bearer kw_root_abc123')).toBe('kw_root_abc123');
    expect(bearerToken('BEARER x')).toBe('x');
  });

  it('refuses other schemes, missing tokens and whitespace', () => {
    for (const header of [
      '',
      'Bearer',
      'Bearer ',
      'Bearer  x',
      'Bearer x ',
      'Bearer\tx',
      'Basic abc',
      'Bearerx y',
      ' Bearer x',
      'Bearer x\u00a0y',
      'Bearer x\u3000',
    ]) {
      expect({ header, token: bearerToken(header) }).toEqual({ header, token: null });
    }
  });

  it('agrees with the pattern on every whitespace character and its neighbours, anywhere', () => {
    for (const character of [...SPACES, ...NEAR]) {
      for (const header of [
        `Bearer ${character}`,
        `Bearer a${character}`,
        `Bearer ${character}a`,
        `Bearer a${character}b`,
        `Bearer${character}a`,
        `${character}Bearer a`,
      ]) {
        expect({ header, token: bearerToken(header) }).toEqual({ header, token: reference(header) });
      }
    }
  });

  it('agrees with the pattern on arbitrary headers', () => {
    const scheme = fc.constantFrom(
      'Bearer',
      'bearer',
      'BEARER',
      'bEaReR',
      'Bearer:',
      'Bearerx',
      'Beare',
      'Basic',
      'Bearer\u0131',
      '\u0392earer',
      '',
    );
    const piece = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(...SPACES, ...NEAR),
      fc.string({ unit: 'grapheme', maxLength: 4 }),
    );
    fc.assert(
      fc.property(
        scheme,
        fc.constantFrom(' ', '', '  ', '\t'),
        fc.array(piece, { maxLength: 5 }),
        (name, gap, pieces) => {
          const header = `${name}${gap}${pieces.join('')}`;
          expect(bearerToken(header)).toBe(reference(header));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
