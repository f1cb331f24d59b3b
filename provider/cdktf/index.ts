import type { Construct } from 'constructs';
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
