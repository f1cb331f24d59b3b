import { EnvironmentSchema } from '../../schema';
import { generateKey } from '../../sdk';
import { type CtyObject, type CtyValue, containsUnknown, UNKNOWN } from './cty';
import { type Diagnostic, issuesToDiagnostics } from './diagnostics';
import { SERVER_DEFAULTS } from './policy';

/*
 * keyward_key_material, the ephemeral resource: a key generated here, with the SDK's generator and
 * no server call, each time the engine opens it (once per plan, once per apply). The engine keeps
 * ephemeral results out of state and plan files, so the key reaches keyward_api_key.key_wo and its
 * consumer without ever being stored. Nothing to renew or close.
 */

/** ValidateEphemeralResourceConfig: the environment is one of keyward's. */
export function validateKeyMaterialConfig(config: CtyObject): Diagnostic[] {
  const environment = config.environment;
  if (environment === null || environment === undefined || containsUnknown(environment)) return [];
  const parsed = EnvironmentSchema.safeParse(environment);
  return parsed.success
    ? []
    : issuesToDiagnostics(parsed.error.issues.map((issue) => ({ ...issue, path: ['environment'] })));
}

/** OpenEphemeralResource: a fresh key for the environment (live unless set). */
export function openKeyMaterial(config: CtyObject): CtyObject {
  const environment: CtyValue = config.environment ?? SERVER_DEFAULTS.environment!;
  // The engine opens an ephemeral resource only once its config is known; stay correct if not.
  if (environment === UNKNOWN) return { environment, key: UNKNOWN };
  return { environment, key: generateKey({ environment: EnvironmentSchema.parse(environment) }) };
}
