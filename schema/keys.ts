import { z } from 'zod';
import { CidrSchema } from './cidr';
import { CursorSchema, jsonDepthBeyond, LimitSchema, QueryBooleanSchema, TimestampSchema } from './common';
import { GrantedScopeSchema, ManagementScopeSchema } from './scopes';

/** Most bytes a key's `metadata`, serialized as JSON, may take. */
export const METADATA_MAX_BYTES = 4096;

export const KEY_STATUSES = ['active', 'suspended', 'retiring', 'expired', 'revoked'] as const;
export const KeyStatusSchema = z.enum(KEY_STATUSES);
export type KeyStatus = z.infer<typeof KeyStatusSchema>;

export const EnvironmentSchema = z.enum(['live', 'test']).describe('The environment tag embedded in the key prefix');

/** How deeply `metadata` may nest objects and arrays, itself included (docs/security.md). */
export const METADATA_MAX_DEPTH = 16;

const JsonRecordSchema = z.record(z.string().max(128), z.json());

/**
 * The depth is checked before zod walks the value (z.json() recurses), so a body of a few KB
 * nested thousands deep is a 400, not a stack overflow. A preprocess step keeps the JSON Schema of
 * the record in the OpenAPI document; the cast keeps its inferred input type.
 */
const DepthLimitedRecordSchema = z.preprocess((value, context) => {
  if (!jsonDepthBeyond(value, METADATA_MAX_DEPTH)) return value;
  context.addIssue({
    code: 'custom',
    message: `must nest objects and arrays at most ${METADATA_MAX_DEPTH} levels deep`,
  });
  return z.NEVER;
}, JsonRecordSchema) as unknown as typeof JsonRecordSchema;

export const MetadataSchema = DepthLimitedRecordSchema.refine(
  (value) => Buffer.byteLength(JSON.stringify(value)) <= METADATA_MAX_BYTES,
  {
    message: `must serialize to at most ${METADATA_MAX_BYTES} bytes of JSON`,
  },
).describe('Free-form JSON returned on every successful verification');

export const RateLimitSchema = z
  .strictObject({
    limit: z.number().int().min(1).max(1_000_000),
    windowSeconds: z.number().int().min(1).max(86_400),
  })
  .describe('At most `limit` successful verifications per `windowSeconds`');
export type RateLimit = z.infer<typeof RateLimitSchema>;

const FutureTimestampSchema = TimestampSchema.refine((value) => Date.parse(value) > Date.now(), {
  message: 'must be in the future',
});

const NameSchema = z.string().trim().min(1).max(200);
const DescriptionSchema = z.string().max(2000);
const MaxAgeDaysSchema = z.number().int().min(1).max(3650);

/** Fields shared by every key's policy, as accepted on create. */
const policyFields = {
  name: NameSchema.describe('A label for people: who or what uses this key'),
  description: DescriptionSchema.nullable().optional().describe('Free text, e.g. the owning team'),
  ipAllowlist: z.array(CidrSchema).max(100).default([]).describe('IPv4/IPv6 CIDRs; empty means any address'),
  expiresAt: FutureTimestampSchema.nullable()
    .optional()
    .describe('An RFC 3339 instant after which the key stops working'),
  metadata: MetadataSchema.default({}),
  rateLimit: RateLimitSchema.nullable().optional(),
  maxAgeDays: MaxAgeDaysSchema.default(180).describe('Past this age the key is due for rotation'),
  signedScopes: z
    .array(GrantedScopeSchema)
    .max(100)
    .default([])
    .describe("Scopes that count only on a request signed with the key's signing secret (RFC 9421, hmac-sha256)"),
  requireSignature: z.boolean().default(false).describe('Every request with this key must be signed'),
};

/** Body of `POST /v1/keys`. */
export const CreateKeyBodySchema = z
  .strictObject({
    ...policyFields,
    environment: EnvironmentSchema.default('live'),
    scopes: z
      .array(GrantedScopeSchema)
      .max(100)
      .default([])
      .describe('What the key may do, e.g. contacts:read or contacts:*'),
  })
  .meta({ id: 'CreateKeyRequest' });
export type CreateKeyBody = z.infer<typeof CreateKeyBodySchema>;
export type CreateKeyInput = z.input<typeof CreateKeyBodySchema>;

/** Body of `POST /v1/root-keys`. */
export const CreateRootKeyBodySchema = z
  .strictObject({
    ...policyFields,
    scopes: z.array(ManagementScopeSchema).min(1).max(20),
  })
  .meta({ id: 'CreateRootKeyRequest' });
export type CreateRootKeyBody = z.infer<typeof CreateRootKeyBodySchema>;

/** A PATCH body: any subset of the policy, with the scopes a key of that kind may carry; never the secret. */
function updateBodyOf<Scopes extends z.ZodType>(scopes: Scopes, id: string) {
  return z
    .strictObject({
      name: NameSchema.optional(),
      description: DescriptionSchema.nullable().optional(),
      scopes: scopes.optional(),
      ipAllowlist: z.array(CidrSchema).max(100).optional(),
      expiresAt: FutureTimestampSchema.nullable().optional(),
      metadata: MetadataSchema.optional(),
      rateLimit: RateLimitSchema.nullable().optional(),
      maxAgeDays: MaxAgeDaysSchema.optional(),
      signedScopes: z.array(GrantedScopeSchema).max(100).optional(),
      requireSignature: z.boolean().optional(),
    })
    .refine((body) => Object.keys(body).length > 0, { message: 'must change at least one field' })
    .meta({ id });
}

/** Body of `PATCH /v1/keys/{id}`. */
export const UpdateKeyBodySchema = updateBodyOf(z.array(GrantedScopeSchema).max(100), 'UpdateKeyRequest');
export type UpdateKeyBody = z.infer<typeof UpdateKeyBodySchema>;

/** Body of `PATCH /v1/root-keys/{id}` (management scopes only). */
export const UpdateRootKeyBodySchema = updateBodyOf(
  z.array(ManagementScopeSchema).min(1).max(20),
  'UpdateRootKeyRequest',
);

/** Body of `POST /v1/keys/{id}/rotate`. */
export const RotateKeyBodySchema = z
  .strictObject({
    gracePeriodSeconds: z
      .number()
      .int()
      .min(0)
      .max(90 * 86_400)
      .default(86_400)
      .describe('How long the old key keeps working; 0 stops it at once'),
  })
  .meta({ id: 'RotateKeyRequest' });

/** Query of `DELETE /v1/keys/{id}` (retire). */
export const RetireKeyQuerySchema = z.strictObject({
  gracePeriodSeconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(90 * 86_400)
    .default(0),
});

/** Query of `GET /v1/keys`. */
export const ListKeysQuerySchema = z.strictObject({
  status: KeyStatusSchema.optional(),
  scope: z.string().max(200).optional().describe('Only keys granted exactly this scope string'),
  name: z.string().max(200).optional().describe('Name prefix'),
  rotationDue: QueryBooleanSchema.optional().describe(
    'Only keys older than their maxAgeDays (true) or younger (false)',
  ),
  cursor: CursorSchema.optional(),
  limit: LimitSchema,
});
export type ListKeysQuery = z.infer<typeof ListKeysQuerySchema>;

/** A key as the API shows it. It never holds the secret; `start` is safe to display. */
export const ApiKeySchema = z
  .object({
    id: z.string(),
    kind: z.enum(['api', 'root']),
    workspaceId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    environment: EnvironmentSchema,
    start: z.string().describe('The prefix and first 4 characters, for display'),
    scopes: z.array(z.string()),
    ipAllowlist: z.array(z.string()),
    expiresAt: TimestampSchema.nullable(),
    metadata: z.record(z.string(), z.json()),
    rateLimit: RateLimitSchema.nullable(),
    maxAgeDays: z.number().int(),
    signedScopes: z.array(z.string()),
    requireSignature: z.boolean(),
    rotationDueAt: TimestampSchema,
    rotationDue: z.boolean(),
    status: KeyStatusSchema.describe('active, suspended, retiring (in its grace period), expired or revoked'),
    createdAt: TimestampSchema.describe('When the key was issued'),
    updatedAt: TimestampSchema,
    version: z.number().int(),
    lastUsedAt: TimestampSchema.nullable().describe('The last successful verification'),
    lastUsedIp: z.string().nullable().describe('The client IP of the last successful verification'),
    predecessorId: z.string().nullable(),
    successorId: z.string().nullable(),
    graceUntil: TimestampSchema.nullable().describe('A retiring key works until this instant'),
  })
  .meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof ApiKeySchema>;

/** Returned once by create and rotate: the key object plus its secret. */
export const CreatedKeySchema = ApiKeySchema.extend({
  key: z.string().describe('The secret. It is shown only in this response.'),
  signingSecret: z
    .string()
    .nullable()
    .describe(
      'For a key with signedScopes or requireSignature: the HMAC secret for signing requests, shown only in this response',
    ),
}).meta({ id: 'CreatedApiKey' });

/** A key after PATCH; `signingSecret` is there once, when the change turned signing on for the first time. */
export const UpdatedKeySchema = ApiKeySchema.extend({
  signingSecret: z
    .string()
    .nullable()
    .optional()
    .describe('Shown once, when this change gave the key its first signing secret'),
}).meta({ id: 'UpdatedApiKey' });
export type UpdatedKey = z.infer<typeof UpdatedKeySchema>;
export type CreatedKey = z.infer<typeof CreatedKeySchema>;

export const KeyPageSchema = z
  .object({ items: z.array(ApiKeySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ApiKeyPage' });
export type KeyPage = z.infer<typeof KeyPageSchema>;
