import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keyward } from '../../sdk';
import { type ServeProcess, serveEnvironment, spawnServe } from '../support/process';
import { type PulumiProject, pulumiProject } from './fixtures/pulumi-project';

const PROGRAM = 'examples/pulumi/index.js';

/* examples/pulumi as its README runs it: three vendor keys, each in its consumer's config file. */
describe('examples/pulumi: vendor keys written to their consumers', () => {
  let server: ServeProcess;
  let cleanup: () => Promise<void>;
  let client: Keyward;
  let project: PulumiProject;

  beforeAll(async () => {
    const environment = await serveEnvironment('keyward-pulumi-example-');
    cleanup = environment.cleanup;
    server = await spawnServe([], environment.env);
    const rootKey = readFileSync(join(environment.dataDir, 'root-key'), 'utf8').trim();
    client = new Keyward({ baseUrl: server.url, rootKey });
    // This time the provider settings come from the environment.
    project = pulumiProject('keyward-vendor-keys', { KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey });
  });
  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
    project?.remove();
  });

  it('creates scoped, IP-limited keys, writes each to its file, shows no drift, and destroys cleanly', async () => {
    const up = await project.run(PROGRAM, 'up');
    expect(up.summary).toEqual({ create: 7 });
    const file = (vendor: string) =>
      JSON.parse(readFileSync(join(project.dir, 'secrets', `${vendor}.json`), 'utf8')) as {
        apiKey: string;
        keyId: string;
      };

    const crm = file('crm-sync');
    expect(crm.keyId).toBe(up.outputs.keys['crm-sync'].keyId);
    expect((await client.verify({ key: crm.apiKey, scopes: ['contacts:write'], ip: '203.0.113.20' })).code).toBe(
      'VALID',
    );
    expect((await client.verify({ key: crm.apiKey, scopes: ['invoices:read'], ip: '203.0.113.20' })).code).toBe(
      'INSUFFICIENT_SCOPE',
    );
    expect((await client.verify({ key: crm.apiKey, scopes: ['contacts:read'], ip: '198.51.100.7' })).code).toBe(
      'IP_NOT_ALLOWED',
    );
    const billing = file('billing-export');
    expect(
      (await client.verify({ key: billing.apiKey, scopes: ['invoices:export'], ip: '2001:db8:40::17' })).code,
    ).toBe('VALID');
    const email = await client.keys.get(file('email-sender').keyId);
    expect(email).toMatchObject({
      rateLimit: { limit: 600, windowSeconds: 60 },
      maxAgeDays: 90,
      metadata: { vendor: 'email-sender', owner: 'platform-team' },
    });
    // The secret is in the file and the state's secret outputs, never in the plain outputs.
    expect(JSON.stringify(up.outputs)).not.toContain(crm.apiKey);

    expect((await project.run(PROGRAM, 'preview')).summary).toEqual({ same: 7 });
    expect((await project.run(PROGRAM, 'refresh')).summary).toEqual({ same: 7 });
    expect((await project.run(PROGRAM, 'preview')).summary).toEqual({ same: 7 });

    expect((await project.run(PROGRAM, 'destroy')).summary).toEqual({ delete: 7 });
    expect(existsSync(join(project.dir, 'secrets', 'crm-sync.json'))).toBe(false);
    expect((await client.keys.get(crm.keyId)).status).toBe('retiring');
  }, 600_000);
});
