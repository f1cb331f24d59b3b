import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keyward } from '../../sdk';
import { serveEnvironment, spawnServe } from '../support/process';

/*
 * Killing the server with SIGKILL in the middle of a burst of creates and verifies loses no key
 * that was acknowledged, and no audit entry of one; the chain is intact after the restart.
 */
describe('SIGKILL during a burst', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dataDir, env, cleanup } = await serveEnvironment('keyward-kill-'));
  });
  afterAll(async () => cleanup());

  it('keeps every acknowledged key and audit entry', async () => {
    const server = await spawnServe([], env);
    const rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
    const client = new Keyward({ baseUrl: server.url, rootKey, retries: 0, timeoutMs: 5000 });
    const acknowledged: { id: string; key: string }[] = [];
    let stop = false;

    const creator = async (worker: number) => {
      for (let i = 0; !stop; i += 1) {
        try {
          const created = await client.keys.create({ name: `burst-${worker}-${i}`, scopes: ['a:b'] });
          acknowledged.push({ id: created.id, key: created.key });
        } catch {
          return; // the server is gone
        }
      }
    };
    const verifier = async () => {
      while (!stop) {
        const known = acknowledged.at(-1);
        try {
          if (known) await client.verify({ key: known.key, scopes: ['a:b'] });
          else await new Promise((resolve) => setTimeout(resolve, 5));
        } catch {
          return;
        }
      }
    };
    const workers = [creator(0), creator(1), creator(2), creator(3), verifier(), verifier()];
    while (acknowledged.length < 40) await new Promise((resolve) => setTimeout(resolve, 10));
    server.child.kill('SIGKILL');
    await server.stop();
    stop = true;
    await Promise.all(workers);
    const before = acknowledged.length;
    expect(before).toBeGreaterThanOrEqual(40);

    const restarted = await spawnServe([], env);
    try {
      const after = new Keyward({ baseUrl: restarted.url, rootKey, retries: 0 });
      for (const { id, key } of acknowledged) {
        expect((await after.keys.get(id)).status).toBe('active');
        expect((await after.verify({ key, scopes: ['a:b'] })).code).toBe('VALID');
      }
      const created = new Set<string>();
      for await (const entry of after.audit.list({ action: 'key.create' }))
        if (entry.targetKeyId) created.add(entry.targetKeyId);
      for (const { id } of acknowledged) expect(created.has(id)).toBe(true);
      expect(await after.audit.verify()).toMatchObject({ ok: true });
      // The restarted server still takes writes.
      expect((await after.keys.create({ name: 'after the crash' })).status).toBe('active');
    } finally {
      await restarted.stop();
    }
  });
});
