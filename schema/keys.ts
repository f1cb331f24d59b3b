import { z } from 'zod';
import { CidrSchema } from './cidr';
import { CursorSchema, jsonDepthBeyond, LimitSchema, QueryBooleanSchema, TimestampSchema } from './common';
import { ErrorBodySchema } from './errors';
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

/** A rate limit written as text, `LIMIT/SECONDS` (e.g. `100/60`), as command lines take it. */
export const RateLimitTextSchema = z
  .string()
  .regex(/^\d+\/\d+s?$/, 'must be LIMIT/SECONDS, e.g. 100/60')
  .transform((text) => {
    const [limit, windowSeconds] = text.replace(/s$/, '').split('/').map(Number) as [number, number];
    return { limit, windowSeconds };
  })
  .pipe(RateLimitSchema)
  .describe('LIMIT/SECONDS');

const FutureTimestampSchema = TimestampSchema.refine((value) => Date.parse(value) > Date.now(), {
  message: 'must be in the future',
});

const GrantedScopesSchema = z.array(GrantedScopeSchema).max(100);

/**
 * One field of a key's policy, in every form a surface needs:
 * - `accepts`: what create accepts, with its limits, description and default;
 * - `shows`: how the API shows the stored value (no limits: a stored value is never re-checked);
 * - `flag`: the CLI flag (repeated for a list; `--no-FLAG` turns a boolean off; `none` clears a
 *   nullable value or a list);
 * - `filter`: how `GET /v1/keys` filters on it, by a query parameter named `flag`, if it does;
 * - `listed`: whether the CLI's key table shows it;
 * - `text`: how a CLI value of an object-typed field is read, when not as JSON.
 */
interface PolicyFieldSpec {
  accepts: z.ZodType;
  shows: z.ZodType;
  flag: string;
  filter?: 'exact' | 'prefix' | 'contains';
  listed?: boolean;
  text?: z.ZodType;
}

/**
 * The key policy: the one home of every field a key's owner sets, its limits, default and
 * description. The API bodies and answers, the SDK types, the CLI flags, the Pulumi inputs, the
 * Terraform schema and the CDKTF bindings all derive from this table; adding a field here (plus a
 * store migration) is all a new field needs.
 */
export const KEY_POLICY = {
  name: {
    accepts: z.string().trim().min(1).max(200).describe('A label for people: who or what uses this key'),
    shows: z.string(),
    flag: 'name',
    filter: 'prefix',
  },
  description: {
    accepts: z.string().max(2000).nullable().optional().describe('Free text: what the key is for'),
    shows: z.string().nullable(),
    flag: 'description',
  },
  owner: {
    accepts: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .nullable()
      .optional()
      .describe('The team or person responsible for the key, e.g. team-crm'),
    shows: z.string().nullable(),
    flag: 'owner',
    filter: 'exact',
    listed: true,
  },
  scopes: {
    accepts: GrantedScopesSchema.default([]).describe('What the key may do, e.g. contacts:read or contacts:*'),
    shows: z.array(z.string()),
    flag: 'scope',
    filter: 'contains',
    listed: true,
  },
  ipAllowlist: {
    accepts: z.array(CidrSchema).max(100).default([]).describe('IPv4/IPv6 CIDRs; empty means any address'),
    shows: z.array(z.string()),
    flag: 'ip',
    listed: true,
  },
  expiresAt: {
    accepts: FutureTimestampSchema.nullable()
      .optional()
      .describe('An RFC 3339 instant after which the key stops working'),
    shows: TimestampSchema.nullable(),
    flag: 'expires-at',
  },
  metadata: {
    accepts: MetadataSchema.default({}),
    shows: z.record(z.string(), z.json()),
    flag: 'metadata',
  },
  rateLimit: {
    accepts: RateLimitSchema.nullable().optional(),
    shows: RateLimitSchema.nullable(),
    flag: 'rate-limit',
    text: RateLimitTextSchema,
  },
  maxAgeDays: {
    accepts: z.number().int().min(1).max(3650).default(180).describe('Past this age the key is due for rotation'),
    shows: z.number().int(),
    flag: 'max-age-days',
  },
  signedScopes: {
    accepts: GrantedScopesSchema.default([]).describe(
      "Scopes that count only on a request signed with the key's signing secret (RFC 9421, hmac-sha256)",
    ),
    shows: z.array(z.string()),
    flag: 'signed-scope',
  },
  requireSignature: {
    accepts: z.boolean().default(false).describe('Every request with this key must be signed'),
    shows: z.boolean(),
    flag: 'require-signature',
  },
} as const satisfies Record<string, PolicyFieldSpec>;

/** A field of the key policy. */
export type PolicyField = keyof typeof KEY_POLICY;
/** Every policy field, in the table's order. */
export const POLICY_FIELDS = Object.keys(KEY_POLICY) as PolicyField[];

type PolicyShape<Form extends 'accepts' | 'shows'> = { [Field in PolicyField]: (typeof KEY_POLICY)[Field][Form] };
type OptionalShape<Shape> = {
  [Field in keyof Shape]: Shape[Field] extends z.ZodDefault<infer Inner>
    ? z.ZodOptional<Inner>
    : z.ZodOptional<Shape[Field] & z.ZodType>;
};

function policyShape<Form extends 'accepts' | 'shows'>(form: Form): PolicyShape<Form> {
  return Object.fromEntries(POLICY_FIELDS.map((field) => [field, KEY_POLICY[field][form]])) as PolicyShape<Form>;
}

/** Each policy field as a PATCH takes it: optional, with no default (left out means unchanged). */
function patchShape(): OptionalShape<PolicyShape<'accepts'>> {
  return Object.fromEntries(
    POLICY_FIELDS.map((field) => {
      const accepts: z.ZodType = KEY_POLICY[field].accepts;
      return [field, (accepts instanceof z.ZodDefault ? (accepts.unwrap() as z.ZodType) : accepts).optional()];
    }),
  ) as OptionalShape<PolicyShape<'accepts'>>;
}

/** The policy as a create stores it when a field is left out (`null` for an optional field), `name` aside. */
export const POLICY_DEFAULTS = (() => {
  const parsed = z.object(policyShape('accepts')).parse({ name: 'defaults' }) as Record<string, unknown>;
  // Frozen: every key made with a default shares these values, so none may change them in place.
  return Object.freeze(
    Object.fromEntries(
      POLICY_FIELDS.filter((field) => field !== 'name').map((field) => [field, Object.freeze(parsed[field] ?? null)]),
    ),
  );
})() as { readonly [Field in Exclude<PolicyField, 'name'>]: z.output<(typeof KEY_POLICY)[Field]['shows']> };

/** A key's policy as the API shows it. */
export type KeyPolicy = { [Field in PolicyField]: z.output<(typeof KEY_POLICY)[Field]['shows']> };

/** A key the caller made itself (generateKey in keyward/sdk), instead of one keyward generates. */
export const SuppliedKeySchema = z
  .string()
  .max(100)
  .describe(
    "A key you generated, in keyward's format for the key's environment (docs/key-format.md); its randomness is then yours to guarantee. Omit it and keyward generates one",
  );

/** Body of `POST /v1/keys`. */
export const CreateKeyBodySchema = z
  .strictObject({
    ...policyShape('accepts'),
    environment: EnvironmentSchema.default('live'),
    key: SuppliedKeySchema.optional(),
  })
  .meta({ id: 'CreateKeyRequest' });
export type CreateKeyBody = z.infer<typeof CreateKeyBodySchema>;
export type CreateKeyInput = z.input<typeof CreateKeyBodySchema>;

const ManagementScopesSchema = z.array(ManagementScopeSchema).min(1).max(20);

/** Body of `POST /v1/root-keys`: the same policy, with management scopes. */
export const CreateRootKeyBodySchema = z
  .strictObject({ ...policyShape('accepts'), scopes: ManagementScopesSchema })
  .meta({ id: 'CreateRootKeyRequest' });
export type CreateRootKeyBody = z.infer<typeof CreateRootKeyBodySchema>;

/** A PATCH body: any subset of the policy, with the scopes a key of that kind may carry; never the secret. */
function updateBodyOf<Scopes extends z.ZodType>(scopes: Scopes, id: string) {
  return z
    .strictObject({ ...patchShape(), scopes: scopes.optional() })
    .refine((body) => Object.keys(body).length > 0, { message: 'must change at least one field' })
    .meta({ id });
}

/** Body of `PATCH /v1/keys/{id}`. */
export const UpdateKeyBodySchema = updateBodyOf(GrantedScopesSchema, 'UpdateKeyRequest');
export type UpdateKeyBody = z.infer<typeof UpdateKeyBodySchema>;
/** A policy change as a client sends it. */
export type KeyPatch = z.input<typeof UpdateKeyBodySchema>;

/** Body of `PATCH /v1/root-keys/{id}` (management scopes only). */
export const UpdateRootKeyBodySchema = updateBodyOf(ManagementScopesSchema, 'UpdateRootKeyRequest');

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
    key: SuppliedKeySchema.optional().describe(
      "The successor key, generated by you in keyward's format for the key's environment; API keys only",
    ),
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

/** Each policy field that lists filter on, as its query parameter (the field's flag name). */
const policyFilters = Object.fromEntries(
  POLICY_FIELDS.flatMap((field) => {
    const spec: PolicyFieldSpec = KEY_POLICY[field];
    if (!spec.filter) return [];
    const how = { exact: 'Only keys whose', prefix: 'Only keys whose', contains: 'Only keys whose' }[spec.filter];
    const what = { exact: 'equals this', prefix: 'starts with this', contains: 'includes exactly this' }[spec.filter];
    return [[spec.flag, z.string().max(200).optional().describe(`${how} ${field} ${what}`)]];
  }),
) as { name: z.ZodOptional<z.ZodString>; scope: z.ZodOptional<z.ZodString>; owner: z.ZodOptional<z.ZodString> };

/** Query of `GET /v1/keys`. */
export const ListKeysQuerySchema = z.strictObject({
  status: KeyStatusSchema.optional(),
  ...policyFilters,
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
    ...policyShape('shows'),
    environment: EnvironmentSchema,
    start: z.string().describe('The prefix and first 4 characters, for display'),
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

/** The most keys one `POST /v1/keys:batch` may create. */
export const KEY_BATCH_MAX = 1000;

/** An Idempotency-Key: the header of a create or rotate, or one batch item's. */
export const IdempotencyKeySchema = z.string().min(8).max(255);

/** Body of `POST /v1/keys:batch`: each item is a CreateKeyRequest, checked on its own. */
export const CreateKeyBatchBodySchema = z
  .strictObject({
    items: z
      .array(z.unknown())
      .min(1)
      .max(KEY_BATCH_MAX)
      .describe('Up to 1,000 CreateKeyRequest bodies; each is validated and answered separately'),
    idempotencyKeys: z
      .array(IdempotencyKeySchema.nullable())
      .max(KEY_BATCH_MAX)
      .optional()
      .describe(
        "One Idempotency-Key (or null) per item, in the items' order: an item repeated with its key gets its first result, as a create with the Idempotency-Key header does, so a retried batch makes no second key",
      ),
  })
  .refine((body) => body.idempotencyKeys === undefined || body.idempotencyKeys.length === body.items.length, {
    path: ['idempotencyKeys'],
    message: 'must have one entry (a key or null) per item',
  })
  .meta({ id: 'CreateKeyBatchRequest' });

/** One item's answer in a batch: its key (status 201) or its error, at its index in the request. */
export const KeyBatchItemResultSchema = z.union([
  z.object({
    index: z.number().int(),
    status: z.literal(201),
    key: CreatedKeySchema,
    replayed: z
      .boolean()
      .describe("True when this is an earlier request's result, found by the item's Idempotency-Key"),
  }),
  z.object({ index: z.number().int(), status: z.number().int(), error: ErrorBodySchema.shape.error }),
]);

/** Answer of `POST /v1/keys:batch`: one result per item, in order, and the counts. */
export const KeyBatchResultSchema = z
  .object({
    items: z.array(KeyBatchItemResultSchema),
    created: z.number().int(),
    failed: z.number().int(),
  })
  .meta({ id: 'KeyBatchResult' });
export type KeyBatchResult = z.infer<typeof KeyBatchResultSchema>;
