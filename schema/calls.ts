import { z } from 'zod';
import { CursorSchema, LimitSchema, TimestampSchema } from './common';
import { VerifyCodeSchema } from './verify';

/** One verification, as the call log records it. */
export const CallSchema = z
  .object({
    id: z.string(),
    at: TimestampSchema,
    keyId: z.string().nullable().describe('Null when the presented key is unknown'),
    keyStart: z.string().nullable().describe("The presented key's display prefix"),
    ip: z.string().nullable().describe("The caller's IP as passed to verify"),
    scopes: z.array(z.string()),
    method: z.string().nullable(),
    path: z.string().nullable(),
    code: VerifyCodeSchema,
    latencyMs: z.number(),
  })
  .meta({ id: 'Call' });
export type Call = z.infer<typeof CallSchema>;

export const CallPageSchema = z
  .object({ items: z.array(CallSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'CallPage' });

/** Query of `GET /v1/calls`: newest first. */
export const ListCallsQuerySchema = z.strictObject({
  keyId: z.string().max(100).optional(),
  code: VerifyCodeSchema.optional(),
  ip: z.string().max(64).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  cursor: CursorSchema.optional(),
  limit: LimitSchema,
});
export type ListCallsQuery = z.infer<typeof ListCallsQuerySchema>;

/** Query of `GET /v1/keys/{id}/calls`. */
export const ListKeyCallsQuerySchema = ListCallsQuerySchema.omit({ keyId: true });
