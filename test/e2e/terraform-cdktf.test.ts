import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Keyward } from '../../sdk';
import { verifyContinuously } from '../support/load';
import { type ServeProcess, serveEnvironment, spawnServe } from '../support/process';
import { type TofuProject, tofuProject } from './fixtures/tofu-project';

const APP = resolve(__dirname, '../../dist/examples/cdktf/main.js');

/*
 * A CDKTF user synthesizes examples/cdktf (RotatingApiKey from the generated bindings) and applies
 * it with OpenTofu: create, an empty plan, an in-place scope change, and a rotation under load.
 */
describe('examples/cdktf: RotatingApiKey synthesized and applied with OpenTofu', () => {
  let server: ServeProcess;
  let cleanup: () => Promise<void>;
  let client: Keyward;
  let project: TofuProject;

  beforeAll(async () => {
    const environment = await serveEnvironment('keyward-tofu-cdktf-');
    cleanup = environment.cleanup;
    server = await spawnServe([], environment.env);
    const rootKey = readFileSync(join(environment.dataDir, 'root-key'), 'utf8').trim();
    client = new Keyward({ baseUrl: server.url, rootKey });
    project = tofuProject('keyward-tofu-cdktf', { KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey });
  });
  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
    project?.remove();
  });

  const keyFile = () => readFileSync(join(project.dir, 'secrets', 'crm.key'), 'utf8');
  const synth = (settings: { scopes: string[]; rotateAfter: string }) =>
    execFileSync(process.execPath, [APP], {
      cwd: project.dir,
      env: {
        PATH: process.env.PATH,
        CDKTF_OUTDIR: join(project.dir, 'cdktf.out'),
        KEY_SCOPES: JSON.stringify(settings.scopes),
        ROTATE_AFTER: settings.rotateAfter,
        KEY_FILE: join(project.dir, 'secrets', 'crm.key'),
      },
    });
  const tofu = async (...args: string[]) => {
    const run = await project.run(['-chdir=cdktf.out/stacks/keys', ...args]);
    if (run.code !== 0 && !(args.includes('-detailed-exitcode') && run.code === 2))
      throw new Error(`tofu ${args[0]} failed (${run.code}):\n${run.err}\n${run.out}`);
    return run;
  };
  const output = async (name: string) => (await tofu('output', '-raw', name)).out;

  it('creates, shows no drift, updates in place and rotates with zero failed verifications', async () => {
    synth({ scopes: ['contacts:read'], rotateAfter: '2026-11-01' });
    await tofu('init', '-input=false');
    expect((await tofu('plan', '-input=false')).out).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');
    expect((await tofu('apply', '-auto-approve', '-input=false')).out).toContain(
      'Apply complete! Resources: 2 added, 0 changed, 0 destroyed.',
    );
    const firstId = await output('key_id');
    const firstKey = keyFile();
    expect((await client.verify({ key: firstKey, scopes: ['contacts:read'], ip: '127.0.0.1' })).code).toBe('VALID');
    expect((await tofu('plan', '-detailed-exitcode', '-input=false')).code).toBe(0);

    synth({ scopes: ['contacts:read', 'email:send'], rotateAfter: '2026-11-01' });
    expect((await tofu('plan', '-input=false')).out).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    await tofu('apply', '-auto-approve', '-input=false');
    expect(await output('key_id')).toBe(firstId);
    expect(keyFile()).toBe(firstKey);
    expect((await client.keys.get(firstId)).scopes).toEqual(['contacts:read', 'email:send']);

    synth({ scopes: ['contacts:read', 'email:send'], rotateAfter: '2026-11-20' });
    const plan = await tofu('plan', '-input=false');
    expect(plan.out).toContain('+/- create replacement and then destroy');
    expect(plan.out).toContain('Plan: 2 to add, 0 to change, 2 to destroy.');
    const load = verifyContinuously(keyFile, (key) => client.verify({ key, scopes: ['email:send'], ip: '127.0.0.1' }));
    const applied = await tofu('apply', '-auto-approve', '-input=false');
    const report = await load.stop();
    expect(applied.out).toContain('Apply complete! Resources: 2 added, 0 changed, 2 destroyed.');
    const secondId = await output('key_id');
    expect(report.failures).toEqual([]);
    expect(report.keyIdsSeen).toEqual([firstId, secondId]);
    expect((await client.keys.get(firstId)).status).toBe('retiring');
    expect((await tofu('plan', '-detailed-exitcode', '-input=false')).code).toBe(0);

    expect((await tofu('destroy', '-auto-approve', '-input=false')).out).toContain(
      'Destroy complete! Resources: 2 destroyed.',
    );
    expect((await client.keys.get(secondId)).status).toBe('retiring');
  }, 900_000);
});
