import * as pulumi from '@pulumi/pulumi';

/** The inputs of a ConfigFile: where to write, what, and in which format. */
export interface ConfigFileArgs {
  /** The file to write. Changing it writes the new file, then removes the old one. */
  path: pulumi.Input<string>;
  /** Entries to write, e.g. `{ CRM_API_KEY: crm.key }`; secret values stay secret in the state. */
  values: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** `json` (an object) or `env` (`NAME=value` lines). Default `json`. */
  format?: pulumi.Input<'json' | 'env'>;
}

type FileInputs = { path: string; values: Record<string, string>; format?: 'json' | 'env' };

/*
 * The consumer side of a rotation: a service reads its key from a local config file. The file is
 * replaced atomically (write beside it, then rename), so a reader sees either the old key or the
 * new one, never a half-written file; that is what keeps a rotation free of failed requests.
 * Like ApiKey's provider, this object is serialized into the state, so it captures nothing.
 */
const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    const failures: { property: string; reason: string }[] = [];
    if (typeof news.path !== 'string' || news.path.trim() === '')
      failures.push({ property: 'path', reason: 'path: must be a non-empty file path' });
    if (news.format !== undefined && news.format !== 'json' && news.format !== 'env')
      failures.push({ property: 'format', reason: `format: ${JSON.stringify(news.format)} is not json or env` });
    if (typeof news.values !== 'object' || news.values === null || Array.isArray(news.values)) {
      failures.push({ property: 'values', reason: 'values: must be an object of names to strings' });
    } else {
      for (const [name, value] of Object.entries(news.values as Record<string, unknown>)) {
        if (typeof value !== 'string')
          failures.push({ property: 'values', reason: `values.${name}: must be a string` });
        else if (news.format === 'env' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
          failures.push({ property: 'values', reason: `values.${name}: is not a valid environment variable name` });
      }
    }
    return { inputs: news, failures };
  },

  async diff(_id, olds, news) {
    const replaces = olds.path === news.path ? [] : ['path'];
    const changed =
      replaces.length > 0 ||
      JSON.stringify(olds.values) !== JSON.stringify(news.values) ||
      (olds.format ?? 'json') !== (news.format ?? 'json');
    return { changes: changed, replaces, deleteBeforeReplace: false };
  },

  async create(inputs) {
    writeConfigFile(inputs as FileInputs);
    return { id: String(inputs.path), outs: inputs };
  },

  async read(id, props) {
    const { existsSync } = require('node:fs') as typeof import('node:fs');
    // A file deleted out of band is gone; the next up writes it again.
    return existsSync(id) ? { id, props } : { id: undefined as never, props: {} };
  },

  async update(_id, _olds, news) {
    writeConfigFile(news as FileInputs);
    return { outs: news };
  },

  async delete(id) {
    const { rmSync } = require('node:fs') as typeof import('node:fs');
    rmSync(id, { force: true });
  },
};

/** Writes the file with mode 0600 and swaps it into place in one rename. */
function writeConfigFile(inputs: FileInputs): void {
  const { mkdirSync, renameSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
  const { dirname, basename, join } = require('node:path') as typeof import('node:path');
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  const body =
    inputs.format === 'env'
      ? Object.entries(inputs.values)
          .map(([name, value]) => `${name}=${value}\n`)
          .join('')
      : `${JSON.stringify(inputs.values, null, 2)}\n`;
  mkdirSync(dirname(inputs.path), { recursive: true });
  const staging = join(dirname(inputs.path), `.${basename(inputs.path)}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(staging, body, { mode: 0o600 });
  renameSync(staging, inputs.path);
}

/**
 * A local config file holding keys for a service to read: the consumer a rotation updates
 * between creating the new key and retiring the old one.
 * @example
 * const crm = new ApiKey('crm', { name: 'crm sync', scopes: ['contacts:read'] });
 * new ConfigFile('crm-config', { path: '/etc/crm/keyward.json', values: { apiKey: crm.key } });
 */
export class ConfigFile extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;

  constructor(name: string, args: ConfigFileArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      provider,
      name,
      args,
      { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), 'values'] },
      'keyward',
      'ConfigFile',
    );
  }
}
