import { z } from 'zod';
import {
  ApiKeySchema,
  CreateKeyBodySchema,
  POLICY_DEFAULTS,
  POLICY_FIELDS,
  RotationSchema,
  snakeCase,
} from '../../schema';

/*
 * The Terraform provider's schema, derived from the zod schemas: the same fields, limits and
 * descriptions the API validates, in the format `tofu providers schema -json` prints. It is
 * committed as provider/terraform/schema.json (a test fails when the two drift); the provider
 * serves that file and the CDKTF bindings are generated from it.
 */

/** The provider's source address and the local name Terraform configurations use. */
export const TERRAFORM_PROVIDER_SOURCE = 'registry.terraform.io/keyward/keyward';

/** A cty type as Terraform writes it in JSON: "string", ["list","string"], ["object",{…}], ["tuple",[…]], "dynamic". */
export type CtyType = string | [string, CtyType] | ['object', Record<string, CtyType>] | ['tuple', CtyType[]];

/** One attribute, as `providers schema -json` prints it (false flags are left out). */
export interface TerraformAttribute {
  type: CtyType;
  description?: string;
  description_kind: 'plain';
  required?: true;
  optional?: true;
  computed?: true;
  sensitive?: true;
  write_only?: true;
}

/** A resource, data source or provider schema. */
export interface TerraformSchema {
  version: number;
  block: { attributes: Record<string, TerraformAttribute>; description?: string; description_kind: 'plain' };
}

/** The whole document. */
export interface TerraformProviderSchemaDocument {
  format_version: '1.0';
  provider_schemas: Record<
    string,
    {
      provider: TerraformSchema;
      resource_schemas: Record<string, TerraformSchema>;
      data_source_schemas: Record<string, TerraformSchema>;
      ephemeral_resource_schemas: Record<string, TerraformSchema>;
    }
  >;
}

type JsonSchema = {
  type?: string | string[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: unknown;
  description?: string;
  $ref?: string;
  enum?: unknown[];
};

function propertiesOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, JsonSchema> {
  const document = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as JsonSchema & {
    $defs?: Record<string, JsonSchema>;
  };
  const root = document.$ref ? document.$defs![document.$ref.replace('#/$defs/', '')]! : document;
  return root.properties ?? {};
}

function ctyTypeOf(node: JsonSchema): CtyType {
  // A nullable value is `anyOf` with null, or (a plain type) a list of types with "null".
  const listed = Array.isArray(node.type) ? { ...node, type: node.type.find((type) => type !== 'null') } : node;
  const concrete = listed.anyOf?.find((option) => option.type !== 'null') ?? listed;
  if (concrete.type === 'string') return 'string';
  if (concrete.type === 'integer' || concrete.type === 'number') return 'number';
  if (concrete.type === 'boolean') return 'bool';
  if (concrete.type === 'array') return ['list', ctyTypeOf(concrete.items ?? {})];
  if (concrete.type === 'object' && concrete.properties && concrete.additionalProperties === false) {
    return [
      'object',
      Object.fromEntries(
        Object.entries(concrete.properties).map(([name, child]) => [snakeCase(name), ctyTypeOf(child)]),
      ),
    ];
  }
  // Free-form JSON (metadata): any Terraform value.
  return 'dynamic';
}

function descriptionOf(node: JsonSchema): string | undefined {
  return node.description ?? node.anyOf?.find((option) => option.description)?.description;
}

type Mode = 'required' | 'optional' | 'optional+computed' | 'computed';

function attribute(
  node: JsonSchema,
  mode: Mode,
  extra: { sensitive?: boolean; writeOnly?: boolean; description?: string } = {},
): TerraformAttribute {
  const description = extra.description ?? descriptionOf(node);
  return {
    type: ctyTypeOf(node),
    ...(description ? { description } : {}),
    description_kind: 'plain',
    ...(mode === 'required' ? { required: true as const } : {}),
    ...(mode === 'optional' || mode === 'optional+computed' ? { optional: true as const } : {}),
    ...(mode === 'optional+computed' || mode === 'computed' ? { computed: true as const } : {}),
    ...(extra.sensitive ? { sensitive: true as const } : {}),
    ...(extra.writeOnly ? { write_only: true as const } : {}),
  };
}

/*
 * Which fields the server fills in when they are left out (a policy field with a default, and the
 * environment): those are optional+computed, so an unset argument shows the server's value
 * instead of a perpetual diff.
 */
const SERVER_DEFAULTED: ReadonlySet<string> = new Set([
  ...Object.entries(POLICY_DEFAULTS)
    .filter(([, value]) => value !== null)
    .map(([field]) => field),
  'environment',
]);

/** What the data source shows besides the policy: what the key is and how it is used. */
const KEY_FACTS = ['environment', 'start', 'status', 'createdAt', 'lastUsedAt', 'lastUsedIp', 'graceUntil'] as const;

/** Builds the provider schema document from the zod schemas. */
export function terraformProviderSchema(): TerraformProviderSchemaDocument {
  const create = propertiesOf(CreateKeyBodySchema, 'input');
  const rotation = propertiesOf(RotationSchema, 'input');
  const shown = propertiesOf(ApiKeySchema, 'output');
  const string = { type: 'string' } as JsonSchema;

  const resourceAttributes: Record<string, TerraformAttribute> = {
    id: attribute(string, 'computed', { description: 'The key id (never the key itself)' }),
  };
  // The supplied key is the write-only key_wo, below: `key` is the computed secret here.
  const { key: suppliedKey, ...policy } = create;
  for (const [name, node] of Object.entries(policy))
    resourceAttributes[snakeCase(name)] = attribute(
      node,
      name === 'name' ? 'required' : SERVER_DEFAULTED.has(name) ? 'optional+computed' : 'optional',
    );
  for (const [name, node] of Object.entries(rotation))
    resourceAttributes[snakeCase(name)] = attribute(node, name === 'gracePeriod' ? 'optional+computed' : 'optional');
  resourceAttributes.key = attribute(string, 'computed', {
    sensitive: true,
    description: 'The key: known once, when keyward generates it; null when key_wo supplies it',
  });
  resourceAttributes.key_wo = attribute(suppliedKey!, 'optional', {
    sensitive: true,
    writeOnly: true,
    description: `${descriptionOf(suppliedKey!)}. Write-only (OpenTofu and Terraform ≥ 1.11): used when the key is created or replaced, never stored in state or plan; feed it from the ephemeral keyward_key_material`,
  });
  resourceAttributes.key_wo_version = attribute(string, 'optional', {
    description:
      "Required with key_wo: changing it replaces the key (create_before_destroy) with key_wo's value at that apply. Derive it from the rotation date",
  });
  resourceAttributes.signing_secret = attribute(string, 'computed', {
    sensitive: true,
    description:
      'For a key that signs (signed_scopes or require_signature): the HMAC secret for signing requests, known once',
  });
  for (const name of ['status', 'createdAt'] as const)
    resourceAttributes[snakeCase(name)] = attribute(shown[name]!, 'computed');
  resourceAttributes.start = attribute(shown.start!, 'computed', {
    description: `${descriptionOf(shown.start!)}; null when key_wo supplies the key, so the state holds nothing of it`,
  });

  const dataAttributes: Record<string, TerraformAttribute> = {
    id: attribute(string, 'required', { description: 'The key id to look up' }),
  };
  for (const name of [...POLICY_FIELDS, ...KEY_FACTS]) {
    // The output schema leaves out what the input schema already explains.
    dataAttributes[snakeCase(name)] = attribute(shown[name]!, 'computed', {
      description: descriptionOf(shown[name]!) ?? resourceAttributes[snakeCase(name)]?.description,
    });
  }

  const sorted = (attributes: Record<string, TerraformAttribute>) =>
    Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b)));
  return {
    format_version: '1.0',
    provider_schemas: {
      [TERRAFORM_PROVIDER_SOURCE]: {
        provider: {
          version: 0,
          block: {
            attributes: {
              root_key: attribute(string, 'optional', {
                sensitive: true,
                description: 'A root key for the workspace; else KEYWARD_ROOT_KEY',
              }),
              url: attribute(string, 'optional', {
                description: "keyward's base URL, e.g. http://127.0.0.1:8080; else KEYWARD_URL",
              }),
            },
            description_kind: 'plain',
          },
        },
        resource_schemas: {
          keyward_api_key: {
            version: 0,
            block: {
              attributes: sorted(resourceAttributes),
              description:
                'An API key. Policy changes apply in place; changing rotate_after or key_wo_version replaces the key (use create_before_destroy).',
              description_kind: 'plain',
            },
          },
        },
        data_source_schemas: {
          keyward_api_key: {
            version: 0,
            block: {
              attributes: sorted(dataAttributes),
              description: 'Looks up a key by id (never its secret).',
              description_kind: 'plain',
            },
          },
        },
        ephemeral_resource_schemas: {
          keyward_key_material: {
            version: 0,
            block: {
              attributes: sorted({
                environment: attribute(create.environment!, 'optional+computed'),
                key: attribute(string, 'computed', {
                  sensitive: true,
                  description:
                    'A freshly generated key (256 bits from crypto.randomBytes, with its checksum), made locally and never stored: a new one each run',
                }),
              }),
              description:
                'Key material for keyward_api_key.key_wo and its consumer, generated by the provider with no server call. Ephemeral: never in state or plan.',
              description_kind: 'plain',
            },
          },
        },
      },
    },
  };
}

// `node dist/provider/terraform/schema.js > provider/terraform/schema.json` regenerates the committed file.
if (require.main === module) process.stdout.write(`${JSON.stringify(terraformProviderSchema(), null, 2)}\n`);
