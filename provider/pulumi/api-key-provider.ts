import type * as pulumi from '@pulumi/pulumi';

/*
 * The ApiKey dynamic provider's methods. They run in Pulumi's dynamic-provider host, which loads
 * this module from the installed @keyward/pulumi package: the provider that index.ts hands to the
 * engine only forwards to it, so each resource's state holds a small forwarder, not this code.
 */
/**
 * The policy table, loaded from @keyward/sdk where the provider runs (this module is also the
 * package's, so it names the SDK by package, never by a path into the checkout).
 */
function policy(): Pick<typeof import('../../schema'), 'POLICY_FIELDS' | 'POLICY_DEFAULTS' | 'CreateKeyBodySchema'> {
  return require('@keyward/sdk/schema') as typeof import('../../schema');
}

/** `24h`, `30m`, `90s`, `2d`, or a number of seconds, as seconds. */
export function graceSeconds(text: string | undefined): number {
  if (text === undefined || text === '') return 86_400;
  const match = /^(\d+)\s*([smhd]?)$/.exec(String(text).trim());
  if (!match) throw new Error(`rotation.gracePeriod: ${JSON.stringify(text)} is not a duration like 24h, 30m or 0s`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/*
 * The dynamic provider. Pulumi serializes this object into the state and runs it in its
 * dynamic-provider host, so it captures no clients or handles: each method loads the SDK with
 * require and builds a client from the inputs, the stack config or the environment.
 */
const provider: pulumi.dynamic.ResourceProvider & { settings: { url?: string; rootKey?: string } } = {
  settings: {},

  async configure(request) {
    this.settings = { url: request.config.get('keyward:url'), rootKey: request.config.get('keyward:rootKey') };
  },

  async check(olds, news) {
    const { CreateKeyBodySchema, POLICY_FIELDS } = policy();
    const declared = Object.fromEntries(
      POLICY_FIELDS.filter((field) => news[field] !== undefined).map((field) => [field, news[field]]),
    );
    const parsed = CreateKeyBodySchema.safeParse({
      ...declared,
      ...(news.environment ? { environment: news.environment } : {}),
    });
    const failures = parsed.success
      ? []
      : parsed.error.issues.map((issue) => ({
          property: String(issue.path[0] ?? 'name'),
          reason: `${issue.path.join('.')}: ${issue.message}`,
        }));
    try {
      graceSeconds(news.rotation?.gracePeriod);
    } catch (error) {
      failures.push({ property: 'rotation', reason: (error as Error).message });
    }
    if (news.rotation?.rotateAfter !== undefined && Number.isNaN(Date.parse(news.rotation.rotateAfter))) {
      failures.push({
        property: 'rotation',
        reason: `rotation.rotateAfter: ${JSON.stringify(news.rotation.rotateAfter)} is not an ISO date`,
      });
    }
    if (news.importKey !== undefined && news.importKeyId === undefined)
      failures.push({ property: 'importKey', reason: 'importKey: needs importKeyId, the id of the key it belongs to' });
    // A replacement would adopt the very key it replaces, then retire it: the new key must be a new key.
    if (
      news.importKeyId !== undefined &&
      olds?.importKeyId === news.importKeyId &&
      olds.rotation?.rotateAfter !== news.rotation?.rotateAfter
    ) {
      failures.push({
        property: 'importKeyId',
        reason: 'importKeyId: remove it before rotating; it names the key this rotation replaces',
      });
    }
    // One Idempotency-Key per key to create: kept while the key stays, new for a replacement
    // (the engine then calls check with empty olds), so engine retries never make two keys.
    const sameKey = olds?.__idempotencyKey && olds.rotation?.rotateAfter === news.rotation?.rotateAfter;
    const idempotencyKey = sameKey ? olds.__idempotencyKey : require('node:crypto').randomUUID();
    return { inputs: { ...news, __idempotencyKey: idempotencyKey }, failures };
  },

  async diff(_id, olds, news) {
    const replaces: string[] = [];
    if ((olds.rotation?.rotateAfter ?? null) !== (news.rotation?.rotateAfter ?? null)) replaces.push('rotation');
    const everyDays = news.rotation?.rotateEveryDays;
    if (
      everyDays &&
      olds.createdAt &&
      Date.now() - Date.parse(olds.createdAt) > everyDays * 86_400_000 &&
      !replaces.length
    )
      replaces.push('rotation');
    const { POLICY_FIELDS } = policy();
    const changed: string[] = POLICY_FIELDS.filter((field) => !samePolicyValue(field, olds[field], news[field]));
    const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    if (
      !same(olds.rotation?.gracePeriod, news.rotation?.gracePeriod) ||
      !same(olds.rotation?.rotateEveryDays, news.rotation?.rotateEveryDays)
    )
      changed.push('rotation');
    return {
      changes: replaces.length > 0 || changed.length > 0,
      replaces,
      deleteBeforeReplace: false,
      stables: replaces.length ? [] : ['keyId', 'key', 'start', 'createdAt'],
    };
  },

  async create(inputs) {
    const client = clientFor(inputs, this.settings);
    if (inputs.importKeyId !== undefined) return adoptKey(client, inputs);
    const { POLICY_FIELDS } = policy();
    const declared = Object.fromEntries(
      POLICY_FIELDS.filter((field) => inputs[field] !== undefined).map((field) => [field, inputs[field]]),
    );
    const created = await client.keys.create(
      { ...declared, ...(inputs.environment ? { environment: inputs.environment } : {}) } as never,
      { idempotencyKey: inputs.__idempotencyKey },
    );
    return {
      id: created.id,
      outs: { ...outputsOf(inputs, created, created.key), signingSecret: created.signingSecret ?? '' },
    };
  },

  async read(id, props) {
    const client = clientFor(props ?? {}, this.settings);
    try {
      const key = await client.keys.get(id);
      const { POLICY_FIELDS } = policy();
      // A key revoked or expired out of band is gone as far as the program is concerned.
      if (key.status === 'revoked' || key.status === 'expired') return { id: undefined as never, props: {} };
      // The server's policy becomes the inputs too: refresh shows drift, and `import` adopts the key.
      const inputs = JSON.parse(
        JSON.stringify({
          ...(props ?? {}),
          ...Object.fromEntries(POLICY_FIELDS.map((field) => [field, key[field] ?? undefined])),
        }),
      );
      for (const outputOnly of ['keyId', 'key', 'signingSecret', 'start', 'status', 'createdAt', 'lastUsedAt'])
        delete inputs[outputOnly];
      // An imported key's secret was shown once, elsewhere; it stays unknown to the program.
      return {
        id,
        props: { ...outputsOf(inputs, key, props?.key ?? ''), signingSecret: props?.signingSecret ?? '' },
        inputs,
      };
    } catch (error) {
      if ((error as { status?: number }).status === 404) return { id: undefined as never, props: {} };
      throw error;
    }
  },

  async update(id, olds, news) {
    const client = clientFor(news, this.settings);
    // A field removed from the program goes back to its default.
    const { POLICY_FIELDS, POLICY_DEFAULTS } = policy();
    const patch = Object.fromEntries(
      POLICY_FIELDS.filter((field) => !samePolicyValue(field, olds[field], news[field])).map((field) => [
        field,
        news[field] ?? POLICY_DEFAULTS[field as keyof typeof POLICY_DEFAULTS],
      ]),
    );
    const key = Object.keys(patch).length ? await client.keys.update(id, patch as never) : await client.keys.get(id);
    // The secret never changes in place.
    // Turning signing on issues the signing secret, once, in the update's answer.
    const signingSecret = 'signingSecret' in key && key.signingSecret ? key.signingSecret : (olds.signingSecret ?? '');
    return { outs: { ...outputsOf(news, key, olds.key), signingSecret } };
  },

  async delete(id, props) {
    const client = clientFor(props, this.settings);
    try {
      await client.keys.retire(id, { gracePeriodSeconds: graceSeconds(props.rotation?.gracePeriod) });
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
  },
};

type KeywardClient = ReturnType<typeof clientFor>;

/**
 * Takes over an existing key: checks it is live (and that importKey is its secret), then applies
 * the declared policy. Once the key is known, a failure carries its id and properties, so the
 * engine records the key in the state rather than forgetting it.
 */
// biome-ignore lint/suspicious/noExplicitAny: Pulumi hands dynamic providers untyped inputs
async function adoptKey(client: KeywardClient, inputs: Record<string, any>): Promise<pulumi.dynamic.CreateResult> {
  const keyId = String(inputs.importKeyId);
  const existing = await client.keys.get(keyId).catch((error: { status?: number }) => {
    throw error.status === 404 ? new Error(`importKeyId: no key ${keyId} in this workspace`) : error;
  });
  if (existing.status !== 'active' && existing.status !== 'suspended')
    throw new Error(`importKeyId: key ${keyId} is ${existing.status}; only an active or suspended key can be adopted`);
  if (inputs.importKey !== undefined) {
    const verdict = await client.verify({ key: String(inputs.importKey) });
    if (verdict.keyId !== keyId) throw new Error(`importKey: is not the secret of key ${keyId}`);
  }
  try {
    const { POLICY_FIELDS, POLICY_DEFAULTS } = policy();
    const patch = Object.fromEntries(
      POLICY_FIELDS.filter((field) => !samePolicyValue(field, existing[field], inputs[field])).map((field) => [
        field,
        inputs[field] ?? POLICY_DEFAULTS[field as keyof typeof POLICY_DEFAULTS],
      ]),
    );
    const adopted = Object.keys(patch).length ? await client.keys.update(keyId, patch as never) : existing;
    return { id: keyId, outs: outputsOf(inputs, adopted, inputs.importKey ?? '') };
  } catch (error) {
    throw new CreatedButFailed(keyId, outputsOf(inputs, existing, inputs.importKey ?? ''), error as Error);
  }
}

/** The shape Pulumi's dynamic-provider host turns into ErrorResourceInitFailed: the resource exists, with these properties. */
class CreatedButFailed extends Error {
  readonly reasons: string[];
  constructor(
    readonly id: string,
    readonly properties: Record<string, unknown>,
    cause: Error,
  ) {
    super(`key ${id} exists but was left unfinished: ${cause.message}`);
    this.reasons = [cause.message];
  }
}

/** Compares a policy field as the server sees it, so an omitted field equals its default (no spurious diff after refresh or import). */
function samePolicyValue(field: string, a: unknown, b: unknown): boolean {
  const defaults: Record<string, unknown> = policy().POLICY_DEFAULTS;
  const normal = (value: unknown) => JSON.stringify(value ?? defaults[field] ?? null);
  return normal(a) === normal(b);
}

function clientFor(inputs: { url?: string; rootKey?: string }, settings: { url?: string; rootKey?: string }) {
  const { Keyward } = require('@keyward/sdk') as typeof import('../../sdk');
  const baseUrl = inputs.url ?? settings.url ?? process.env.KEYWARD_URL;
  const rootKey = inputs.rootKey ?? settings.rootKey ?? process.env.KEYWARD_ROOT_KEY;
  if (!baseUrl || !rootKey)
    throw new Error(
      'keyward: set url and rootKey on the resource, keyward:url and keyward:rootKey in the stack config, or KEYWARD_URL and KEYWARD_ROOT_KEY',
    );
  return new Keyward({ baseUrl, rootKey });
}

function outputsOf(
  inputs: Record<string, unknown>,
  key: {
    id: string;
    start: string;
    status: string;
    createdAt: string;
    expiresAt: string | null;
    lastUsedAt: string | null;
  },
  secret: string,
) {
  const outputs = {
    ...inputs,
    keyId: key.id,
    key: secret,
    start: key.start,
    status: key.status,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt,
    lastUsedAt: key.lastUsedAt,
  };
  // Outputs travel as a protobuf Struct, which has no `undefined`: drop those fields.
  return JSON.parse(JSON.stringify(outputs)) as typeof outputs;
}

/** The ApiKey provider's methods: what the host runs, and what tests call directly. */
export const apiKeyProvider = provider;
