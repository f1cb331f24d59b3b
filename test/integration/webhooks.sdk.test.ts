import { KeywardNotFoundError, verifyWebhook, type WebhookDelivery } from '../../sdk';
import { startTestServer, type TestServer } from '../support/harness';
import { LOCAL_RECEIVER_SETTINGS, type Receiver, startReceiver } from '../support/receiver';

/* kw.webhooks.*, against the real server and a real receiver: what an integrator writes. */
describe('the SDK webhooks client', () => {
  let t: TestServer;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    // Delivery is driven with dispatch(), so the test never waits on the loop.
    t = await startTestServer(LOCAL_RECEIVER_SETTINGS);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('creates, lists, reads, updates, rotates and deletes an endpoint', async () => {
    const kw = t.client;
    const created = await kw.webhooks.create({ url: `${receiver.url}/sdk`, eventTypes: ['key.revoked'] });
    expect(created.secret).toMatch(/^whsec_/);
    expect(created).toMatchObject({ enabled: true, eventTypes: ['key.revoked'], description: null });

    const listed = [];
    for await (const hook of kw.webhooks.list()) listed.push(hook);
    expect(listed.map((hook) => hook.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    expect(await kw.webhooks.get(created.id)).not.toHaveProperty('secret');
    const updated = await kw.webhooks.update(created.id, { description: 'ops', eventTypes: [] });
    expect(updated).toMatchObject({ description: 'ops', eventTypes: [] });

    const rotated = await kw.webhooks.rotateSecret(created.id, { gracePeriodSeconds: 60 });
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.previousSecretUntil).not.toBeNull();

    await kw.webhooks.delete(created.id);
    await expect(kw.webhooks.get(created.id)).rejects.toBeInstanceOf(KeywardNotFoundError);
  });

  it('lists deliveries and retries one with the same event id, verified by verifyWebhook', async () => {
    const kw = t.client;
    const hook = await kw.webhooks.create({ url: `${receiver.url}/retry`, eventTypes: ['key.created'] });
    receiver.received.length = 0;
    await kw.keys.create({ name: 'sdk webhook' });
    expect(await t.server.dispatch()).toBe(1);

    const deliveries: WebhookDelivery[] = [];
    for await (const delivery of kw.webhooks.deliveries(hook.id, { status: 'succeeded', pageSize: 1 }))
      deliveries.push(delivery);
    expect(deliveries).toHaveLength(1);
    const [delivery] = deliveries;
    expect(delivery).toMatchObject({ webhookId: hook.id, eventType: 'key.created', attemptCount: 1 });

    expect(await kw.webhooks.retry(hook.id, delivery!.id)).toEqual({ id: delivery!.id, status: 'pending' });
    expect(await t.server.dispatch()).toBe(1);
    expect(receiver.received).toHaveLength(2);
    const events = receiver.received.map((request) => verifyWebhook(request.body, request.headers, hook.secret));
    expect(events.map((event) => event.id)).toEqual([delivery!.eventId, delivery!.eventId]);
    const [event] = events;
    if (event?.type !== 'key.created') throw new Error('expected key.created');
    expect(event.data.key.name).toBe('sdk webhook');
    await expect(kw.webhooks.retry(hook.id, 'dlv_nope')).rejects.toBeInstanceOf(KeywardNotFoundError);
  });
});
