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

/** Query of `GET /v1/keys/{id}/callers`. */
export const ListCallersQuerySchema = z.strictObject({
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Only calls at or after this instant; 7 days back when left out'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type ListCallersQuery = z.infer<typeof ListCallersQuerySchema>;

/** One address a key was used from, with its latest call. */
export const CallerSchema = z
  .object({
    ip: z.string().nullable().describe('The caller IP as passed to verify; null for calls that passed none'),
    calls: z.number().int().describe('How many calls came from it in the period'),
    lastAt: TimestampSchema,
    lastCode: VerifyCodeSchema,
    lastMethod: z.string().nullable(),
    lastPath: z.string().nullable(),
  })
  .meta({ id: 'Caller' });
export type Caller = z.infer<typeof CallerSchema>;

/** Answer of `GET /v1/keys/{id}/callers`: who used the key since `since`, latest call first. */
export const CallerListSchema = z
  .object({
    since: TimestampSchema,
    items: z.array(CallerSchema),
    truncated: z
      .boolean()
      .describe('More addresses called than `limit`: the ones whose last call is oldest are left out'),
  })
  .meta({ id: 'CallerList' });
export type CallerList = z.infer<typeof CallerListSchema>;

/** Query of `GET /v1/calls/stats`. */
export const CallStatsQuerySchema = z.strictObject({
  keyId: z.string().max(100).optional().describe("Only this API key's calls"),
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(168)
    .default(24)
    .describe('How many hours back, the current hour included; 168 is 7 days'),
});
export type CallStatsQuery = z.infer<typeof CallStatsQuerySchema>;

/** Answer of `GET /v1/calls/stats`: calls per hour by result code, oldest hour first. */
export const CallStatsSchema = z
  .object({
    from: TimestampSchema.describe('The start of the first hour'),
    to: TimestampSchema.describe('The end of the last hour (the current one)'),
    bucketSeconds: z.number().int(),
    buckets: z.array(
      z.object({
        at: TimestampSchema.describe('The start of the hour'),
        counts: z
          .partialRecord(VerifyCodeSchema, z.number().int())
          .describe('Calls by code; codes with none are left out'),
      }),
    ),
  })
  .meta({ id: 'CallStats' });
export type CallStats = z.infer<typeof CallStatsSchema>;
