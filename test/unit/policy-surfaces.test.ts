import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { POLICY_OPTIONS, policyFrom, policyUsage } from '../../cli/policy-flags';
import type { ApiKeyArgs } from '../../provider/pulumi';
import { terraformProviderSchema } from '../../provider/terraform/schema';
import {
  type ApiKey,
  type CreateKeyInput,
  KEY_POLICY,
  type KeyPatch,
  POLICY_DEFAULTS,
  POLICY_FIELDS,
  type PolicyField,
  snakeCase,
} from '../../schema';
import type { KeyFilters, KeyPatch as SdkKeyPatch } from '../../sdk';

/*
 * The key policy has one home, schema/keys.ts; every surface derives from it. These checks fail
 * when a surface lacks a policy field, and when a field list or a default is written down again
 * elsewhere. The type-level checks fail `npm run typecheck`, which `npm test` runs.
 */

/** `true` when every policy field is a key of T; otherwise the missing fields, so the compiler names them. */
type Covers<T> = [Exclude<PolicyField, keyof T>] extends [never] ? true : Exclude<PolicyField, keyof T>;
const sdkTypes: [Covers<CreateKeyInput>, Covers<KeyPatch>, Covers<SdkKeyPatch>, Covers<ApiKey>] = [
  true,
  true,
  true,
  true,
];
const pulumiInputs: Covers<ApiKeyArgs> = true;

const root = join(__dirname, '../..');

describe('the key policy, from schema/keys.ts to every surface', () => {
  it('types the SDK and the Pulumi inputs with every policy field', () => {
    expect([...sdkTypes, pulumiInputs]).toEqual([true, true, true, true, true]);
    const filters: KeyFilters = { owner: 'team-crm', name: 'crm', scope: 'contacts:read' };
    expect(Object.keys(filters)).toHaveLength(3);
  });

  it('gives the CLI a flag for every policy field, and reads each one back', () => {
    for (const field of POLICY_FIELDS) {
      const { flag } = KEY_POLICY[field];
      expect([field, POLICY_OPTIONS[flag]]).toEqual([field, expect.objectContaining({ type: expect.any(String) })]);
      expect(policyUsage()).toContain(`--${flag}`);
    }
    const patch = policyFrom({
      name: 'crm sync',
      description: 'none',
      owner: 'team-crm',
      scope: ['contacts:read'],
      ip: ['203.0.113.0/24'],
      'expires-at': '2030-01-01T00:00:00Z',
      metadata: '{"tier":2}',
      'rate-limit': '100/60',
      'max-age-days': '90',
      'signed-scope': ['contacts:export'],
      'require-signature': true,
    });
    expect(Object.keys(patch).sort()).toEqual([...POLICY_FIELDS].sort());
    expect(patch).toMatchObject({ description: null, rateLimit: { limit: 100, windowSeconds: 60 }, maxAgeDays: 90 });
    expect(policyFrom({ 'no-require-signature': true, 'signed-scope': ['none'] })).toEqual({
      requireSignature: false,
      signedScopes: [],
    });
  });

  it('gives the Terraform resource and data source an attribute for every policy field', () => {
    const provider = terraformProviderSchema().provider_schemas['registry.terraform.io/keyward/keyward']!;
    for (const field of POLICY_FIELDS) {
      expect([field, provider.resource_schemas.keyward_api_key!.block.attributes[snakeCase(field)]]).toEqual([
        field,
        expect.objectContaining({ description_kind: 'plain' }),
      ]);
      expect([field, provider.data_source_schemas.keyward_api_key!.block.attributes[snakeCase(field)]]).toEqual([
        field,
        expect.objectContaining({ computed: true }),
      ]);
    }
  });

  it('gives the CDKTF bindings a property for every policy field', () => {
    const resource = readFileSync(join(root, 'provider/cdktf/generated/api-key/index.ts'), 'utf8');
    const data = readFileSync(join(root, 'provider/cdktf/generated/data-keyward-api-key/index.ts'), 'utf8');
    for (const field of POLICY_FIELDS) {
      expect([field, resource.includes(`readonly ${field}?:`) || resource.includes(`readonly ${field}:`)]).toEqual([
        field,
        true,
      ]);
      expect([field, data.includes(`public get ${field}()`)]).toEqual([field, true]);
    }
  });

  it('writes no policy field list or default outside schema/keys.ts', () => {
    const names = POLICY_FIELDS.flatMap((field) => [field, snakeCase(field)]).filter((name) => name !== 'name');
    const quoted = new RegExp(`['"\`](${names.join('|')})['"\`]`, 'g');
    const defaultAge = new RegExp(`max_?[aA]ge_?[dD]ays['"]?\\s*[:=]\\s*${POLICY_DEFAULTS.maxAgeDays}\\b`);
    const offenders: string[] = [];
    for (const file of sourceFiles(['schema', 'server', 'sdk', 'cli', 'provider', 'bench'])) {
      const path = relative(root, file);
      if (path === 'schema/keys.ts') continue;
      const text = readFileSync(file, 'utf8');
      // A field named here and there is fine (a message, a table column); a list of them is a copy.
      for (const list of text.matchAll(/\[[^[\]]*\]/g)) {
        const fields = new Set([...list[0].matchAll(quoted)].map((match) => match[1]));
        if (fields.size >= 3) offenders.push(`${path}: lists ${[...fields].join(', ')}`);
      }
      if (defaultAge.test(text)) offenders.push(`${path}: writes the default maxAgeDays`);
    }
    expect(offenders).toEqual([]);
  });
});

function sourceFiles(folders: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry === 'generated' || entry === 'node_modules') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) files.push(path);
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return files;
}
