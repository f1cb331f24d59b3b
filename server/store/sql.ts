import { type RawBuilder, sql } from 'kysely';
import { KeywardError } from '../errors';

/** A JSON value as a jsonb parameter. Sent as text and cast, so pg and PGlite encode it the same way. */
export function jsonb(value: unknown): RawBuilder<string> {
  return sql<string>`${JSON.stringify(value)}::text::jsonb`;
}

/** Encodes a keyset-pagination position as an opaque cursor. */
export function encodeCursor(position: (string | number)[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** Decodes a cursor made by encodeCursor; null when it was not made by us. */
export function decodeCursor(cursor: string, arity: number): (string | number)[] | null {
  try {
    const position: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(position) || position.length !== arity) return null;
    if (!position.every((part) => typeof part === 'string' || typeof part === 'number')) return null;
    return position as (string | number)[];
  } catch {
    return null;
  }
}

/** The answer to a cursor this server did not issue, named as the route's other query errors are. */
export function foreignCursorError(): KeywardError {
  return KeywardError.invalidField('querystring.cursor', 'is not a cursor this server issued');
}
