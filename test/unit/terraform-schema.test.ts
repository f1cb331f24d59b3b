import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { terraformProviderSchema } from '../../provider/terraform/schema';

/* provider/terraform/schema.json is generated from the zod schemas and committed; the provider serves it. */
describe('the Terraform provider schema', () => {
  it('matches what the zod schemas generate (regenerate: npm run build && node dist/provider/terraform/schema.js > provider/terraform/schema.json)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '../../provider/terraform/schema.json'), 'utf8'));
    expect(committed).toEqual(terraformProviderSchema());
  });

  it('marks the key sensitive and computed, and every argument documented', () => {
    const resource =
      terraformProviderSchema().provider_schemas['registry.terraform.io/keyward/keyward']!.resource_schemas
        .keyward_api_key!;
    expect(resource.block.attributes.key).toMatchObject({ computed: true, sensitive: true });
    expect(resource.block.attributes.name).toMatchObject({ required: true, type: 'string' });
    expect(resource.block.attributes.rate_limit!.type).toEqual([
      'object',
      { limit: 'number', window_seconds: 'number' },
    ]);
    for (const [name, attribute] of Object.entries(resource.block.attributes))
      expect([name, attribute.description]).toEqual([name, expect.any(String)]);
  });

  it('declares key_wo write-only and sensitive, and key_material ephemeral', () => {
    const provider = terraformProviderSchema().provider_schemas['registry.terraform.io/keyward/keyward']!;
    const attributes = provider.resource_schemas.keyward_api_key!.block.attributes;
    expect(attributes.key_wo).toMatchObject({ type: 'string', optional: true, sensitive: true, write_only: true });
    expect(attributes.key_wo).not.toHaveProperty('computed');
    expect(attributes.key_wo_version).toMatchObject({ type: 'string', optional: true });
    // Only key_wo is write-only: every other attribute is stored as usual.
    expect(Object.keys(attributes).filter((name) => attributes[name]!.write_only)).toEqual(['key_wo']);
    expect(provider.ephemeral_resource_schemas.keyward_key_material!.block.attributes).toEqual({
      environment: expect.objectContaining({ optional: true, computed: true, type: 'string' }),
      key: expect.objectContaining({ computed: true, sensitive: true, type: 'string' }),
    });
  });
});
