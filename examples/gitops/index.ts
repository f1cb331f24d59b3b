import { readFileSync } from 'node:fs';
import { ApiKey, ConfigFile } from '@keyward/pulumi';
import type { CreateKeyInput } from '@keyward/sdk/schema';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';

/*
 * GitOps: the keys live in keys.yaml, reviewed in pull requests. CI runs `pulumi preview` on a
 * pull request and `pulumi up` on main (see .github/workflows/keys.yml), so merging a change to a
 * key's `rotateAfter` rotates that key: the new key is written to its consumer file, then the old
 * one retires after its grace period.
 */
/** One key in keys.yaml: any policy field of the API (schema/keys.ts), plus how it rotates and who reads it. */
type KeyEntry = Partial<Omit<CreateKeyInput, 'environment'>> & {
  environment?: 'live' | 'test';
  rotateAfter?: string;
  rotateEveryDays?: number;
  gracePeriod?: string;
  /** Where the consumer reads the key (a JSON file holding `apiKey` and `keyId`). */
  consumerFile?: string;
  /** Adopt a key made outside this repo. */
  importKeyId?: string;
};

const config = new pulumi.Config();
const keysFile = config.get('keysFile') ?? 'keys.yaml';
const document = parse(readFileSync(keysFile, 'utf8')) as { keys?: Record<string, KeyEntry> } | null;
if (!document || typeof document.keys !== 'object' || document.keys === null)
  throw new Error(`${keysFile}: expected a top-level "keys:" map of key names to settings`);

/** Per key: its id, its secret (a secret output), its display prefix and its status. */
export const keys: Record<
  string,
  {
    keyId: pulumi.Output<string>;
    key: pulumi.Output<string>;
    start: pulumi.Output<string>;
    status: pulumi.Output<string>;
  }
> = {};

for (const [id, entry] of Object.entries(document.keys)) {
  const { rotateAfter, rotateEveryDays, gracePeriod, consumerFile, name, ...policy } = entry;
  const key = new ApiKey(id, { ...policy, name: name ?? id, rotation: { rotateAfter, rotateEveryDays, gracePeriod } });
  if (consumerFile)
    new ConfigFile(`${id}-consumer`, { path: consumerFile, values: { apiKey: key.key, keyId: key.keyId } });
  keys[id] = { keyId: key.keyId, key: key.key, start: key.start, status: key.status };
}
