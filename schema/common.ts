import { z } from 'zod';

/** An RFC 3339 timestamp with an offset, e.g. `2026-11-22T13:00:00.000Z`. */
export const TimestampSchema = z.iso.datetime({ offset: true });

/** An opaque pagination cursor returned as `nextCursor`. */
export const CursorSchema = z.string().max(512);

/** Page size for list endpoints. */
export const LimitSchema = z.coerce.number().int().min(1).max(500).default(50);

/** A boolean in a query string: `true`/`false`/`1`/`0`. */
export const QueryBooleanSchema = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/** Identifier of a key or root key in a path. */
export const KeyIdParamsSchema = z.strictObject({
  id: z.string().min(1).max(100),
});

/**
 * How deeply `value` nests arrays and objects (a scalar is 0, `{}` is 1), counted without
 * recursion and only up to `limit + 1`: caller-controlled JSON is measured before anything walks
 * it recursively, so a deeply nested body can never exhaust the stack.
 */
export function jsonDepthBeyond(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** A camelCase name in snake_case, at the type level: `ipAllowlist` → `ip_allowlist`. */
export type SnakeCase<Name extends string> = Name extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : Name;

/** camelCase → snake_case: the spelling of a field in the store and in Terraform. */
export function snakeCase<Name extends string>(name: Name): SnakeCase<Name> {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`) as SnakeCase<Name>;
}

/** snake_case → camelCase: the API spelling of a column or a Terraform attribute. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}
