import { randomUUID } from 'node:crypto';
import { type CtyObject, decodeValue, encodeValue, fromStateJson, UNKNOWN } from '../provider/terraform/cty';
import { type Handler, servePlugin } from '../provider/terraform/plugin';
import type { CtyType, TerraformProviderSchemaDocument } from '../provider/terraform/schema';

/*
 * bench/terraform's baseline provider: one resource, noop_thing (a required `input`, a computed
 * `id`), whose every RPC answers at once and calls nothing. It is served by keyward's own plugin
 * code (the handshake, mutual TLS, gRPC, cty), so 100 keys against 100 noop_things shows what the
 * keys themselves cost once a Node provider process is running, where terraform_data (built into
 * the engine) shows the cost of having a provider process at all.
 */

/** The source address a configuration names the baseline by. */
export const NOOP_PROVIDER_SOURCE = 'registry.terraform.io/bench/noop';

const attribute = (type: CtyType, flag: 'required' | 'computed') =>
  ({ type, description_kind: 'plain', [flag]: true }) as const;
const emptyBlock = { version: 0, block: { attributes: {}, description_kind: 'plain' as const } };
const thingType: CtyType = ['object', { id: 'string', input: 'string' }];

const SCHEMA: TerraformProviderSchemaDocument = {
  format_version: '1.0',
  provider_schemas: {
    [NOOP_PROVIDER_SOURCE]: {
      provider: emptyBlock,
      resource_schemas: {
        noop_thing: {
          version: 0,
          block: {
            attributes: { id: attribute('string', 'computed'), input: attribute('string', 'required') },
            description_kind: 'plain',
          },
        },
      },
      data_source_schemas: {},
      ephemeral_resource_schemas: {},
    },
  },
};

type DynamicValueMessage = { msgpack?: Buffer; json?: Buffer } | null | undefined;
const decode = (value: DynamicValueMessage, type: CtyType = thingType): CtyObject | null =>
  value?.msgpack?.length ? (decodeValue(value.msgpack, type) as CtyObject | null) : null;
const encode = (value: CtyObject | null, type: CtyType = thingType) => ({
  msgpack: Buffer.from(encodeValue(value, type)),
});
const ok = async () => ({ diagnostics: [] });

/** The handlers of every RPC but the schema's: nothing is stored or called anywhere. */
function noopService(): Record<string, Handler> {
  return {
    ValidateProviderConfig: ok,
    ConfigureProvider: ok,
    ValidateResourceConfig: ok,
    UpgradeResourceState: async (request) => ({
      upgraded_state: encode(fromStateJson(JSON.parse(request.raw_state.json.toString()), thingType) as CtyObject),
      diagnostics: [],
    }),
    ReadResource: async (request) => ({ new_state: request.current_state, private: request.private, diagnostics: [] }),
    PlanResourceChange: async (request) => {
      const prior = decode(request.prior_state);
      const proposed = decode(request.proposed_new_state);
      const planned: CtyObject | null = proposed === null ? null : { ...proposed, id: prior?.id ?? UNKNOWN };
      return { planned_state: encode(planned), requires_replace: [], diagnostics: [] };
    },
    ApplyResourceChange: async (request) => {
      const planned = decode(request.planned_state);
      const state: CtyObject | null =
        planned === null ? null : { ...planned, id: planned.id === UNKNOWN ? randomUUID() : (planned.id ?? null) };
      return { new_state: encode(state), diagnostics: [] };
    },
  };
}

if (require.main === module)
  servePlugin(process.env, { schema: SCHEMA, loadService: async () => noopService() }).catch((error: Error) => {
    process.stderr.write(`noop provider: ${error.message}\n`);
    process.exit(1);
  });
