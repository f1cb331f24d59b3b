import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { generateKey, Keyward } from '../../sdk';
import { withWrongChecksum } from '../support/keys';
import { verifyContinuously } from '../support/load';
import { type ServeProcess, serveEnvironment, spawnServe } from '../support/process';
import { legacyTofuBinary, type TofuProject, type TofuRun, tofuProject } from './fixtures/tofu-project';

/*
 * Keys that never touch state (issue #21): examples/terraform-ephemeral under real OpenTofu 1.12.
 * keyward_key_material generates the key, keyward_api_key.key_wo takes it, and a provisioner hands
 * it to the consumer's file. After every step, the state file, a saved plan and `tofu show -json`
 * of both hold no `kw_live_` and not the key, while the key verifies. A rotation by date runs under
 * load. Bad key_wo values fail with diagnostics on key_wo and change nothing on the server, and
 * OpenTofu 1.10 refuses key_wo at validate and stores nothing. The CDKTF escape hatch
 * (KeyMaterial) synthesizes and applies the same way.
 */
const REPO = resolve(__dirname, '../..');

/*
 * A CDKTF app with KeyMaterial feeding keyWo and a provisioner, synthesized with the repository's
 * cdktf 0.21 and the compiled bindings (dist/provider/cdktf, from `npm run build`).
 */
const CDKTF_APP = `
const { App, TerraformStack, TerraformOutput, DataResource } = require(process.env.CDKTF);
const { KeyMaterial, KeywardProvider, RotatingApiKey } = require(process.env.BINDINGS);
const app = new App({ outdir: process.env.CDKTF_OUTDIR });
const stack = new TerraformStack(app, 'keys');
new KeywardProvider(stack, 'keyward', {});
const material = new KeyMaterial(stack, 'crm_key', { environment: 'live' });
const crm = new RotatingApiKey(stack, 'crm', {
  name: 'crm sync', scopes: ['contacts:read'], gracePeriod: '30s',
  keyWo: material.key, keyWoVersion: 'rotated-' + process.env.ROTATION_DATE,
});
new DataResource(stack, 'crm_consumer', {
  input: crm.id,
  provisioners: [{ type: 'local-exec', command: 'umask 077 && printf "%s" "$KEY" > "$KEY_FILE"',
    environment: { KEY: material.key, KEY_FILE: process.env.KEY_FILE } }],
  lifecycle: { replaceTriggeredBy: ['keyward_api_key.crm.id'] },
});
new TerraformOutput(stack, 'key_id', { value: crm.id });
app.synth();
`;
const expectOk = (run: TofuRun) => {
  if (run.code !== 0) throw new Error(`tofu failed (${run.code}):\n${run.err}\n${run.out}`);
  return run;
};

/** A config that feeds key_wo from an ephemeral input variable (or a sensitive one on OpenTofu 1.10). */
function keyFromVariable(ephemeral: boolean): string {
  return [
    'terraform {',
    '  required_providers {',
    '    keyward = { source = "registry.terraform.io/keyward/keyward" }',
    '  }',
    '}',
    'variable "key" {',
    '  type      = string',
    '  sensitive = true',
    ...(ephemeral ? ['  ephemeral = true'] : []),
    '}',
    'variable "key_version" {',
    '  type    = string',
    '  default = "1"',
    '}',
    'resource "keyward_api_key" "supplied" {',
    '  name           = "supplied"',
    '  scopes         = ["contacts:read"]',
    '  key_wo         = var.key',
    '  key_wo_version = var.key_version',
    '  lifecycle {',
    '    create_before_destroy = true',
    '  }',
    '}',
    '',
  ].join('\n');
}

describe('examples/terraform-ephemeral: keys that never touch state', () => {
  let server: ServeProcess;
  let cleanup: () => Promise<void>;
  let client: Keyward;
  let env: NodeJS.ProcessEnv;
  const projects: TofuProject[] = [];

  beforeAll(async () => {
    const environment = await serveEnvironment('keyward-tofu-ephemeral-');
    cleanup = environment.cleanup;
    server = await spawnServe([], environment.env);
    const rootKey = readFileSync(join(environment.dataDir, 'root-key'), 'utf8').trim();
    client = new Keyward({ baseUrl: server.url, rootKey });
    env = { KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey };
  });
  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
    for (const project of projects) project.remove();
  });

  const project = (prefix: string, binary?: string) => {
    const made = tofuProject(prefix, env, binary);
    projects.push(made);
    return made;
  };
  /** The resources a state file holds (none when there is no state file). */
  const storedResources = (tofu: TofuProject): string[] => {
    const file = join(tofu.dir, 'terraform.tfstate');
    if (!existsSync(file)) return [];
    return (JSON.parse(readFileSync(file, 'utf8')) as { resources: { type: string; name: string }[] }).resources.map(
      (resource) => `${resource.type}.${resource.name}`,
    );
  };
  /** Every key on the server, whatever its status (a retiring key of another test may expire meanwhile). */
  const keyIds = async () => {
    const ids: string[] = [];
    for await (const key of client.keys.list()) ids.push(key.id);
    return ids.sort();
  };

  /**
   * The state file (and its backup), a saved plan (the zip and every file in it), and `tofu show
   * -json` of the state and of that plan: none holds `kw_live_` or the key.
   */
  async function expectNothingStored(tofu: TofuProject, key: string, args: string[] = []) {
    const planFile = join(tofu.dir, 'check.tfplan');
    expectOk(await tofu.run(['plan', '-input=false', `-out=${planFile}`, ...args]));
    const plan = readFileSync(planFile);
    const artifacts: Record<string, string> = {
      'terraform.tfstate': readFileSync(join(tofu.dir, 'terraform.tfstate'), 'latin1'),
      'saved plan (zip)': plan.toString('latin1'),
      'tofu show -json': expectOk(await tofu.run(['show', '-json'])).out,
      'tofu show -json <saved plan>': expectOk(await tofu.run(['show', '-json', planFile])).out,
    };
    if (existsSync(join(tofu.dir, 'terraform.tfstate.backup')))
      artifacts['terraform.tfstate.backup'] = readFileSync(join(tofu.dir, 'terraform.tfstate.backup'), 'latin1');
    for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(plan))))
      artifacts[`saved plan: ${name}`] = Buffer.from(bytes).toString('latin1');
    expect(Object.keys(artifacts)).toEqual(expect.arrayContaining(['saved plan: tfplan', 'saved plan: tfstate']));
    for (const [name, text] of Object.entries(artifacts)) {
      expect([name, text.includes('kw_live_')]).toEqual([name, false]);
      expect([name, text.includes(key)]).toEqual([name, false]);
    }
  }

  it("is the README's example, as it is", () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Keeping keys out of state'));
    const example = /```hcl\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toBe(readFileSync(join(REPO, 'examples/terraform-ephemeral/main.tf'), 'utf8'));
  });

  it('applies and rotates by date with zero failed verifications, never storing the key', async () => {
    const tofu = project('keyward-tofu-ephemeral');
    copyFileSync(join(REPO, 'examples/terraform-ephemeral/main.tf'), join(tofu.dir, 'main.tf'));
    const keyFile = () => readFileSync(join(tofu.dir, 'secrets', 'crm.key'), 'utf8');
    const verifies = async (key: string) =>
      (await client.verify({ key, scopes: ['contacts:read'], ip: '127.0.0.1' })).code;
    const keyId = async () => expectOk(await tofu.run(['output', '-raw', 'key_id'])).out;

    // Any engine with write-only arguments and ephemeral resources: OpenTofu or Terraform >= 1.11.
    expect(expectOk(await tofu.run(['version'])).out).toMatch(/^(OpenTofu|Terraform) v1\.(1[1-9]|[2-9]\d)\./);
    expectOk(await tofu.run(['init', '-input=false']));
    const apply = expectOk(await tofu.run(['apply', '-auto-approve', '-input=false']));
    expect(apply.out).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed.');
    expect(apply.out).toContain('(output suppressed due to ephemeral value in config)');
    const firstId = await keyId();
    const firstKey = keyFile();
    expect(firstKey).toMatch(/^kw_live_[0-9A-Za-z]{49}$/);
    expect(await verifies(firstKey)).toBe('VALID');
    expect((await client.verify({ key: firstKey, ip: '127.0.0.1' })).keyId).toBe(firstId);
    const shown = JSON.parse(expectOk(await tofu.run(['show', '-json'])).out);
    const stored = shown.values.root_module.resources.find(
      (resource: { address: string }) => resource.address === 'keyward_api_key.crm',
    );
    expect(stored.values).toMatchObject({
      id: firstId,
      key: null,
      key_wo: null,
      start: null,
      key_wo_version: 'rotated-2026-11-01',
    });
    await expectNothingStored(tofu, firstKey);

    // Each plan opens the ephemeral key material afresh, but only a new version puts a key into use.
    const again = await tofu.run(['plan', '-detailed-exitcode', '-input=false']);
    expect([again.code, again.err]).toEqual([0, '']);
    expect(keyFile()).toBe(firstKey);

    // A new rotation date: new key from key_wo, consumer replaced, old key retiring; under load.
    const rotated = ['-var', 'rotation_date=2026-12-01'];
    const plan = expectOk(await tofu.run(['plan', '-input=false', ...rotated]));
    expect(plan.out).toContain('+/- create replacement and then destroy');
    expect(plan.out).toMatch(/key_wo_version\s+= "rotated-2026-11-01" -> "rotated-2026-12-01" # forces replacement/);
    expect(plan.out).toContain('Plan: 2 to add, 0 to change, 2 to destroy.');
    let load = verifyContinuously(keyFile, (key) => client.verify({ key, scopes: ['contacts:read'], ip: '127.0.0.1' }));
    const rotation = await tofu.run(['apply', '-auto-approve', '-input=false', ...rotated]);
    let report = await load.stop();
    console.log(`rotation by date: ${report.verifications} verifications, ${report.failures.length} failed`);
    expectOk(rotation);
    const secondId = await keyId();
    const secondKey = keyFile();
    expect(secondId).not.toBe(firstId);
    expect(secondKey).not.toBe(firstKey);
    expect(report.failures).toEqual([]);
    expect(report.keyIdsSeen).toEqual([firstId, secondId]);
    expect(report.verifications).toBeGreaterThan(20);
    expect((await client.keys.get(firstId)).status).toBe('retiring');
    expect(await verifies(secondKey)).toBe('VALID');
    await expectNothingStored(tofu, secondKey, rotated);
    await expectNothingStored(tofu, firstKey, rotated);

    // The GitOps way: a saved plan reviewed first, applied later. The key is made at apply.
    const third = ['-var', 'rotation_date=2027-01-01'];
    const planFile = join(tofu.dir, 'rotate.tfplan');
    expectOk(await tofu.run(['plan', '-input=false', `-out=${planFile}`, ...third]));
    expect(readFileSync(planFile).toString('latin1')).not.toContain('kw_live_');
    load = verifyContinuously(keyFile, (key) => client.verify({ key, scopes: ['contacts:read'], ip: '127.0.0.1' }));
    const applied = await tofu.run(['apply', '-input=false', planFile]);
    report = await load.stop();
    console.log(`rotation by a saved plan: ${report.verifications} verifications, ${report.failures.length} failed`);
    expect(expectOk(applied).out).toContain('Apply complete! Resources: 2 added, 0 changed, 2 destroyed.');
    const thirdId = await keyId();
    const thirdKey = keyFile();
    expect(report.failures).toEqual([]);
    expect(report.keyIdsSeen).toEqual([secondId, thirdId]);
    expect(await verifies(thirdKey)).toBe('VALID');
    await expectNothingStored(tofu, thirdKey, third);
    expect((await tofu.run(['plan', '-detailed-exitcode', '-input=false', ...third])).code).toBe(0);

    const destroyed = expectOk(await tofu.run(['destroy', '-auto-approve', '-input=false', ...third]));
    expect(destroyed.out).toContain('Destroy complete! Resources: 2 destroyed.');
    expect((await client.keys.get(thirdId)).status).toBe('retiring');
  }, 900_000);

  it('refuses a malformed, wrong-environment or duplicate key_wo with a diagnostic on key_wo, changing nothing', async () => {
    const tofu = project('keyward-tofu-key-wo');
    writeFileSync(join(tofu.dir, 'main.tf'), keyFromVariable(true));
    expectOk(await tofu.run(['init', '-input=false']));
    const before = await keyIds();
    const refused = async (key: string, summary: string, detail: RegExp, extra: string[] = []) => {
      const run = await tofu.run(['apply', '-auto-approve', '-input=false', '-var', `key=${key}`, ...extra]);
      expect(run.code).toBe(1);
      expect(run.err).toContain(`Error: ${summary}`);
      expect(run.err).toMatch(
        /with keyward_api_key\.supplied,\n\s+on main\.tf line \d+, in resource "keyward_api_key" "supplied":\n\s+\d+:\s+key_wo\s+= var\.key/,
      );
      expect(run.err).toMatch(detail);
      expect(`${run.out}${run.err}`).not.toContain(key.slice(8, 40) || key);
    };

    await refused('kw_live_not-a-key', 'Invalid key_wo', /key_wo: must be a keyward key: kw_live_ then 49 base62/);
    await refused(generateKey({ environment: 'test' }), 'Invalid key_wo', /key_wo: must start with kw_live_/);
    await refused(withWrongChecksum(generateKey()), 'Invalid key_wo', /key_wo: has a wrong checksum/);
    // A key already in use anywhere is refused by the server when the key is created.
    const taken = generateKey();
    const elsewhere = await client.keys.create({ name: 'elsewhere', scopes: [], key: taken });
    const withElsewhere = await keyIds();
    await refused(taken, 'key_wo is already in use', /key_wo: keyward already holds this key/);
    expect(await keyIds()).toEqual(withElsewhere);
    expect(withElsewhere).toEqual([...before, elsewhere.id].sort());
    expect(storedResources(tofu)).toEqual([]);

    // With a key in place, a rotation to a taken key fails and leaves the old key working.
    const own = generateKey();
    expectOk(await tofu.run(['apply', '-auto-approve', '-input=false', '-var', `key=${own}`]));
    const id = expectOk(await tofu.run(['state', 'show', 'keyward_api_key.supplied'])).out.match(
      /\bid\s+= "(key_\w+)"/,
    )![1]!;
    const inPlace = await keyIds();
    await refused(taken, 'key_wo is already in use', /key_wo: keyward already holds this key/, [
      '-var',
      'key_version=2',
    ]);
    expect(await keyIds()).toEqual(inPlace);
    expect((await client.keys.get(id)).status).toBe('active');
    expect((await client.verify({ key: own, ip: '127.0.0.1' })).code).toBe('VALID');
    expect(expectOk(await tofu.run(['state', 'show', 'keyward_api_key.supplied'])).out).toContain(id);
    await expectNothingStored(tofu, own, ['-var', `key=${own}`]);
  }, 600_000);

  it('on OpenTofu 1.10 (no write-only arguments) fails at validate naming key_wo and stores nothing; without key_wo it still works', async () => {
    const tofu = project('keyward-tofu-legacy', legacyTofuBinary());
    expect(expectOk(await tofu.run(['version'])).out).toMatch(/^OpenTofu v1\.10\./);
    writeFileSync(join(tofu.dir, 'main.tf'), keyFromVariable(false));
    expectOk(await tofu.run(['init', '-input=false']));
    const before = await keyIds();
    const key = generateKey();
    for (const command of [['validate'], ['plan', '-input=false'], ['apply', '-auto-approve', '-input=false']]) {
      const run = await tofu.run([...command, ...(command[0] === 'validate' ? [] : ['-var', `key=${key}`])]);
      expect([command[0], run.code]).toEqual([command[0], 1]);
      expect(run.err).toContain('Error: key_wo needs an engine with write-only arguments');
      expect(run.err).toMatch(
        /on main\.tf line \d+, in resource "keyward_api_key" "supplied":\n\s+\d+:\s+key_wo\s+= var\.key/,
      );
      expect(run.err).toContain('key_wo: this OpenTofu or Terraform does not support write-only arguments');
      expect(run.err).not.toContain(key);
    }
    expect(storedResources(tofu)).toEqual([]);
    expect(await keyIds()).toEqual(before);

    // The provider itself still serves this engine: a key keyward generates, in state as before.
    writeFileSync(
      join(tofu.dir, 'main.tf'),
      [
        'terraform {',
        '  required_providers {',
        '    keyward = { source = "registry.terraform.io/keyward/keyward" }',
        '  }',
        '}',
        'resource "keyward_api_key" "plain" {',
        '  name   = "plain"',
        '  scopes = ["contacts:read"]',
        '}',
        'output "key" {',
        '  value     = keyward_api_key.plain.key',
        '  sensitive = true',
        '}',
        '',
      ].join('\n'),
    );
    expectOk(await tofu.run(['apply', '-auto-approve', '-input=false']));
    const generated = expectOk(await tofu.run(['output', '-raw', 'key'])).out;
    expect((await client.verify({ key: generated, ip: '127.0.0.1' })).code).toBe('VALID');
    expect((await tofu.run(['plan', '-detailed-exitcode', '-input=false'])).code).toBe(0);
  }, 600_000);

  it('CDKTF: KeyMaterial (the escape hatch for cdktf 0.21) feeds keyWo and the consumer, nothing stored', async () => {
    const tofu = project('keyward-tofu-cdktf-ephemeral');
    const keyFile = join(tofu.dir, 'crm.key');
    const synth = (rotationDate: string) =>
      execFileSync(process.execPath, ['-e', CDKTF_APP], {
        // The local backend's state file lands in the working dir.
        cwd: tofu.dir,
        env: {
          PATH: process.env.PATH,
          CDKTF: join(REPO, 'node_modules', 'cdktf'),
          BINDINGS: join(REPO, 'dist', 'provider', 'cdktf'),
          CDKTF_OUTDIR: join(tofu.dir, 'cdktf.out'),
          ROTATION_DATE: rotationDate,
          KEY_FILE: keyFile,
        },
      });
    const stack = ['-chdir=cdktf.out/stacks/keys'];
    synth('2026-11-01');
    const synthesized = JSON.parse(readFileSync(join(tofu.dir, 'cdktf.out/stacks/keys/cdk.tf.json'), 'utf8'));
    expect(synthesized.ephemeral).toEqual({ keyward_key_material: { crm_key: { environment: 'live' } } });
    // The raw reference the engine resolves.
    expect(synthesized.resource.keyward_api_key.crm.key_wo).toMatch(
      /^\$\{ephemeral\.keyward_key_material\.crm_key\.key\}$/,
    );
    expectOk(await tofu.run([...stack, 'init', '-input=false']));
    expectOk(await tofu.run([...stack, 'apply', '-auto-approve', '-input=false']));
    const first = readFileSync(keyFile, 'utf8');
    expect((await client.verify({ key: first, ip: '127.0.0.1' })).code).toBe('VALID');

    synth('2026-12-01');
    expect(expectOk(await tofu.run([...stack, 'apply', '-auto-approve', '-input=false'])).out).toContain(
      'Apply complete! Resources: 2 added, 0 changed, 2 destroyed.',
    );
    const second = readFileSync(keyFile, 'utf8');
    expect(second).not.toBe(first);
    expect((await client.verify({ key: second, ip: '127.0.0.1' })).code).toBe('VALID');
    const state = readFileSync(join(tofu.dir, 'terraform.keys.tfstate'), 'utf8');
    expect(
      JSON.parse(state)
        .resources.map((resource: { type: string }) => resource.type)
        .sort(),
    ).toEqual(['keyward_api_key', 'terraform_data']);
    for (const key of [first, second])
      expect([state.includes('kw_live_'), state.includes(key)]).toEqual([false, false]);
    expectOk(await tofu.run([...stack, 'destroy', '-auto-approve', '-input=false']));
  }, 600_000);
});
