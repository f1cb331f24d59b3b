import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TerraformProviderSchemaDocument, TerraformSchema } from './schema';

/*
 * The two RPCs an engine sends to a provider it starts only to learn its schema: GetMetadata and
 * GetProviderSchema. They need nothing but the committed schema document, so the plugin answers
 * them without loading the resource logic (the SDK, zod and the key policy): OpenTofu starts the
 * provider more than once per command, and most of those starts only ask for the schema.
 */

// biome-ignore lint/suspicious/noExplicitAny: requests are protobuf messages decoded by proto-loader, typed per RPC by the handler
type Handler = (request: any) => Promise<Record<string, unknown>>;

/** The committed schema document: what the provider serves, byte for byte the generated one. */
export function loadProviderSchema(root: string): TerraformProviderSchemaDocument {
  return JSON.parse(
    readFileSync(join(root, 'provider', 'terraform', 'schema.json'), 'utf8'),
  ) as TerraformProviderSchemaDocument;
}

function schemaMessage(schema: TerraformSchema) {
  return {
    version: schema.version,
    block: {
      version: schema.version,
      description: schema.block.description ?? '',
      description_kind: 'PLAIN',
      attributes: Object.entries(schema.block.attributes).map(([name, attribute]) => ({
        name,
        type: Buffer.from(JSON.stringify(attribute.type)),
        description: attribute.description ?? '',
        description_kind: 'PLAIN',
        required: attribute.required ?? false,
        optional: attribute.optional ?? false,
        computed: attribute.computed ?? false,
        sensitive: attribute.sensitive ?? false,
        write_only: attribute.write_only ?? false,
      })),
    },
  };
}

/** The GetMetadata and GetProviderSchema handlers, answered from the schema document alone. */
export function metadataHandlers(
  document: TerraformProviderSchemaDocument,
): Record<'GetMetadata' | 'GetProviderSchema', Handler> {
  // The document describes this provider alone; its source address lives in ./schema, whose zod
  // imports this module exists to avoid.
  const schemas = Object.values(document.provider_schemas)[0]!;
  const typeNames = (named: Record<string, unknown>) => Object.keys(named).map((type_name) => ({ type_name }));
  const messages = (named: Record<string, TerraformSchema>) =>
    Object.fromEntries(Object.entries(named).map(([name, schema]) => [name, schemaMessage(schema)]));
  return {
    GetMetadata: async () => ({
      server_capabilities: {},
      resources: typeNames(schemas.resource_schemas),
      data_sources: typeNames(schemas.data_source_schemas),
      ephemeral_resources: typeNames(schemas.ephemeral_resource_schemas),
      diagnostics: [],
    }),
    GetProviderSchema: async () => ({
      provider: schemaMessage(schemas.provider),
      resource_schemas: messages(schemas.resource_schemas),
      data_source_schemas: messages(schemas.data_source_schemas),
      ephemeral_resource_schemas: messages(schemas.ephemeral_resource_schemas),
      diagnostics: [],
    }),
  };
}
