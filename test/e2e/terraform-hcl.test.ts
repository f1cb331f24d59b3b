import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Keyward } from '../../sdk';
import { verifyContinuously } from '../support/load';
import { type ServeProcess, serveEnvironment, spawnServe } from '../support/process';
import { type TofuProject, tofuProject } from './fixtures/tofu-project';

/*
 * A Terraform user runs examples/terraform with OpenTofu and keyward's provider, installed with
 * `keyward terraform install`: apply, an empty plan, an in-place scope change, a zero-downtime
 * rotation under load, import, an out-of-band revoke, bad config, and destroy.
 */
describe('examples/terraform under OpenTofu with keyward_api_key', () => {
  let server: ServeProcess;
  let cleanup: () => Promise<void>;
  let client: Keyward;
  let project: TofuProject;

  beforeAll(async () => {
    const environment = await serveEnvironment('keyward-tofu-hcl-');
    cleanup = environment.cleanup;
    server = await spawnServe([], environment.env);
    const rootKey = readFileSync(join(environment.dataDir, 'root-key'), 'utf8').trim();
    client = new Keyward({ baseUrl: server.url, rootKey });
    project = tofuProject('keyward-tofu-hcl', { KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey });
    copyFileSync(resolve(__dirname, '../../examples/terraform/main.tf'), join(project.dir, 'main.tf'));
  });
  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
    project?.remove();
  });

  const keyFile = () => readFileSync(join(project.dir, 'secrets', 'crm.key'), 'utf8');
  const output = async (name: string) => (await project.run(['output', '-raw', name])).out;
  const expectOk = (run: { code: number; out: string; err: string }) => {
    if (run.code !== 0) throw new Error(`tofu failed (${run.code}):\n${run.err}\n${run.out}`);
    return run;
  };

  it('applies, updates in place, rotates with zero failed verifications, imports, refreshes and destroys', async () => {
    expectOk(await project.run(['init', '-input=false']));
    const apply = expectOk(await project.run(['apply', '-auto-approve', '-input=false']));
    expect(apply.out).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed.');
    const firstId = await output('key_id');
    const firstKey = keyFile();
    expect(firstKey).toMatch(/^kw_live_/);
    expect((await client.verify({ key: firstKey, scopes: ['contacts:read'], ip: '127.0.0.1' })).code).toBe('VALID');
    expect(await client.keys.get(firstId)).toMatchObject({
      name: 'crm sync',
      metadata: { team: 'crm', tier: 2 },
      maxAgeDays: 90,
    });
    // A plan right after apply is empty.
    expect((await project.run(['plan', '-detailed-exitcode', '-input=false'])).code).toBe(0);

    // A scope change updates in place: same id, same key.
    const scopes = ['-var', 'scopes=["contacts:read","email:send"]'];
    const scopePlan = await project.run(['plan', '-input=false', ...scopes]);
    expect(scopePlan.out).toContain('~ update in-place');
    expect(scopePlan.out).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    expectOk(await project.run(['apply', '-auto-approve', '-input=false', ...scopes]));
    expect(await output('key_id')).toBe(firstId);
    expect(keyFile()).toBe(firstKey);
    expect((await client.verify({ key: firstKey, scopes: ['email:send'], ip: '127.0.0.1' })).code).toBe('VALID');
    expect((await project.run(['plan', '-detailed-exitcode', '-input=false', ...scopes])).code).toBe(0);

    // Moving rotate_after: create the new key, replace the consumer, then retire the old key.
    const rotated = [...scopes, '-var', 'rotate_after=2026-11-20'];
    const rotationPlan = await project.run(['plan', '-input=false', ...rotated]);
    expect(rotationPlan.out).toContain('+/- create replacement and then destroy');
    expect(rotationPlan.out).toMatch(/rotate_after\s+= "2026-11-01" -> "2026-11-20" # forces replacement/);
    expect(rotationPlan.out).toContain('Plan: 2 to add, 0 to change, 2 to destroy.');
    const load = verifyContinuously(keyFile, (key) => client.verify({ key, scopes: ['email:send'], ip: '127.0.0.1' }));
    const rotation = await project.run(['apply', '-auto-approve', '-input=false', ...rotated]);
    const report = await load.stop();
    expectOk(rotation);
    const secondId = await output('key_id');
    expect(secondId).not.toBe(firstId);
    expect(report.failures).toEqual([]);
    expect(report.keyIdsSeen).toEqual([firstId, secondId]);
    expect(report.verifications).toBeGreaterThan(20);
    const old = await client.keys.get(firstId);
    expect(old.status).toBe('retiring');
    await new Promise((wait) => setTimeout(wait, Math.max(0, Date.parse(old.graceUntil!) - Date.now() + 200)));
    expect((await client.verify({ key: firstKey, ip: '127.0.0.1' })).code).toBe('EXPIRED');
    expect((await project.run(['plan', '-detailed-exitcode', '-input=false', ...rotated])).code).toBe(0);

    // tofu import adopts a key made elsewhere; with a matching block, nothing changes.
    const legacy = await client.keys.create({ name: 'legacy export', scopes: ['contacts:export'] });
    writeFileSync(
      join(project.dir, 'legacy.tf'),
      'resource "keyward_api_key" "legacy" {\n  name   = "legacy export"\n  scopes = ["contacts:export"]\n}\n',
    );
    const imported = expectOk(
      await project.run(['import', '-input=false', ...rotated, 'keyward_api_key.legacy', legacy.id]),
    );
    expect(imported.out).toContain('Import successful!');
    expect((await project.run(['plan', '-detailed-exitcode', '-input=false', ...rotated])).code).toBe(0);
    const state = expectOk(await project.run(['state', 'show', 'keyward_api_key.legacy']));
    expect(state.out).toMatch(new RegExp(`\\bid\\s+= "${legacy.id}"`));

    // A revoke made out of band shows on refresh: the key is gone and the plan makes a new one.
    await client.keys.revoke(legacy.id);
    const refreshOnly = await project.run(['plan', '-refresh-only', '-input=false', ...rotated]);
    expect(refreshOnly.out).toMatch(/# keyward_api_key\.legacy has been deleted/);
    const replanned = await project.run(['plan', '-input=false', ...rotated]);
    expect(replanned.out).toContain('# keyward_api_key.legacy will be created');
    expect(replanned.out).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
    rmSync(join(project.dir, 'legacy.tf'));

    // Bad config: diagnostics name the attribute and the element.
    writeFileSync(
      join(project.dir, 'bad.tf'),
      'resource "keyward_api_key" "bad" {\n  name         = "bad"\n  scopes       = ["contacts:read", "Bad Scope"]\n  ip_allowlist = ["10.0.0.0/33"]\n  grace_period = "soon"\n}\n',
    );
    const invalid = await project.run(['validate']);
    expect(invalid.code).toBe(1);
    expect(invalid.err).toContain('Error: Invalid scopes');
    expect(invalid.err).toContain('on bad.tf line 3, in resource "keyward_api_key" "bad"');
    expect(invalid.err).toContain('scopes[1]: must be resource:action');
    expect(invalid.err).toContain('ip_allowlist[0]: must be an IPv4 or IPv6 address or CIDR range');
    expect(invalid.err).toContain('grace_period: is not a duration');
    rmSync(join(project.dir, 'bad.tf'));
    expect((await client.verify({ key: keyFile(), scopes: ['email:send'], ip: '127.0.0.1' })).code).toBe('VALID');

    // destroy retires the key with its grace period.
    const destroyed = expectOk(await project.run(['destroy', '-auto-approve', '-input=false', ...rotated]));
    expect(destroyed.out).toContain('Destroy complete! Resources: 2 destroyed.');
    const retired = await client.keys.get(secondId);
    expect(retired.status).toBe('retiring');
    expect(existsSync(join(project.dir, 'terraform.tfstate'))).toBe(true);
  }, 900_000);
});
