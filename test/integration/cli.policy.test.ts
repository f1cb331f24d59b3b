import { signatureHeaders } from '../../sdk';
import { startTestServer, type TestServer } from '../support/harness';
import { cliEnv, cliJson, runCli } from '../support/process';

/*
 * Every policy field is a CLI flag (schema/keys.ts names them): a security lead creates, updates
 * and rotates a key that signs its requests, and an owner, from the command line alone.
 */
describe('the CLI speaks the whole key policy', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t);
  });
  afterAll(() => t.close());

  const cli = (...args: string[]) => cliJson(env, ...args);

  it('creates a key that signs, and the signing secret it prints signs a request that verifies', async () => {
    const created = await cli(
      'keys',
      'create',
      '--name',
      'exporter',
      '--owner',
      'team-crm',
      '--scope',
      'contacts:read',
      '--scope',
      'contacts:export',
      '--signed-scope',
      'contacts:export',
    );
    expect(created).toMatchObject({ owner: 'team-crm', signedScopes: ['contacts:export'], requireSignature: false });
    expect(created.signingSecret).toMatch(/^kw_sig_/);
    const unsigned = await t.client.verify({ key: created.key, scopes: ['contacts:export'] });
    expect(unsigned.code).toBe('SIGNATURE_REQUIRED');
    const url = 'https://api.example.com/export';
    const headers = signatureHeaders(
      { method: 'GET', url },
      { keyId: created.id, signingSecret: created.signingSecret },
    );
    const request = { method: 'GET', url, headers };
    const signed = await t.client.verify({ key: created.key, scopes: ['contacts:export'], request });
    expect(signed.code).toBe('VALID');
  });

  it('turns signing on and off with --require-signature and --no-require-signature', async () => {
    const plain = await cli('keys', 'create', '--name', 'plain');
    expect(plain.signingSecret).toBeNull();
    const on = await cli('keys', 'update', plain.id, '--require-signature');
    expect(on.requireSignature).toBe(true);
    expect(on.signingSecret).toMatch(/^kw_sig_/);
    expect((await t.client.verify({ key: plain.key })).code).toBe('SIGNATURE_REQUIRED');
    const off = await cli('keys', 'update', plain.id, '--no-require-signature', '--owner', 'none');
    expect([off.requireSignature, off.owner]).toEqual([false, null]);
    expect((await t.client.verify({ key: plain.key })).code).toBe('VALID');
    const both = await runCli(['keys', 'update', plain.id, '--require-signature', '--no-require-signature'], env);
    expect([both.code, both.err]).toEqual([2, expect.stringContaining('contradict')]);
  });

  it('rotates a signing key: the successor prints its own signing secret', async () => {
    const created = await cli('keys', 'create', '--name', 'rotating signer', '--require-signature');
    const successor = await cli('keys', 'rotate', created.id, '--grace', '0');
    expect(successor.requireSignature).toBe(true);
    expect(successor.signingSecret).toMatch(/^kw_sig_/);
    expect(successor.signingSecret).not.toBe(created.signingSecret);
  });

  it('filters the key list by owner and shows the owner in the table', async () => {
    await cli('keys', 'create', '--name', 'billing job', '--owner', 'team-billing');
    const owned = await cli('keys', 'list', '--owner', 'team-billing');
    expect(owned.map((key: { name: string }) => key.name)).toEqual(['billing job']);
    const table = await runCli(['keys', 'list', '--owner', 'team-crm'], env);
    expect(table.out).toMatch(/id\s+name\s+start\s+status\s+owner/);
    expect(table.out).toContain('team-crm');
    expect(table.out).not.toContain('team-billing');
  });

  it('names the flag and the reason for a bad value', async () => {
    const rate = await runCli(['keys', 'create', '--name', 'x', '--rate-limit', 'lots'], env);
    expect([rate.code, rate.err]).toEqual([2, expect.stringContaining('--rate-limit must be LIMIT/SECONDS')]);
    const metadata = await runCli(['keys', 'create', '--name', 'x', '--metadata', '[1]'], env);
    expect([metadata.code, metadata.err]).toEqual([2, expect.stringContaining('--metadata must be a JSON object')]);
    const age = await runCli(['keys', 'create', '--name', 'x', '--max-age-days', 'soon'], env);
    expect([age.code, age.err]).toEqual([2, expect.stringContaining('--max-age-days must be a whole number')]);
  });
});
