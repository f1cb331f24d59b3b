import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Keyward } from '../../sdk';
import { TEST_STORE } from '../support/harness';
import { runCli, serveEnvironment, spawnServe } from '../support/process';

/* What a user sees: `keyward serve` on an empty store prints the root key once, and the CLI drives it. */
describe('keyward serve and the CLI', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dataDir, env, cleanup } = await serveEnvironment('keyward-serve-'));
  });
  afterAll(async () => cleanup());

  it('prints the bootstrap root key on the first start only, and writes it with mode 0600', async () => {
    const keyFile = join(dataDir, 'automation', 'root.key');
    const first = await spawnServe([], { ...env, KEYWARD_ROOT_KEY_FILE: keyFile });
    const printed = /\n {2}(kw_root_\w+)\n/.exec(first.stdout())?.[1];
    expect(printed).toBeDefined();
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(printed);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'pepper')).mode & 0o777).toBe(0o600);
    expect(first.stdout()).toContain(TEST_STORE === 'postgres' ? 'Postgres' : 'PGlite');
    expect(await first.stop()).toBe(0);

    const second = await spawnServe([], env);
    expect(second.stdout()).not.toContain('kw_root_');
    // The banner names the web console's address when the console is built (npm run build).
    expect(second.stdout()).toContain(`API docs: ${second.url}/docs; console: ${second.url}/console)`);
    const client = new Keyward({ baseUrl: second.url, rootKey: printed! });
    expect((await client.keys.create({ name: 'after restart' })).status).toBe('active');
    await second.stop();

    const withoutConsole = await spawnServe([], { ...env, KEYWARD_CONSOLE_DIR: join(dataDir, 'no-console') });
    expect(withoutConsole.stdout()).not.toContain('console:');
    await withoutConsole.stop();
  });

  it('refuses to start on a store made with another pepper, naming the problem', async () => {
    await expect(spawnServe([], { ...env, KEYWARD_PEPPER: 'x'.repeat(40) })).rejects.toThrow(/different pepper/);
  });

  it('rejects bad flags and configuration with a message naming them', async () => {
    const badPort = await runCli(['serve', '--port', 'eighty'], env);
    expect(badPort.code).toBe(2);
    expect(badPort.err).toContain('--port must be a whole number');
    const badEnv = await runCli(['serve'], {
      ...env,
      KEYWARD_TRUSTED_PROXIES: '10.0.0.0/99',
      KEYWARD_CALL_RETENTION_DAYS: '-1',
    });
    expect(badEnv.code).toBe(1);
    expect(badEnv.err).toContain('KEYWARD_TRUSTED_PROXIES');
    expect(badEnv.err).toContain('KEYWARD_CALL_RETENTION_DAYS');
    const unknown = await runCli(['keys', 'create', '--nmae', 'typo'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("'--nmae'");
  });

  it('manages keys end to end from the command line, with tables and --json', async () => {
    const server = await spawnServe([], env);
    try {
      const rootKey = readFileSync(join(dataDir, 'automation', 'root.key'), 'utf8').trim();
      const cliEnv = { ...env, KEYWARD_URL: server.url, KEYWARD_ROOT_KEY: rootKey };
      const created = await runCli(
        [
          'keys',
          'create',
          '--name',
          'cli key',
          '--scope',
          'contacts:read',
          '--ip',
          '203.0.113.0/24',
          '--rate-limit',
          '10/60',
          '--json',
        ],
        cliEnv,
      );
      expect(created.code).toBe(0);
      const key = JSON.parse(created.out) as { id: string; key: string };
      expect(key.key).toMatch(/^kw_live_/);

      const verified = await runCli(['verify', key.key, '--scope', 'contacts:read', '--ip', '203.0.113.5'], cliEnv);
      expect(verified).toMatchObject({ code: 0 });
      expect(verified.out).toContain('VALID');
      const denied = await runCli(['verify', key.key, '--scope', 'contacts:read', '--ip', '198.51.100.1'], cliEnv);
      expect(denied.code).toBe(3);
      expect(denied.out).toContain('IP_NOT_ALLOWED');

      const listed = await runCli(['keys', 'list'], cliEnv);
      expect(listed.out).toMatch(/id\s+name\s+start\s+status/);
      expect(listed.out).toContain('cli key');
      expect(listed.out).not.toContain(key.key);

      const rotated = await runCli(['keys', 'rotate', key.id, '--grace', '60'], cliEnv);
      expect(rotated.out).toContain('shown once');
      expect((await runCli(['keys', 'show', key.id, '--json'], cliEnv)).out).toContain('"status": "retiring"');

      const calls = await runCli(['calls', '--key-id', key.id], cliEnv);
      expect(calls.out).toContain('203.0.113.5');
      expect(calls.out).toContain('198.51.100.1');

      const invalid = await runCli(['keys', 'update', key.id, '--scope', 'not a scope'], cliEnv);
      expect(invalid.code).toBe(1);
      expect(invalid.err).toContain('body.scopes.0');
      const missing = await runCli(['keys', 'show', 'key_nope'], cliEnv);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain('no key with id');

      const audit = await runCli(['audit', 'verify'], cliEnv);
      expect(audit).toMatchObject({ code: 0 });
      const unreachable = await runCli(['keys', 'list'], { ...cliEnv, KEYWARD_URL: 'http://127.0.0.1:1' });
      expect(unreachable.code).toBe(1);
      expect(unreachable.err).toContain('could not reach the keyward server');
    } finally {
      await server.stop();
    }
  });
});
