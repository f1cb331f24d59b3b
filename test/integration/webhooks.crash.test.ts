import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keyward } from '../../sdk';
import { eventually, raw } from '../support/harness';
import { type ServeProcess, serveEnvironment, spawnServe } from '../support/process';
import { type Receiver, startReceiver } from '../support/receiver';

/*
 * A `keyward serve` process killed with SIGKILL after a change committed and before its event was
 * delivered: after a restart on the same data dir (or database), the event arrives, once, with the
 * id it was given before the crash. Also when the crash came between a failed attempt and its
 * retry. (The server is a separate process: a real kill, not a simulated one.)
 */
describe('webhook delivery across a SIGKILL', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  /** A fresh store and a server on it that delivers to local receivers, every `intervalMs`. */
  const environment = async (prefix: string) => {
    const setup = await serveEnvironment(prefix);
    Object.assign(setup.env, { KEYWARD_WEBHOOK_ALLOW_PRIVATE: 'true', KEYWARD_WEBHOOK_ALLOW_HTTP: 'true' });
    const serve = (intervalMs: number) =>
      spawnServe([], { ...setup.env, KEYWARD_WEBHOOK_DISPATCH_INTERVAL_MS: String(intervalMs) });
    return { ...setup, serve };
  };
  const clientOf = (server: ServeProcess, dataDir: string) => {
    const rootKey = readFileSync(join(dataDir, 'root-key'), 'utf8').trim();
    return { rootKey, client: new Keyward({ baseUrl: server.url, rootKey, retries: 0 }) };
  };
  const deliveriesOf = async (server: ServeProcess, rootKey: string, webhookId: string) =>
    (await raw(server.url, 'GET', `/v1/webhooks/${webhookId}/deliveries`, { rootKey })).body.items;

  it('delivers, after a restart, the event of a change committed just before the kill', async () => {
    const setup = await environment('keyward-crash-');
    // The first server never gets to deliver: its dispatcher would first run in ten minutes.
    let server = await setup.serve(600_000);
    try {
      const { rootKey, client } = clientOf(server, setup.dataDir);
      const hook = await raw(server.url, 'POST', '/v1/webhooks', { rootKey, body: { url: `${receiver.url}/crash` } });
      expect(hook.status).toBe(201);
      const key = await client.keys.create({ name: 'committed then killed', scopes: ['a:b'] });
      const [pending] = await deliveriesOf(server, rootKey, hook.body.id);
      expect(pending).toMatchObject({ status: 'pending', attemptCount: 0 });

      server.child.kill('SIGKILL');
      await server.stop();
      expect(receiver.received.filter((request) => request.path === '/crash')).toHaveLength(0);

      server = await setup.serve(50);
      const [delivered] = await eventually(async () => {
        const items = await deliveriesOf(server, rootKey, hook.body.id);
        return items[0]?.status === 'succeeded' ? items : null;
      }, 10_000);
      // Succeeded after one attempt: a settled delivery is never claimed again, so this is final.
      expect(delivered).toMatchObject({ eventId: pending.eventId, attemptCount: 1 });
      const requests = receiver.received.filter((request) => request.path === '/crash');
      expect(requests).toHaveLength(1);
      expect(requests[0]!.headers['webhook-id']).toBe(pending.eventId);
      expect(JSON.parse(requests[0]!.body)).toMatchObject({
        id: pending.eventId,
        type: 'key.created',
        data: { key: { id: key.id, name: 'committed then killed' } },
      });
    } finally {
      await server.stop('SIGKILL');
      await setup.cleanup();
    }
  });

  it('retries, after a restart, a delivery whose first attempt failed before the kill', async () => {
    const setup = await environment('keyward-crash-retry-');
    let server = await setup.serve(50);
    try {
      const { rootKey, client } = clientOf(server, setup.dataDir);
      const hook = await raw(server.url, 'POST', '/v1/webhooks', { rootKey, body: { url: `${receiver.url}/retry` } });
      receiver.answers.push({ status: 503, body: 'not now' });
      await client.keys.create({ name: 'failed once then killed', scopes: ['a:b'] });
      const [failedOnce] = await eventually(async () => {
        const items = await deliveriesOf(server, rootKey, hook.body.id);
        return items[0]?.attemptCount === 1 ? items : null;
      }, 10_000);
      expect(failedOnce).toMatchObject({ status: 'pending' });

      server.child.kill('SIGKILL');
      await server.stop();
      server = await setup.serve(50);
      // The retry is due ~5 s after the failed attempt, on the schedule the store kept.
      const [delivered] = await eventually(async () => {
        const items = await deliveriesOf(server, rootKey, hook.body.id);
        return items[0]?.status === 'succeeded' ? items : null;
      }, 15_000);
      expect(delivered).toMatchObject({ eventId: failedOnce.eventId, attemptCount: 2 });
      const requests = receiver.received.filter((request) => request.path === '/retry');
      expect(requests.map((request) => request.headers['webhook-id'])).toEqual([
        failedOnce.eventId,
        failedOnce.eventId,
      ]);
    } finally {
      await server.stop('SIGKILL');
      await setup.cleanup();
    }
  });
});
