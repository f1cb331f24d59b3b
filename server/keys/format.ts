import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/*
 * Key format (docs/key-format.md):  kw_<tag>_<body><checksum>
 *   tag       live | test for API keys, root for root keys
 *   body      43 base62 characters: 32 bytes (256 bits) from crypto.randomBytes
 *   checksum  6 base62 characters: CRC32 of everything before it (prefix and body)
 * A typo fails the checksum, so it is rejected without a lookup, and a scanner can tell a
 * real key from a look-alike.
 */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const START_BODY_CHARS = 4;
const KEY_PATTERN = /^kw_(live|test|root)_([0-9A-Za-z]{49})$/;

export type KeyTag = 'live' | 'test' | 'root';

function base62(value: bigint, width: number): string {
  let text = '';
  let rest = value;
  while (rest > 0n) {
    text = ALPHABET[Number(rest % 62n)] + text;
    rest /= 62n;
  }
  return text.padStart(width, '0');
}

function checksum(text: string): string {
  // A CRC32 fits in a double exactly, so plain arithmetic is enough (and cheaper than BigInt on the hot path).
  let rest = crc32(text);
  let digits = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i += 1) {
    digits = ALPHABET[rest % 62] + digits;
    rest = Math.floor(rest / 62);
  }
  return digits;
}

/** Makes a new key with 256 random bits for the given tag. */
export function generateKey(tag: KeyTag): string {
  const prefix = `kw_${tag}_`;
  const body = base62(BigInt(`0x${randomBytes(32).toString('hex')}`), BODY_LENGTH);
  return `${prefix}${body}${checksum(prefix + body)}`;
}

/** 2^256: a body must encode a number below it, i.e. at most 256 bits. */
const BODY_LIMIT = 1n << 256n;

/**
 * Why a caller-supplied key is not one keyward would have made for this tag (wrong shape, prefix,
 * checksum or a body above 256 bits), or null when it is well-formed. The reason never repeats the key.
 */
export function suppliedKeyProblem(text: string, tag: KeyTag): string | null {
  const match = KEY_PATTERN.exec(text);
  if (!match) return `must be a keyward key: kw_${tag}_ then 49 base62 characters`;
  if (match[1] !== tag) return `must start with kw_${tag}_ for this key's environment`;
  if (parseKey(text) === null) return 'has a wrong checksum';
  let body = 0n;
  for (const char of text.slice(`kw_${tag}_`.length, text.length - CHECKSUM_LENGTH)) {
    body = body * 62n + BigInt(ALPHABET.indexOf(char));
  }
  if (body >= BODY_LIMIT) return 'has a body above 256 bits';
  return null;
}

/** The key's shape, or null when it is not a keyward key or its checksum fails. */
export function parseKey(text: string): { tag: KeyTag } | null {
  const match = KEY_PATTERN.exec(text);
  if (!match) return null;
  const payload = text.slice(0, text.length - CHECKSUM_LENGTH);
  if (checksum(payload) !== text.slice(-CHECKSUM_LENGTH)) return null;
  return { tag: match[1] as KeyTag };
}

/** The non-secret display form: the prefix and the first 4 characters of the body. */
export function keyStart(text: string): string {
  const underscore = text.indexOf('_', 3);
  return text.slice(0, underscore + 1 + START_BODY_CHARS);
}

/**
 * A display prefix for a presented string that may not be a key at all, for the call log. It
 * keeps at most 12 characters and never more than the prefix plus 4 body characters.
 */
export function presentedStart(text: string): string {
  const match = /^kw_(live|test|root)_/.exec(text);
  return match ? keyStart(text) : text.slice(0, 4).replace(/[^\x20-\x7e]/g, '?');
}

/**
 * Anything shaped like a keyward key or signing secret: a documented prefix (its underscores also
 * percent-encoded, as a URL may carry them), 4 characters kept for display, and the rest.
 */
const SECRET_SHAPED = /(kw(?:_|%5[Ff])(?:live|test|root|sig)(?:_|%5[Ff])[A-Za-z0-9]{4})[A-Za-z0-9_-]+/g;

/** Masks anything shaped like a keyward key or signing secret, keeping its display prefix: for text that echoes input (log URLs, error messages). */
export function maskSecrets(text: string): string {
  return text.includes('kw') ? text.replace(SECRET_SHAPED, '$1…[redacted]') : text;
}

/** Replaces each key-shaped token by its display prefix and `…`: for free text that is stored (call-log paths). */
export function shortenSecrets(text: string): string {
  return text.includes('kw') ? text.replace(SECRET_SHAPED, '$1…') : text;
}
