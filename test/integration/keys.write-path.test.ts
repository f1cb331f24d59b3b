import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keyward } from '../../sdk';
import { serveEnvironment, spawnServe } from '../support/process';

/*
 * A platform team applies thousands of keys at once (Terraform, Pulumi, a migration). Creations
 * share transactions under load (group commit); every one is still acknowledged only once its key,
 * its audit entry and its event are stored, the chain stays whole and in one order per workspace,
 * and SIGKILL in the middle of the load loses nothing that was acknowledged.
 */
describe('the key write path under load', () => {
  const CLIENTS = 32;
  const TOTAL = 10_000;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dataDir, env, cleanup } = await serveEnvironment('keyward-write-path-'));
  });
  afterAll(async () => cleanup());

  /** Creates keys from `CLIENTS` loops until `until()` says stop; returns every acknowledged id. */
  const burst = async (url: string, rootKey: string, prefix: string, until: (count: number) => boolean) => {
    const acknowledged: string[] = [];
    let failed = 0;
    const client = async (worker: number) => {
      for (let i = 0; !until(acknowledged.length); i += 1) {
        try {
          const response = await fetch(`${url}/v1/keys`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${rootKey}` },
            body: JSON.stringify({ name: `${prefix}-${worker}-${i}`, scopes: ['contacts:read'] }),
          });
          const body = (await response.json()) as { id?: string };
          if (response.status === 201 && body.id) acknowledged.push(body.id);
          else failed += 1;
        } catch {
          return; // the server is gone
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, worker) => client(worker)));
    return { acknowledged, failed };
  };

  /** Every key.create audit entry's target, in chain order. */
  const createdInChain = async (client: Keyward) => {
    const targets: string[] = [];
    let seq = 0;
    for await (const entry of client.audit.list({ action: 'key.create', pageSize: 500 })) {
      expect(entry.seq).toBeGreaterThan(seq);
      seq = entry.seq;
      if (entry.targetKeyId) targets.push(entry.targetKeyId);
    }
    return targets;
  };

  it(`creates ${TOTAL} keys from ${CLIENTS} clients at once: all acknowledged, the chain whole`, async () => {
    const server = await spawnServe([], env);
    try {
      const rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
      const { acknowledged, failed } = await burst(server.url, rootKey, 'load', (count) => count >= TOTAL);
      expect(failed).toBe(0);
      expect(acknowledged.length).toBeGreaterThanOrEqual(TOTAL);
      expect(new Set(acknowledged).size).toBe(acknowledged.length);
      const client = new Keyward({ baseUrl: server.url, rootKey, retries: 0 });
      expect(await client.audit.verify()).toMatchObject({ ok: true });
      const inChain = new Set(await createdInChain(client));
      for (const id of acknowledged) expect(inChain.has(id)).toBe(true);
    } finally {
      await server.stop();
    }
  }, 600_000);

  it('loses no acknowledged create when the server is killed with SIGKILL under that load', async () => {
    const server = await spawnServe([], env);
    const rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
    let killed = false;
    const load = burst(server.url, rootKey, 'kill', (count) => {
      // Killed once a few hundred creations are acknowledged: batches are in flight at that moment.
      if (count >= 400 && !killed) {
        killed = true;
        server.child.kill('SIGKILL');
      }
      return false;
    });
    const { acknowledged } = await load;
    await server.stop();
    expect(acknowledged.length).toBeGreaterThanOrEqual(400);

    const restarted = await spawnServe([], env);
    try {
      const client = new Keyward({ baseUrl: restarted.url, rootKey, retries: 0 });
      const inChain = new Set(await createdInChain(client));
      for (const id of acknowledged) expect(inChain.has(id)).toBe(true);
      for (const id of acknowledged.slice(-50)) expect((await client.keys.get(id)).status).toBe('active');
      expect(await client.audit.verify()).toMatchObject({ ok: true });
    } finally {
      await restarted.stop();
    }
  }, 600_000);
});
