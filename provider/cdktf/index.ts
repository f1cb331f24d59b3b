import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { ApiKey, type ApiKeyConfig } from './generated/api-key';

export * from './generated/api-key';
export * from './generated/data-keyward-api-key';
export * from './generated/provider';

/**
 * A keyward_api_key that rotates with zero downtime: `createBeforeDestroy` is on unless the
 * lifecycle says otherwise. A provider cannot ask for it, and Terraform's default (destroy, then
 * create) would leave consumers without a working key in between.
 * @example
 * const crm = new RotatingApiKey(this, 'crm', { name: 'crm sync', scopes: ['contacts:read'], rotateAfter: '2026-12-01' });
 * new TerraformOutput(this, 'crm_key', { value: crm.key, sensitive: true });
 */
export class RotatingApiKey extends ApiKey {
  constructor(scope: Construct, id: string, config: ApiKeyConfig) {
    super(scope, id, {
      ...config,
      lifecycle: { ...config.lifecycle, createBeforeDestroy: config.lifecycle?.createBeforeDestroy ?? true },
    });
  }
}

/** What a KeyMaterial generates: the environment of the key (live unless set). */
export interface KeyMaterialConfig {
  readonly environment?: 'live' | 'test';
}

/**
 * The ephemeral keyward_key_material (OpenTofu and Terraform ≥ 1.11): a key the provider generates
 * at each plan and apply and the engine never stores, for `keyWo` and the consumer. cdktf 0.21 has
 * no ephemeral resources, so this writes a raw `ephemeral` block into the stack (the escape hatch,
 * `TerraformStack.addOverride`; it works the same on cdktn) named after `id`, and `key` is a
 * reference to its result.
 * @example
 * const material = new KeyMaterial(this, 'crm_key', { environment: 'live' });
 * new RotatingApiKey(this, 'crm', { name: 'crm sync', keyWo: material.key, keyWoVersion: 'rotated-2026-12-01' });
 */
export class KeyMaterial extends Construct {
  /** `${ephemeral.keyward_key_material.<id>.key}`: the generated key, for write-only and ephemeral inputs only. */
  readonly key: string;

  constructor(scope: Construct, id: string, config: KeyMaterialConfig = {}) {
    super(scope, id);
    // The block is addressed by this name in the stack's JSON, so it must be a Terraform name.
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(id))
      throw new Error(`KeyMaterial id ${JSON.stringify(id)} must be a Terraform name (letters, digits, _ and -)`);
    TerraformStack.of(this).addOverride(
      `ephemeral.keyward_key_material.${id}`,
      config.environment ? { environment: config.environment } : {},
    );
    this.key = `\${ephemeral.keyward_key_material.${id}.key}`;
  }
}
