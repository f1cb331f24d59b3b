import { Keyward } from '../../sdk';
import {
  applyApiKey,
  type EngineCapabilities,
  importApiKey,
  keyWoDiagnostic,
  objectTypeOf,
  planApiKey,
  readApiKey,
  readApiKeyData,
  validateApiKeyConfig,
} from './api-key';
import { type CtyObject, type CtyValue, decodeValue, encodeValue, fromStateJson, UNKNOWN } from './cty';
import { type Diagnostic, diagnostic, errorDiagnostic } from './diagnostics';
import { openKeyMaterial, validateKeyMaterialConfig } from './key-material';
import { metadataHandlers } from './metadata';
import { TERRAFORM_PROVIDER_SOURCE, type TerraformProviderSchemaDocument } from './schema';

/*
 * The tfplugin6.Provider service: decodes each request against the served schema, hands it to
 * the resource logic, and answers with values or diagnostics. Nothing here throws to the host: an
 * unexpected error becomes an error diagnostic.
 */

type DynamicValueMessage = { msgpack?: Buffer; json?: Buffer } | null | undefined;
// biome-ignore lint/suspicious/noExplicitAny: requests are protobuf messages decoded by proto-loader, typed per RPC by the handler
type Handler = (request: any) => Promise<Record<string, unknown>>;

/** The ClientCapabilities message as the engine sent it (absent from hosts before protocol 6.6). */
function capabilitiesOf(message: { write_only_attributes_allowed?: boolean } | null | undefined): EngineCapabilities {
  return { writeOnlyAttributesAllowed: message?.write_only_attributes_allowed === true };
}

/** Builds the handlers of the Provider service; `onStop` runs when the host asks the provider to stop. */
export function providerService(
  document: TerraformProviderSchemaDocument,
  environment: NodeJS.ProcessEnv,
): Record<string, Handler> {
  const schemas = document.provider_schemas[TERRAFORM_PROVIDER_SOURCE]!;
  const providerType = objectTypeOf(schemas.provider.block.attributes);
  const resourceType = objectTypeOf(schemas.resource_schemas.keyward_api_key!.block.attributes);
  const dataType = objectTypeOf(schemas.data_source_schemas.keyward_api_key!.block.attributes);
  const materialType = objectTypeOf(schemas.ephemeral_resource_schemas.keyward_key_material!.block.attributes);
  let client: Keyward | undefined;

  const decodeObject = (value: DynamicValueMessage, type = resourceType): CtyObject | null => {
    if (!value) return null;
    if (value.msgpack?.length) return decodeValue(value.msgpack, type) as CtyObject | null;
    if (value.json?.length) return fromStateJson(JSON.parse(value.json.toString()), type) as CtyObject | null;
    return null;
  };
  const encodeObject = (value: CtyValue, type = resourceType) => ({ msgpack: Buffer.from(encodeValue(value, type)) });
  const unknownType = (typeName: string, kind: string, served: string): Diagnostic[] => [
    diagnostic(
      'error',
      `Unknown ${kind}`,
      `this provider has no ${kind} ${JSON.stringify(typeName)}; it serves ${served}`,
    ),
  ];
  const needClient = (): Keyward => {
    if (!client) throw new Error('the provider is not configured');
    return client;
  };
  // Every handler answers with diagnostics rather than failing the RPC.
  const guarded =
    (summary: string, handler: Handler): Handler =>
    async (request) => {
      try {
        return await handler(request);
      } catch (error) {
        return { diagnostics: [errorDiagnostic(summary, error)] };
      }
    };

  return {
    ...metadataHandlers(document),

    ValidateProviderConfig: guarded('Invalid provider configuration', async (request) => {
      const config = decodeObject(request.config, providerType) ?? {};
      const diagnostics: Diagnostic[] = [];
      if (typeof config.url === 'string' && !/^https?:\/\/[^\s/]+/.test(config.url))
        diagnostics.push(
          diagnostic('error', 'Invalid url', `url: ${JSON.stringify(config.url)} is not an http(s) URL`, ['url']),
        );
      if (typeof config.root_key === 'string' && !/^kw_root_/.test(config.root_key))
        diagnostics.push(
          diagnostic('error', 'Invalid root_key', 'root_key: is not a keyward root key (kw_root_…)', ['root_key']),
        );
      return { diagnostics };
    }),

    ConfigureProvider: guarded('Configuring the keyward provider failed', async (request) => {
      const config = decodeObject(request.config, providerType) ?? {};
      const url = typeof config.url === 'string' ? config.url : environment.KEYWARD_URL;
      const rootKey = typeof config.root_key === 'string' ? config.root_key : environment.KEYWARD_ROOT_KEY;
      const diagnostics: Diagnostic[] = [];
      if (!url)
        diagnostics.push(
          diagnostic('error', 'Missing url', 'url: set it in the provider block or KEYWARD_URL in the environment', [
            'url',
          ]),
        );
      if (!rootKey)
        diagnostics.push(
          diagnostic(
            'error',
            'Missing root_key',
            'root_key: set it in the provider block or KEYWARD_ROOT_KEY in the environment',
            ['root_key'],
          ),
        );
      if (url && rootKey) client = new Keyward({ baseUrl: url, rootKey });
      return { diagnostics };
    }),

    ValidateResourceConfig: guarded('Invalid keyward_api_key', async (request) => {
      if (request.type_name !== 'keyward_api_key')
        return { diagnostics: unknownType(request.type_name, 'resource type', 'keyward_api_key') };
      return {
        diagnostics: validateApiKeyConfig(
          decodeObject(request.config) ?? {},
          capabilitiesOf(request.client_capabilities),
        ),
      };
    }),

    ValidateDataResourceConfig: guarded('Invalid keyward_api_key data source', async (request) => {
      if (request.type_name !== 'keyward_api_key')
        return { diagnostics: unknownType(request.type_name, 'data source', 'keyward_api_key') };
      const config = decodeObject(request.config, dataType) ?? {};
      const id = config.id;
      return {
        diagnostics:
          typeof id === 'string' && !/^key_[A-Za-z0-9]+$/.test(id)
            ? [diagnostic('error', 'Invalid id', `id: ${JSON.stringify(id)} is not a key id (key_…)`, ['id'])]
            : [],
      };
    }),

    UpgradeResourceState: guarded('Upgrading the keyward_api_key state failed', async (request) => {
      // Schema version 0 is the only one so far: the stored JSON already has this shape.
      const json = request.raw_state?.json;
      if (!json?.length)
        return {
          diagnostics: [diagnostic('error', 'Unsupported state', 'only JSON state is supported (no legacy flatmap)')],
        };
      const stored = fromStateJson(JSON.parse(json.toString()), resourceType);
      return { upgraded_state: encodeObject(stored), diagnostics: [] };
    }),

    ReadResource: guarded('Reading the key failed', async (request) => {
      const current = decodeObject(request.current_state);
      if (!current) return { new_state: encodeObject(null), diagnostics: [], private: request.private };
      const state = await readApiKey(needClient(), current);
      return { new_state: encodeObject(state), diagnostics: [], private: request.private };
    }),

    PlanResourceChange: guarded('Planning the key failed', async (request) => {
      const plan = planApiKey(
        decodeObject(request.prior_state),
        decodeObject(request.proposed_new_state),
        decodeObject(request.config),
        request.prior_private ?? Buffer.alloc(0),
      );
      return {
        planned_state: encodeObject(plan.planned),
        requires_replace: plan.requiresReplace.map((path) => ({
          steps: path.map((name) => ({ attribute_name: name })),
        })),
        planned_private: plan.plannedPrivate,
        diagnostics: [],
      };
    }),

    ApplyResourceChange: guarded('Applying the key change failed', async (request) => {
      const prior = decodeObject(request.prior_state);
      const planned = decodeObject(request.planned_state);
      const config = decodeObject(request.config);
      try {
        const state = await applyApiKey(
          needClient(),
          prior,
          planned,
          request.planned_private ?? Buffer.alloc(0),
          config,
        );
        return { new_state: encodeObject(state), private: request.planned_private, diagnostics: [] };
      } catch (error) {
        const refused = prior === null && typeof config?.key_wo === 'string' ? keyWoDiagnostic(error) : null;
        if (refused) return { new_state: encodeObject(null), diagnostics: [refused] };
        // A failed update or delete leaves the key as it was: keep it in the state.
        const summary =
          planned === null
            ? 'Retiring the key failed'
            : prior === null
              ? 'Creating the key failed'
              : 'Updating the key failed';
        return { new_state: encodeObject(prior), diagnostics: [errorDiagnostic(summary, error)] };
      }
    }),

    ImportResourceState: guarded('Importing the key failed', async (request) => {
      if (request.type_name !== 'keyward_api_key')
        return { diagnostics: unknownType(request.type_name, 'resource type', 'keyward_api_key') };
      const state = await importApiKey(needClient(), String(request.id));
      return {
        imported_resources: [{ type_name: 'keyward_api_key', state: encodeObject(state), private: Buffer.alloc(0) }],
        diagnostics: [],
      };
    }),

    ReadDataSource: guarded('Reading the key failed', async (request) => {
      const config = decodeObject(request.config, dataType) ?? {};
      if (typeof config.id !== 'string' || config.id === (UNKNOWN as unknown))
        return { diagnostics: [diagnostic('error', 'Missing id', 'id: must be known to read the key', ['id'])] };
      return { state: encodeObject(await readApiKeyData(needClient(), config.id), dataType), diagnostics: [] };
    }),

    ValidateEphemeralResourceConfig: guarded('Invalid keyward_key_material', async (request) => {
      if (request.type_name !== 'keyward_key_material')
        return { diagnostics: unknownType(request.type_name, 'ephemeral resource', 'keyward_key_material') };
      return { diagnostics: validateKeyMaterialConfig(decodeObject(request.config, materialType) ?? {}) };
    }),

    OpenEphemeralResource: guarded('Generating key material failed', async (request) => {
      if (request.type_name !== 'keyward_key_material')
        return { diagnostics: unknownType(request.type_name, 'ephemeral resource', 'keyward_key_material') };
      const config = decodeObject(request.config, materialType) ?? {};
      return { result: encodeObject(openKeyMaterial(config), materialType), diagnostics: [] };
    }),

    // Key material holds no lease: nothing to renew, nothing to close.
    RenewEphemeralResource: async () => ({ diagnostics: [] }),
    CloseEphemeralResource: async () => ({ diagnostics: [] }),

    StopProvider: async () => ({ Error: '' }),
  };
}
