import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { CreateKeyBodySchema, durationSeconds, RotationSchema, snakeCase } from '../../schema';
import type { ApiKey, Keyward } from '../../sdk';
import { type CtyObject, type CtyValue, containsUnknown, toJson, UNKNOWN } from './cty';
import { type Diagnostic, diagnostic } from './diagnostics';
import { apiPolicyOf, defaultOf, POLICY_ATTRIBUTES, policyStateOf, SERVER_DEFAULTS } from './policy';
import type { CtyType } from './schema';

/*
 * keyward_api_key: what each RPC means for a key. Policy arguments map 1:1 to the API's fields
 * (snake_case here, camelCase there); rotate_after, rotate_every_days and grace_period live only
 * in the state and drive replacement and retirement.
 */

const COMPUTED_ONLY = ['id', 'key', 'signing_secret', 'start', 'status', 'created_at'] as const;

/** zod issues as diagnostics pointing at the attribute (and element) that is wrong. */
function issuesToDiagnostics(issues: z.core.$ZodIssue[]): Diagnostic[] {
  return issues.map((issue) => {
    const path = issue.path.map((step) => (typeof step === 'string' ? snakeCase(step) : step)) as (string | number)[];
    const shown = path
      .map((step, index) => (typeof step === 'number' ? `[${step}]` : index === 0 ? step : `.${step}`))
      .join('');
    return diagnostic('error', `Invalid ${path[0] ?? 'configuration'}`, `${shown}: ${issue.message}`, path);
  });
}

/** ValidateResourceConfig: the shared zod schemas, on every value already known. */
export function validateApiKeyConfig(config: CtyObject): Diagnostic[] {
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
  ];
  return diagnostics;
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
    const planned: CtyObject = { ...proposed };
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
  const planned: CtyObject = { ...proposed };
  for (const field of COMPUTED_ONLY) planned[field] = UNKNOWN;
  for (const [field, fallback] of Object.entries(SERVER_DEFAULTS))
    if (config?.[field] === null || config?.[field] === undefined) planned[field] = fallback;
  // One Idempotency-Key per planned key, carried to apply in the private state.
  return { planned, requiresReplace, plannedPrivate: Buffer.from(JSON.stringify({ idempotencyKey: randomUUID() })) };
}

/** ApplyResourceChange: create, update in place, or retire. */
export async function applyApiKey(
  client: Keyward,
  prior: CtyObject | null,
  planned: CtyObject | null,
  plannedPrivate: Buffer,
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
    const created = await client.keys.create(apiPolicyOf(planned) as never, idempotencyKey ? { idempotencyKey } : {});
    return { ...stateOf(created, planned, created.key), signing_secret: created.signingSecret };
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
    ...stateOf(key, { rotate_after: null, rotate_every_days: null, grace_period: '24h' }, null),
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

/** The state for a key as the server returns it, keeping Terraform's spelling where it means the same. */
function stateOf(key: ApiKey, held: CtyObject, secret: CtyValue): CtyObject {
  return {
    id: key.id,
    ...policyStateOf(key, held),
    environment: key.environment,
    rotate_after: held.rotate_after ?? null,
    rotate_every_days: held.rotate_every_days ?? null,
    grace_period: held.grace_period ?? '24h',
    key: secret,
    start: key.start,
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
