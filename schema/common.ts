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

