import * as pulumi from '@pulumi/pulumi';
import type { z } from 'zod';
import type { KEY_POLICY, PolicyField } from '../../schema';
import type { apiKeyProvider as Implementation } from './api-key-provider';

/** When and how an ApiKey rotates. */
export interface RotationArgs {
  /** An ISO date; changing it rotates the key (the line to edit in a GitOps repo). */
  rotateAfter?: pulumi.Input<string>;
  /** Rotate once the key is older than this many days. */
  rotateEveryDays?: pulumi.Input<number>;
  /** How long the old key keeps working after a rotation or a delete, e.g. `24h`, `30m`, `0s`. Default 24h. */
  gracePeriod?: pulumi.Input<string>;
}

/** A value as a Pulumi input, at every level: a list of outputs, an object of outputs, or an output of either. */
type DeepInput<T> = T extends readonly (infer Item)[]
  ? pulumi.Input<DeepInput<Item>[]>
  : T extends Record<string, unknown>
    ? string extends keyof T
      ? pulumi.Input<Record<string, unknown>> // free-form JSON (metadata)
      : pulumi.Input<{ [Field in keyof T]: DeepInput<T[Field]> }>
    : pulumi.Input<T>;

/** The key policy as Pulumi inputs, one per policy field of schema/keys.ts (`name` required). */
export type PolicyArgs = {
  [Field in Exclude<PolicyField, 'name'>]?: DeepInput<z.input<(typeof KEY_POLICY)[Field]['accepts']>>;
} & {
  name: pulumi.Input<string>;
};

/** The inputs of an ApiKey: its policy, its rotation, and (optionally) where keyward is. */
export type ApiKeyArgs = PolicyArgs & {
  environment?: pulumi.Input<'live' | 'test'>;
  rotation?: pulumi.Input<RotationArgs>;
  /** keyward's base URL; else Pulumi config `keyward:url`, else KEYWARD_URL. */
  url?: pulumi.Input<string>;
  /** A root key; else the secret config `keyward:rootKey`, else KEYWARD_ROOT_KEY. */
  rootKey?: pulumi.Input<string>;
  /**
   * Adopt this existing key instead of creating one: the first up takes it over and applies the
   * declared policy. (`pulumi import` cannot reach a dynamic provider's read: pulumi/pulumi#16175.)
   */
  importKeyId?: pulumi.Input<string>;
  /** The adopted key's secret, if the program should output it; it is checked against importKeyId. */
  importKey?: pulumi.Input<string>;
};

/**
 * The provider the engine serializes into every ApiKey's state. It only forwards each call to the
 * implementation that the dynamic-provider host loads from the installed @keyward/pulumi, so a
 * resource's state carries a few hundred bytes of provider rather than ~14 KB of its code, which
 * the engine rewrote with the whole checkpoint after every step (docs/benchmarks.md, bench/pulumi).
 */
const provider: pulumi.dynamic.ResourceProvider = {
  configure: (request) => implementation().configure!(request),
  check: (olds, news) => implementation().check!(olds, news),
  diff: (id, olds, news) => implementation().diff!(id, olds, news),
  create: (inputs) => implementation().create!(inputs),
  read: (id, props) => implementation().read!(id, props),
  update: (id, olds, news) => implementation().update!(id, olds, news),
  delete: (id, props) => implementation().delete!(id, props),
};

/** The implementation, loaded by package name where the provider runs. */
function implementation(): typeof Implementation {
  return (require('@keyward/pulumi/api-key-provider') as { apiKeyProvider: typeof Implementation }).apiKeyProvider;
}

/** The ApiKey provider's methods, for tests that call them directly. @internal */
export { apiKeyProvider, graceSeconds } from './api-key-provider';

/**
 * An API key in keyward, as a Pulumi resource. Policy changes apply in place and keep the secret;
 * changing `rotation.rotateAfter` (or passing `rotateEveryDays`) replaces the key
 * create-before-delete, and the old key keeps working for `rotation.gracePeriod`.
 * @example
 * const crm = new ApiKey('crm', { name: 'crm sync', scopes: ['contacts:read'], rotation: { rotateAfter: '2026-12-01' } });
 * export const crmKey = crm.key; // a secret output
 */
export class ApiKey extends pulumi.dynamic.Resource {
  declare readonly keyId: pulumi.Output<string>;
  declare readonly key: pulumi.Output<string>;
  /** For a key that signs: the HMAC secret for signing requests (a secret output; empty otherwise). */
  declare readonly signingSecret: pulumi.Output<string>;
  declare readonly start: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;
  declare readonly expiresAt: pulumi.Output<string | undefined>;
  declare readonly lastUsedAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: ApiKeyArgs, opts: pulumi.CustomResourceOptions = {}) {
    const config = new pulumi.Config('keyward');
    const rootKey = args.rootKey ?? config.getSecret('rootKey');
    super(
      provider,
      name,
      {
        ...args,
        url: args.url ?? config.get('url'),
        rootKey: rootKey === undefined ? undefined : pulumi.secret(rootKey),
        importKey: args.importKey === undefined ? undefined : pulumi.secret(args.importKey),
        keyId: undefined,
        key: undefined,
        signingSecret: undefined,
        start: undefined,
        status: undefined,
        createdAt: undefined,
        lastUsedAt: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), 'key', 'signingSecret'] },
      'keyward',
      'ApiKey',
    );
  }
}

export { ConfigFile, type ConfigFileArgs } from './config-file';
