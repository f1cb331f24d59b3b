import { z } from 'zod';
import { IpAddressSchema } from './cidr';
import { TimestampSchema } from './common';
import { KeyStatusSchema } from './keys';
import { RequestedScopeSchema } from './scopes';

/** Every outcome of a verification; only VALID means the request may proceed. */
export const VERIFY_CODES = [
  'VALID',
  'MALFORMED',
  'NOT_FOUND',
  'REVOKED',
  'SUSPENDED',
  'EXPIRED',
  'IP_NOT_ALLOWED',
  'INSUFFICIENT_SCOPE',
  'RATE_LIMITED',
] as const;
export const VerifyCodeSchema = z.enum(VERIFY_CODES);
export type VerifyCode = z.infer<typeof VerifyCodeSchema>;

/** Body of `POST /v1/verify`. */
export const VerifyRequestSchema = z
  .strictObject({
    key: z.string().min(1).max(512).describe('The key the caller presented'),
    scopes: z.array(RequestedScopeSchema).max(50).optional().describe('Every one must be granted'),
    ip: IpAddressSchema.optional().describe("The caller's IP, checked against the key's allowlist"),
    method: z.string().min(1).max(16).optional(),
    path: z.string().min(1).max(2048).optional(),
  })
  .meta({ id: 'VerifyRequest' });
export type VerifyRequest = z.infer<typeof VerifyRequestSchema>;

export const VerifyRateLimitSchema = z.object({
  limit: z.number().int(),
  remaining: z.number().int(),
  resetAt: TimestampSchema,
});

/** Answer of `POST /v1/verify`: always 200 for a well-formed request; `code` says why it is (in)valid. */
export const VerifyResponseSchema = z
  .object({
    valid: z.boolean(),
    code: VerifyCodeSchema,
    keyId: z.string().nullable(),
    scopes: z.array(z.string()),
    metadata: z.record(z.string(), z.json()).nullable(),
    expiresAt: TimestampSchema.nullable(),
    status: KeyStatusSchema.nullable(),
    deprecated: z.boolean().describe('True while the key is retiring: switch to its successor'),
    graceUntil: TimestampSchema.nullable(),
    successorId: z.string().nullable(),
    rateLimit: VerifyRateLimitSchema.nullable(),
  })
  .meta({ id: 'VerifyResponse' });
export type VerifyResponse = z.infer<typeof VerifyResponseSchema>;
