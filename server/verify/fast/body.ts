import secureJson from 'secure-json-parse';
import { KeywardError } from '../../errors';

/*
 * How every request body is read: which content types are JSON, and how JSON is parsed. Fastify's
 * body parser (server/app.ts) and the verify lane both call these, so the two can never disagree.
 */

/** application/json, with no parameter or a UTF-8 charset, in any case. */
const JSON_TYPE = /^application\/json(?:;\s*charset=utf-8)?$/i;

/** Whether a Content-Type header names a body the server reads: JSON, in UTF-8. */
export function isJsonType(header: string | undefined): boolean {
  // The usual spelling is compared first, so most requests run no regular expression.
  return header === 'application/json' || (header !== undefined && JSON_TYPE.test(header));
}

/** Whether plain JSON.parse reads a text as readJson does: it has no BOM, backslash, `__proto__` or `constructor`. */
export function parsesPlainly(text: string): boolean {
  return (
    text.charCodeAt(0) !== 0xfeff &&
    !text.includes('\\') &&
    !text.includes('__proto__') &&
    !text.includes('constructor')
  );
}

/**
 * Parses a JSON body, refusing poisoned prototypes (`__proto__`, `constructor.prototype`) as
 * fastify's own parser does: its value, or KW_ERR_BAD_JSON. secure-json-parse scans the whole
 * text for those keys, written plainly or with \u escapes; a text with no backslash, BOM,
 * `__proto__` or `constructor` cannot match, and plain JSON.parse gives the same value.
 */
export function readJson(text: string): unknown {
  try {
    if (parsesPlainly(text)) return JSON.parse(text);
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    return new KeywardError('KW_ERR_BAD_JSON');
  }
}

/**
 * A request body as every fastify route reads it: JSON for a JSON content type, nothing for an
 * empty body of any other type (bodiless POSTs carry whatever type a client sets by default), and
 * KW_ERR_UNSUPPORTED_MEDIA_TYPE for anything else. Errors are returned as KeywardError values.
 */
export function readBody(contentType: string | undefined, text: string): unknown {
  if (isJsonType(contentType)) return readJson(text);
  if (text.length === 0) return undefined;
  return new KeywardError('KW_ERR_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json, in UTF-8');
}
