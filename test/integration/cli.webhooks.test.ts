import { verifyWebhook } from '../../sdk';
import { startTestServer, type TestServer } from '../support/harness';
import { cliEnv, cliJson, runCli } from '../support/process';
import { LOCAL_RECEIVER_SETTINGS, type Receiver, startReceiver } from '../support/receiver';

/* An operator manages webhook endpoints from the command line alone, against the real server. */
describe('keyward webhooks', () => {
  let t: TestServer;
  let receiver: Receiver;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestServer(LOCAL_RECEIVER_SETTINGS);
    env = cliEnv(t);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  const cli = (...args: string[]) => cliJson(env, ...args);

  it('creates, lists, shows, updates, lists deliveries, retries and deletes', async () => {
    const created = await cli(
      'webhooks',
      'create',
      `${receiver.url}/cli`,
      '--description',
      'ops',
      '--event',
      'key.created',
    );
    expect(created).toMatchObject({ description: 'ops', eventTypes: ['key.created'], enabled: true });
    expect(created.secret).toMatch(/^whsec_/);

    expect((await cli('webhooks', 'list')).map((hook: { id: string }) => hook.id)).toContain(created.id);
    const shown = await cli('webhooks', 'show', created.id);
    expect(shown).not.toHaveProperty('secret');
    const updated = await cli('webhooks', 'update', created.id, '--description', 'none', '--event', 'none');
    expect(updated).toMatchObject({ description: null, eventTypes: [] });

    receiver.received.length = 0;
    await t.client.keys.create({ name: 'cli webhook' });
    expect(await t.server.dispatch()).toBe(1);
    const [delivery] = await cli('webhooks', 'deliveries', created.id, '--status', 'succeeded');
    expect(delivery).toMatchObject({ eventType: 'key.created', status: 'succeeded' });
    expect(await cli('webhooks', 'retry', created.id, delivery.id)).toEqual({ id: delivery.id, status: 'pending' });
    expect(await t.server.dispatch()).toBe(1);
    const ids = receiver.received.map((request) => verifyWebhook(request.body, request.headers, created.secret).id);
    expect(ids).toEqual([delivery.eventId, delivery.eventId]);

    expect(await cli('webhooks', 'delete', created.id)).toEqual({ id: created.id, deleted: true });
    const gone = await runCli(['webhooks', 'show', created.id], env);
    expect(gone.code).not.toBe(0);
  });

  it('prints tables for people, and refuses an unknown event type before calling the server', async () => {
    await cli('webhooks', 'create', `${receiver.url}/table`);
    const listed = await runCli(['webhooks', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.out.split('\n')[0]).toMatch(/^id\s+url\s+enabled\s+eventTypes/);
    expect(listed.out).not.toContain('whsec_');
    const refused = await runCli(['webhooks', 'create', `${receiver.url}/x`, '--event', 'key.exploded'], env);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('--event must be one of');
  });
});
