import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Keyward } from '../../sdk';
import { serveEnvironment, spawnServe, type ServeProcess } from '../support/process';

const REPO = resolve(__dirname, '../..');
const FIXTURE = join(REPO, 'dist/test/e2e/fixtures/pulumi-keys.js');
const enginesBin = process.env.PULUMI_BIN ? resolve(process.env.PULUMI_BIN, '..') : process.env.KEYWARD_ENGINES_BIN;

/* A platform team declares keys in a Pulumi program and changes them through the real engine. */
describe('keyward/pulumi ApiKey under the real Pulumi engine', () => {
  let server: ServeProcess;
  let cleanup: () => Promise<void>;
  let client: Keyward;
  let env: NodeJS.ProcessEnv;
  let workDir: string;

  beforeAll(async () => {
    if (!enginesBin) throw new Error('no Pulumi: run scripts/install-iac-engines.sh and set KEYWARD_ENGINES_BIN, or set PULUMI_BIN');
    const environment = await serveEnvironment('keyward-pulumi-provider-');
    cleanup = environment.cleanup;
    server = await spawnServe([], environment.env);
    const rootKey = readFileSync(join(environment.dataDir, 'root-key'), 'utf8').trim();
    client = new Keyward({ baseUrl: server.url, rootKey });
    // A Pulumi project as a user has it: keyward and @pulumi/pulumi in its node_modules.
    workDir = mkdtempSync(join(tmpdir(), 'keyward-pulumi-project-'));
    mkdirSync(join(workDir, 'node_modules'));
    symlinkSync(REPO, join(workDir, 'node_modules', 'keyward'));
    symlinkSync(join(REPO, 'node_modules', '@pulumi'), join(workDir, 'node_modules', '@pulumi'));
    env = { PATH: process.env.PATH, HOME: workDir, KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey };
  });
  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  const pulumi = (operation: string, spec: unknown) =>
    new Promise<{ summary: Record<string, number>; outputs: Record<string, { keyId: string; key: string; start: string; status: string }> }>((done, fail) => {
      execFile(process.execPath, [FIXTURE, enginesBin!, workDir, operation, JSON.stringify(spec)], { env, cwd: workDir, timeout: 180_000, maxBuffer: 16 << 20 }, (error, out, err) => {
        if (error) fail(new Error(`pulumi ${operation} failed:\n${err}`));
        else done(JSON.parse(out.trim().split('\n').at(-1)!));
      });
    });
  const spec = (scopes: string[], rotateAfter: string) => ({
    crm: { name: 'crm sync', scopes, ipAllowlist: ['203.0.113.0/24'], rotation: { rotateAfter, gracePeriod: '30s' } },
    billing: { name: 'billing', scopes: ['invoices:read'], rotation: { gracePeriod: '0s' } },
  });

  it('creates, updates in place, rotates create-before-delete, and retires on destroy', async () => {
    const created = await pulumi('up', spec(['contacts:read'], '2026-11-01'));
    expect(created.summary).toEqual({ create: 3 });
    const first = created.outputs.crm!;
    expect(first.key).toMatch(/^kw_live_/);
    expect((await client.verify({ key: first.key, scopes: ['contacts:read'], ip: '203.0.113.5' })).code).toBe('VALID');

    // A preview right after an up shows nothing to do.
    expect((await pulumi('preview', spec(['contacts:read'], '2026-11-01'))).summary).toEqual({ same: 3 });

    // A scope change is an in-place update: same key id, same secret.
    const updated = await pulumi('up', spec(['contacts:read', 'email:send'], '2026-11-01'));
    expect(updated.summary).toEqual({ same: 2, update: 1 });
    expect(updated.outputs.crm).toMatchObject({ keyId: first.keyId, key: first.key });
    expect((await client.verify({ key: first.key, scopes: ['email:send'], ip: '203.0.113.5' })).code).toBe('VALID');
    expect((await pulumi('preview', spec(['contacts:read', 'email:send'], '2026-11-01'))).summary).toEqual({ same: 3 });

    // Moving rotateAfter replaces the key, creating the new one before retiring the old.
    expect((await pulumi('preview', spec(['contacts:read', 'email:send'], '2026-11-20'))).summary).toEqual({ replace: 1, same: 2 });
    const rotated = await pulumi('up', spec(['contacts:read', 'email:send'], '2026-11-20'));
    expect(rotated.summary).toEqual({ replace: 1, same: 2 });
    const second = rotated.outputs.crm!;
    expect(second.keyId).not.toBe(first.keyId);
    expect(second.key).not.toBe(first.key);
    const old = await client.keys.get(first.keyId);
    expect(old.status).toBe('retiring');
    expect((await client.verify({ key: first.key, scopes: ['email:send'], ip: '203.0.113.5' })).code).toBe('VALID');
    expect((await client.verify({ key: second.key, scopes: ['email:send'], ip: '203.0.113.5' })).code).toBe('VALID');
    await new Promise((wait) => setTimeout(wait, Math.max(0, Date.parse(old.graceUntil!) - Date.now() + 100)));
    expect((await client.verify({ key: first.key, ip: '203.0.113.5' })).code).toBe('EXPIRED');

    // A key revoked out of band disappears on refresh, and the next up recreates it.
    await client.keys.revoke(created.outputs.billing!.keyId);
    expect((await pulumi('refresh', spec(['contacts:read', 'email:send'], '2026-11-20'))).summary).toMatchObject({ delete: 1 });
    const recreated = await pulumi('up', spec(['contacts:read', 'email:send'], '2026-11-20'));
    expect(recreated.summary).toMatchObject({ create: 1 });
    expect(recreated.outputs.billing!.keyId).not.toBe(created.outputs.billing!.keyId);

    // destroy retires every key with its grace period.
    expect((await pulumi('destroy', spec(['contacts:read', 'email:send'], '2026-11-20'))).summary).toEqual({ delete: 3 });
    // The grace (30 s) may already have run out by now: either way it was retired, not revoked.
    const retired = await client.keys.get(second.keyId);
    expect(['retiring', 'expired']).toContain(retired.status);
    expect(retired.graceUntil).not.toBeNull();
    expect((await client.keys.get(recreated.outputs.billing!.keyId)).status).toBe('expired');
  }, 600_000);
});
