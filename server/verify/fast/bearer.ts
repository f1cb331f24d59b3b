/*
 * The root key in `Authorization: Bearer <token>`, read by hand rather than by a regular
 * expression, as every management and verify request reads it. test/unit/bearer.test.ts checks
 * it against the plain pattern /^Bearer (\S+)$/i on every whitespace character and on random headers.
 */

/** "bearer" in lower case, compared with the header's first six characters folded to lower case. */
const BEARER = [0x62, 0x65, 0x61, 0x72, 0x65, 0x72];

/** Whether a UTF-16 code unit is whitespace as a regular expression's \s means it. */
function isSpace(code: number): boolean {
  if (code > 0x20 && code < 0xa0) return false;
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** The token in `Authorization: Bearer <token>` (the scheme in any case, one space, no whitespace), or null. */
export function bearerToken(header: string): string | null {
  if (header.length < 8 || header.charCodeAt(6) !== 0x20) return null;
  // Folding with 0x20 maps exactly the two cases of each ASCII letter to the lower one.
  for (let index = 0; index < 6; index += 1) if ((header.charCodeAt(index) | 0x20) !== BEARER[index]) return null;
  for (let index = 7; index < header.length; index += 1) if (isSpace(header.charCodeAt(index))) return null;
  return header.slice(7);
}
