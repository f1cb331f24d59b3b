import { randomUUID } from 'node:crypto';
import { CreateKeyBodySchema, durationSeconds, RotationSchema } from '../../schema';
import type { ApiKey, Keyward } from '../../sdk';
import { parseKey, suppliedKeyProblem } from '../../server/keys/format';
import { type CtyObject, type CtyValue, containsUnknown, toJson, UNKNOWN } from './cty';
import { type Diagnostic, diagnostic, issuesToDiagnostics } from './diagnostics';
import { apiPolicyOf, defaultOf, POLICY_ATTRIBUTES, policyStateOf, SERVER_DEFAULTS } from './policy';
import type { CtyType } from './schema';

/*
 * keyward_api_key: what each RPC means for a key. Policy arguments map 1:1 to the API's fields
 * (snake_case here, camelCase there); rotate_after, rotate_every_days, grace_period and
 * key_wo_version live only in the state and drive replacement and retirement. key_wo is
 * write-only: it arrives in the configuration of the apply that creates the key, goes to the
 * server as `key`, and is null in every state and plan this file returns.
 */

const COMPUTED_ONLY = ['id', 'key', 'signing_secret', 'start', 'status', 'created_at'] as const;

/** What the engine announced it can do (ClientCapabilities); an engine before 6.6 announces nothing. */
export interface EngineCapabilities {
  writeOnlyAttributesAllowed: boolean;
}

/** ValidateResourceConfig: the shared zod schemas, on every value already known, and key_wo's rules. */
export function validateApiKeyConfig(config: CtyObject, engine: EngineCapabilities): Diagnostic[] {
  const policy = apiPolicyOf(config);
  // An unknown name (from another resource) is fine; check the rest around a stand-in.
  const parsed = CreateKeyBodySchema.safeParse({ name: 'unknown until apply', ...policy });
  const rotation = RotationSchema.safeParse(
    Object.fromEntries(
      (['rotate_after', 'rotate_every_days', 'grace_period'] as const)
        .filter((field) => config[field] !== null && config[field] !== undefined && !containsUnknown(config[field]!))
        .map((field) => [field.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase()), config[field]]),
    ),
  );
  const diagnostics = [
    ...(parsed.success ? [] : issuesToDiagnostics(parsed.error.issues)),
    ...(rotation.success ? [] : issuesToDiagnostics(rotation.error.issues)),
    ...validateSuppliedKey(config, engine),
  ];
  return diagnostics;
}

function isSet(value: CtyValue | undefined): boolean {
  return value !== null && value !== undefined;
}

function validateSuppliedKey(config: CtyObject, engine: EngineCapabilities): Diagnostic[] {
  if (!isSet(config.key_wo)) {
    return isSet(config.key_wo_version)
      ? [
          diagnostic(
            'error',
            'key_wo_version without key_wo',
            'key_wo_version: set it only with key_wo (rotate_after rotates a key keyward generates)',
            ['key_wo_version'],
          ),
        ]
      : [];
  }
  // An engine that does not know write-only arguments would keep key_wo in its state and plans.
  if (!engine.writeOnlyAttributesAllowed)
    return [
      diagnostic(
        'error',
        'key_wo needs an engine with write-only arguments',
        'key_wo: this OpenTofu or Terraform does not support write-only arguments (they arrived in OpenTofu 1.11 and Terraform 1.11), so it would store the key in its state and plan files. Upgrade the engine, or remove key_wo and key_wo_version and let keyward generate the key (it is then in `key`, and in the state).',
        ['key_wo'],
      ),
    ];
  const diagnostics: Diagnostic[] = [];
  if (!isSet(config.key_wo_version))
    diagnostics.push(
      diagnostic(
        'error',
        'Missing key_wo_version',
        "key_wo_version: required with key_wo. key_wo is never stored, so a change to it cannot be seen: changing key_wo_version is what replaces the key with key_wo's value",
        ['key_wo_version'],
      ),
    );
  if (typeof config.key_wo === 'string') {
    const environment = config.environment ?? SERVER_DEFAULTS.environment;
    // With the environment still unknown, only the shape and checksum can be checked now.
    const problem =
      typeof environment === 'string'
        ? suppliedKeyProblem(config.key_wo, environment as 'live' | 'test')
        : parseKey(config.key_wo)
          ? null
          : 'must be a keyward key with a valid checksum';
    if (problem) diagnostics.push(diagnostic('error', 'Invalid key_wo', `key_wo: ${problem}`, ['key_wo']));
  }
  return diagnostics;
}

/**
 * The server's refusal of a supplied key, as a diagnostic on key_wo: a 400 naming body.key, or a
 * 409 conflict (the key is in use somewhere). Anything else is not about key_wo: null.
 */
export function keyWoDiagnostic(error: unknown): Diagnostic | null {
  const refused = error as { status?: number; code?: string; issues?: { path: string; message: string }[] };
  const issue = refused.status === 400 ? refused.issues?.find((candidate) => candidate.path === 'body.key') : undefined;
  if (issue) return diagnostic('error', 'Invalid key_wo', `key_wo: ${issue.message}`, ['key_wo']);
  if (refused.status === 409 && refused.code === 'KW_ERR_CONFLICT')
    return diagnostic(
      'error',
      'key_wo is already in use',
      'key_wo: keyward already holds this key; a supplied key must be new (generate one with the ephemeral keyward_key_material). Nothing was created.',
      ['key_wo'],
    );
  return null;
}

/** The result of planning one change. */
export interface ApiKeyPlan {
  planned: CtyObject | null;
  requiresReplace: string[][];
  plannedPrivate: Buffer;
}

/** PlanResourceChange: computed values unknown on create and on replacement, and replacement when a rotation trigger moves. */
export function planApiKey(
  prior: CtyObject | null,
  proposed: CtyObject | null,
  config: CtyObject | null,
  priorPrivate: Buffer,
): ApiKeyPlan {
  if (proposed === null) return { planned: null, requiresReplace: [], plannedPrivate: priorPrivate };
  const requiresReplace: string[][] = [];
  if (prior !== null) {
    // An imported key has no rotate_after yet: setting one adopts it rather than rotating it.
    if (prior.rotate_after !== null && !sameValue(prior.rotate_after, proposed.rotate_after))
      requiresReplace.push(['rotate_after']);
    // No adoption here: the consumer takes key_wo's value, so the key must become that value.
    if (!sameValue(prior.key_wo_version, proposed.key_wo_version)) requiresReplace.push(['key_wo_version']);
    if (
      prior.environment !== null &&
      !sameValue(prior.environment, proposed.environment) &&
      proposed.environment !== UNKNOWN
    )
      requiresReplace.push(['environment']);
    const everyDays = proposed.rotate_every_days;
    if (
      typeof everyDays === 'number' &&
      typeof prior.created_at === 'string' &&
      Date.now() - Date.parse(prior.created_at) > everyDays * 86_400_000
    )
      requiresReplace.push(['rotate_every_days']);
  }
  if (prior !== null && requiresReplace.length === 0) {
    const planned: CtyObject = { ...proposed, key_wo: null };
    for (const field of COMPUTED_ONLY) planned[field] = prior[field] ?? null;
    // Turning signing on may issue the signing secret in this update.
    const signs =
      proposed.require_signature === true ||
      (Array.isArray(proposed.signed_scopes) && proposed.signed_scopes.length > 0) ||
      proposed.signed_scopes === UNKNOWN;
    const signedBefore =
      prior.require_signature === true || (Array.isArray(prior.signed_scopes) && prior.signed_scopes.length > 0);
    if (signs && !signedBefore && (prior.signing_secret === null || prior.signing_secret === undefined))
      planned.signing_secret = UNKNOWN;
    return { planned, requiresReplace, plannedPrivate: priorPrivate };
  }
  // A new key: create, or the create half of a replacement.
  const planned: CtyObject = { ...proposed, key_wo: null };
  for (const field of COMPUTED_ONLY) planned[field] = UNKNOWN;
  // A supplied key leaves nothing of itself in state: `key` and `start` stay null.
  if (isSet(config?.key_wo)) {
    planned.key = null;
    planned.start = null;
  }
  for (const [field, fallback] of Object.entries(SERVER_DEFAULTS))
    if (config?.[field] === null || config?.[field] === undefined) planned[field] = fallback;
  // One Idempotency-Key per planned key, carried to apply in the private state.
  return { planned, requiresReplace, plannedPrivate: Buffer.from(JSON.stringify({ idempotencyKey: randomUUID() })) };
}

/** ApplyResourceChange: create (with key_wo's value from `config` when set), update in place, or retire. */
export async function applyApiKey(
  client: Keyward,
  prior: CtyObject | null,
  planned: CtyObject | null,
  plannedPrivate: Buffer,
  config: CtyObject | null,
): Promise<CtyObject | null> {
  if (planned === null) {
    if (prior === null || typeof prior.id !== 'string') return null;
    await client.keys
      .retire(prior.id, {
        gracePeriodSeconds: durationSeconds(typeof prior.grace_period === 'string' ? prior.grace_period : undefined),
      })
      .catch(ignoreNotFound);
    return null;
  }
  if (prior === null) {
    const { idempotencyKey } = plannedPrivate.length
      ? (JSON.parse(plannedPrivate.toString()) as { idempotencyKey?: string })
      : {};
    const supplied = typeof config?.key_wo === 'string' ? config.key_wo : undefined;
    const created = await client.keys.create(
      { ...apiPolicyOf(planned), ...(supplied ? { key: supplied } : {}) } as never,
      idempotencyKey ? { idempotencyKey } : {},
    );
    return { ...stateOf(created, planned, supplied ? null : created.key), signing_secret: created.signingSecret };
  }
  const before = apiPolicyOf(prior, POLICY_ATTRIBUTES);
  const after = apiPolicyOf(planned, POLICY_ATTRIBUTES);
  const patch = Object.fromEntries(
    Object.entries({ ...Object.fromEntries(Object.keys(before).map((field) => [field, null])), ...after }).filter(
      ([field, value]) => JSON.stringify(before[field] ?? null) !== JSON.stringify(value),
    ),
  );
  // A removed argument goes back to the policy's default.
  for (const [field, value] of Object.entries(patch)) if (value === null) patch[field] = defaultOf(field);
  const key = Object.keys(patch).length
    ? await client.keys.update(String(prior.id), patch as never)
    : await client.keys.get(String(prior.id));
  // Turning signing on issues the signing secret, once, in the update's answer.
  const signingSecret: CtyValue =
    'signingSecret' in key && typeof key.signingSecret === 'string'
      ? key.signingSecret
      : (prior.signing_secret ?? null);
  return { ...stateOf(key, planned, prior.key ?? null), signing_secret: signingSecret };
}

/** ReadResource: the server's view; a key revoked, expired or deleted out of band is gone. */
export async function readApiKey(client: Keyward, current: CtyObject): Promise<CtyObject | null> {
  const key = await client.keys.get(String(current.id)).catch(ignoreNotFound);
  if (!key || key.status === 'revoked' || key.status === 'expired') return null;
  return { ...stateOf(key, current, current.key ?? null), signing_secret: current.signing_secret ?? null };
}

/** ImportResourceState: adopt a key by id. Its secret was shown once, elsewhere, so `key` stays null. */
export async function importApiKey(client: Keyward, id: string): Promise<CtyObject> {
  const key = await client.keys.get(id);
  if (key.status === 'revoked' || key.status === 'expired')
    throw new Error(`key ${id} is ${key.status}; only a live key can be imported`);
  return {
    ...stateOf(key, { rotate_after: null, rotate_every_days: null, grace_period: '24h', key_wo_version: null }, null),
    signing_secret: null,
  };
}

/** The data source: a key's current settings by id, never its secret. */
export async function readApiKeyData(client: Keyward, id: string): Promise<CtyObject> {
  const key = await client.keys.get(id);
  return {
    id: key.id,
    ...policyStateOf(key, {}),
    environment: key.environment,
    start: key.start,
    status: key.status,
    created_at: key.createdAt,
    last_used_at: key.lastUsedAt,
    last_used_ip: key.lastUsedIp,
    grace_until: key.graceUntil,
  };
}

/**
 * The state for a key as the server returns it, keeping Terraform's spelling where it means the
 * same. A key that came through key_wo (key_wo_version is required with it) keeps not even its
 * `start` (the prefix and 4 characters) in state: the id names it, and `keyward keys show` has it.
 */
function stateOf(key: ApiKey, held: CtyObject, secret: CtyValue): CtyObject {
  return {
    id: key.id,
    ...policyStateOf(key, held),
    environment: key.environment,
    rotate_after: held.rotate_after ?? null,
    rotate_every_days: held.rotate_every_days ?? null,
    grace_period: held.grace_period ?? '24h',
    key_wo_version: held.key_wo_version ?? null,
    key: secret,
    start: isSet(held.key_wo_version) ? null : key.start,
    status: key.status,
    created_at: key.createdAt,
  };
}

function sameValue(a: CtyValue | undefined, b: CtyValue | undefined): boolean {
  return JSON.stringify(toJson(a ?? null)) === JSON.stringify(toJson(b ?? null));
}

function ignoreNotFound(error: { status?: number }): null {
  if (error.status === 404) return null;
  throw error;
}

/** The resource's object type, from the served schema. */
export function objectTypeOf(attributes: Record<string, { type: CtyType }>): CtyType {
  return ['object', Object.fromEntries(Object.entries(attributes).map(([name, attribute]) => [name, attribute.type]))];
}
