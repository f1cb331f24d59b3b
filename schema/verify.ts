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
  'SIGNATURE_REQUIRED',
  'SIGNATURE_INVALID',
  'SIGNATURE_EXPIRED',
  'REPLAYED',
  'RATE_LIMITED',
  'BLOCKED',
] as const;
export const VerifyCodeSchema = z.enum(VERIFY_CODES);
export type VerifyCode = z.infer<typeof VerifyCodeSchema>;

/** The parts of a received HTTP request a signature covers, as the API owner saw them. */
export const SignedRequestSchema = z.strictObject({
  method: z.string().min(1).max(16).describe('The request method, e.g. POST'),
  url: z
    .url({ protocol: /^https?$/ })
    .max(8192)
    .describe('The full target URI: scheme, host, path and query'),
  headers: z
    .record(
      z
        .string()
        .max(256)
        .transform((name) => name.toLowerCase()),
      z.string().max(8192),
    )
    .refine((headers) => Object.keys(headers).length <= 100, { message: 'at most 100 headers' })
    .describe('Header names to values (names in any case; several values joined with ", ")'),
  bodyDigest: z
    .string()
    .max(512)
    .optional()
    .describe(
      'The Content-Digest of the body as received (RFC 9530, e.g. sha-256=:…:), computed by the API owner; present whenever the request had a body',
    ),
});
export type SignedRequest = z.infer<typeof SignedRequestSchema>;

/** Body of `POST /v1/verify`. */
export const VerifyRequestSchema = z
  .strictObject({
    key: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe('The key the caller presented; a signed request may carry only its key id (the keyid parameter)'),
    scopes: z.array(RequestedScopeSchema).max(50).optional().describe('Every one must be granted'),
    ip: IpAddressSchema.optional().describe("The caller's IP, checked against the key's allowlist"),
    method: z.string().min(1).max(16).optional(),
    path: z.string().min(1).max(2048).optional(),
    request: SignedRequestSchema.optional().describe(
      'The request as received, for keys that sign: its signature is checked (RFC 9421)',
    ),
  })
  .refine((body) => body.key !== undefined || body.request?.headers['signature-input'] !== undefined, {
    message: 'needs the key, or a signed request (request.headers with signature-input and signature)',
    path: ['key'],
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
