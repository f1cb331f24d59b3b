import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Keyward } from '../../sdk';
import { verifyContinuously } from '../support/load';
import { type ServeProcess, serveEnvironment, spawnServe } from '../support/process';
import { type PulumiProject, pulumiProject } from './fixtures/pulumi-project';

const PROGRAM = 'examples/gitops/index.js';

/*
 * A platform team keeps its keys in keys.yaml and lets CI run Pulumi: the story runs the
 * examples/gitops program through the real engine and Pulumi's dynamic-provider host, against a
 * real keyward server, editing keys.yaml between runs as pull requests would.
 */
describe('GitOps with keyward/pulumi: keys.yaml drives create, update, rotation, adoption and retirement', () => {
  let server: ServeProcess;
  let cleanup: () => Promise<void>;
  let client: Keyward;
  let project: PulumiProject;
  let config: Record<string, { value: string; secret?: boolean }>;

  beforeAll(async () => {
    const environment = await serveEnvironment('keyward-pulumi-gitops-');
    cleanup = environment.cleanup;
    server = await spawnServe([], environment.env);
    const rootKey = readFileSync(join(environment.dataDir, 'root-key'), 'utf8').trim();
    client = new Keyward({ baseUrl: server.url, rootKey });
    // No KEYWARD_URL / KEYWARD_ROOT_KEY in the env: the provider settings come from stack config.
    project = pulumiProject('keyward-gitops', {});
    config = { 'keyward:url': { value: server.url }, 'keyward:rootKey': { value: rootKey, secret: true } };
  });
  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
    project?.remove();
  });

  const writeKeys = (keys: Record<string, unknown>) =>
    writeFileSync(join(project.dir, 'keys.yaml'), stringify({ keys }));
  const consumer = (name: string) =>
    JSON.parse(readFileSync(join(project.dir, 'secrets', `${name}.json`), 'utf8')) as { apiKey: string; keyId: string };
  const crm = (scopes: string[], rotateAfter: string) => ({
    name: 'crm sync',
    scopes,
    ipAllowlist: ['203.0.113.0/24'],
    rotateAfter,
    gracePeriod: '30s',
    consumerFile: './secrets/crm.json',
  });
  const billing = { scopes: ['invoices:read'], gracePeriod: '0s', consumerFile: './secrets/billing.json' };
  const up = () => project.run(PROGRAM, 'up', config);
  const preview = () => project.run(PROGRAM, 'preview', config);

  it('runs the whole lifecycle with zero failed verifications during rotation', async () => {
    // 1. up creates the keys and writes their consumer files; a preview right after shows nothing.
    writeKeys({ crm: crm(['contacts:read'], '2026-11-01'), billing });
    const created = await up();
    expect(created.summary).toEqual({ create: 5 });
    const first = created.outputs.keys.crm;
    expect(first.key).toMatch(/^kw_live_/);
    expect(consumer('crm')).toEqual({ apiKey: first.key, keyId: first.keyId });
    expect(statSync(join(project.dir, 'secrets', 'crm.json')).mode & 0o777).toBe(0o600);
    expect((await client.verify({ key: first.key, scopes: ['contacts:read'], ip: '203.0.113.5' })).code).toBe('VALID');
    expect((await preview()).summary).toEqual({ same: 5 });

    // 2. A scope change is an in-place update: same key id, same secret, consumer untouched.
    writeKeys({ crm: crm(['contacts:read', 'email:send'], '2026-11-01'), billing });
    const updated = await up();
    expect(updated.summary).toEqual({ same: 4, update: 1 });
    expect(updated.outputs.keys.crm).toMatchObject({ keyId: first.keyId, key: first.key });
    expect((await client.verify({ key: first.key, scopes: ['email:send'], ip: '203.0.113.5' })).code).toBe('VALID');
    expect((await preview()).summary).toEqual({ same: 5 });

    // 3. Moving rotateAfter replaces the key create-before-delete and rewrites its consumer file.
    writeKeys({ crm: crm(['contacts:read', 'email:send'], '2026-11-20'), billing });
    const planned = await preview();
    expect(planned.summary).toEqual({ replace: 1, update: 1, same: 3 });
    const load = verifyContinuously(
      () => consumer('crm').apiKey,
      (key) => client.verify({ key, scopes: ['email:send'], ip: '203.0.113.9' }),
    );
    const rotated = await up();
    const report = await load.stop();
    expect(rotated.summary).toEqual({ replace: 1, update: 1, same: 3 });
    const second = rotated.outputs.keys.crm;
    expect(second.keyId).not.toBe(first.keyId);
    expect(consumer('crm')).toEqual({ apiKey: second.key, keyId: second.keyId });
    expect(report.failures).toEqual([]);
    expect(report.keyIdsSeen).toEqual([first.keyId, second.keyId]);
    expect(report.verifications).toBeGreaterThan(50);
    const old = await client.keys.get(first.keyId);
    expect(old.status).toBe('retiring');
    expect((await client.verify({ key: first.key, scopes: ['email:send'], ip: '203.0.113.5' })).code).toBe('VALID');
    await new Promise((wait) => setTimeout(wait, Math.max(0, Date.parse(old.graceUntil!) - Date.now() + 200)));
    expect((await client.verify({ key: first.key, ip: '203.0.113.5' })).code).toBe('EXPIRED');
    expect((await client.verify({ key: second.key, scopes: ['email:send'], ip: '203.0.113.5' })).code).toBe('VALID');

    // 4. A key made outside the repo is adopted: same id and secret, the declared policy applied.
    const legacy = await client.keys.create({ name: 'legacy export', scopes: ['everything:*'] });
    const withLegacy = {
      crm: crm(['contacts:read', 'email:send'], '2026-11-20'),
      billing,
      legacy: { name: 'legacy export', scopes: ['contacts:export'], importKeyId: legacy.id },
    };
    writeKeys(withLegacy);
    const adopted = await up();
    expect(adopted.summary).toEqual({ create: 1, same: 5 });
    expect(adopted.outputs.keys.legacy).toMatchObject({ keyId: legacy.id, status: 'active' });
    expect((await client.keys.get(legacy.id)).scopes).toEqual(['contacts:export']);
    expect((await client.verify({ key: legacy.key, scopes: ['contacts:export'] })).code).toBe('VALID');
    expect((await client.verify({ key: legacy.key, scopes: ['everything:delete'] })).code).toBe('INSUFFICIENT_SCOPE');
    // Once adopted, the import line can go: nothing changes.
    writeKeys({ ...withLegacy, legacy: { name: 'legacy export', scopes: ['contacts:export'] } });
    expect((await preview()).summary).toEqual({ same: 6 });

    // 5. Bad input fails the preview with the field named, and nothing stored changes.
    writeKeys({ ...withLegacy, crm: { ...crm(['Contacts Read!'], '2026-11-20') } });
    await expect(preview()).rejects.toThrow(/scopes/);
    expect((await client.verify({ key: second.key, scopes: ['email:send'], ip: '203.0.113.5' })).code).toBe('VALID');

    // 6. A key revoked out of band shows as gone on refresh, and the next up makes a new one.
    writeKeys({ ...withLegacy, legacy: { name: 'legacy export', scopes: ['contacts:export'] } });
    const billingFirst = created.outputs.keys.billing;
    await client.keys.revoke(billingFirst.keyId);
    expect((await project.run(PROGRAM, 'refresh', config)).summary).toMatchObject({ delete: 1 });
    const recreated = await up();
    expect(recreated.summary).toMatchObject({ create: 1 });
    const billingSecond = recreated.outputs.keys.billing;
    expect(billingSecond.keyId).not.toBe(billingFirst.keyId);
    expect(consumer('billing')).toEqual({ apiKey: billingSecond.key, keyId: billingSecond.keyId });

    // 7. destroy retires every key with its grace period and removes the consumer files.
    expect((await project.run(PROGRAM, 'destroy', config)).summary).toEqual({ delete: 6 });
    const retired = await client.keys.get(second.keyId);
    expect(['retiring', 'expired']).toContain(retired.status);
    expect(retired.graceUntil).not.toBeNull();
    expect((await client.keys.get(billingSecond.keyId)).status).toBe('expired');
    expect(existsSync(join(project.dir, 'secrets', 'crm.json'))).toBe(false);
  }, 900_000);
});
