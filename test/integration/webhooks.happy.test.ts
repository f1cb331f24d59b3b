import { Webhook } from 'standardwebhooks';
import { raw, startTestServer, type TestServer } from '../support/harness';
import { LOCAL_RECEIVER_SETTINGS, type Receiver, startReceiver } from '../support/receiver';

/*
 * An owner registers a webhook endpoint, changes keys, and a real receiver on 127.0.0.1 gets one
 * signed delivery per change, which the standardwebhooks package verifies byte for byte.
 */
describe('webhook endpoints and signed key events', () => {
  let t: TestServer;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    // The loop never runs on its own here: each test drives delivery with dispatch().
    t = await startTestServer(LOCAL_RECEIVER_SETTINGS);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });
  const api = (method: string, path: string, body?: unknown) => raw(t.url, method, path, { rootKey: t.rootKey, body });
  const headersOf = (index: number) => {
    const headers = receiver.received[index]!.headers;
    return {
      'webhook-id': String(headers['webhook-id']),
      'webhook-timestamp': String(headers['webhook-timestamp']),
      'webhook-signature': String(headers['webhook-signature']),
    };
  };

  it('creates, reads, lists, changes and deletes an endpoint; the secret is shown once', async () => {
    const created = await api('POST', '/v1/webhooks', {
      url: `${receiver.url}/crud`,
      description: 'ops alerts',
      eventTypes: ['key.revoked'],
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(created.body.secret.slice(6), 'base64')).toHaveLength(32);
    expect(created.body).toMatchObject({ url: `${receiver.url}/crud`, enabled: true, eventTypes: ['key.revoked'] });
    const id = created.body.id as string;

    const fetched = await api('GET', `/v1/webhooks/${id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).not.toHaveProperty('secret');
    expect(JSON.stringify(fetched.body)).not.toContain(created.body.secret);
    expect((await api('GET', '/v1/webhooks')).body.items.map((item: { id: string }) => item.id)).toContain(id);

    const changed = await api('PATCH', `/v1/webhooks/${id}`, { description: 'renamed', eventTypes: [] });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ description: 'renamed', eventTypes: [], enabled: true });

    const stored = await t.server.store.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(created.body.secret.slice(6));

    expect((await api('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expect((await api('GET', `/v1/webhooks/${id}`)).status).toBe(404);
    const audit = await api('GET', '/v1/audit?limit=500');
    const actions = audit.body.items.map((entry: { action: string }) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['webhook.create', 'webhook.update', 'webhook.delete']));
  });

  it('delivers each key change, signed, in order, with ids and names but no secret', async () => {
    const created = await api('POST', '/v1/webhooks', { url: `${receiver.url}/all` });
    const secret = created.body.secret as string;
    receiver.received.length = 0;

    const key = await t.client.keys.create({ name: 'crm sync', scopes: ['contacts:read'] });
    await t.client.keys.update(key.id, { scopes: ['contacts:read', 'contacts:write'] });
    const next = await t.client.keys.rotate(key.id, { gracePeriodSeconds: 3600 });
    await t.client.keys.suspend(next.id);
    await t.client.keys.resume(next.id);
    await t.client.keys.revoke(next.id);
    await t.client.keys.retire(key.id, { gracePeriodSeconds: 0 });

    expect(await t.server.dispatch()).toBe(7);
    const deliveries = receiver.received.filter((request) => request.path === '/all');
    expect(deliveries).toHaveLength(7);
    const bodies = deliveries.map((delivery, index) => {
      const verified = new Webhook(secret).verify(delivery.body, headersOf(receiver.received.indexOf(delivery)));
      expect(verified).toEqual(JSON.parse(delivery.body));
      expect(delivery.headers['webhook-id']).toBe((verified as { id: string }).id);
      expect(index).toBeGreaterThanOrEqual(0);
      // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON was delivered
      return verified as { type: string; data: Record<string, any>; workspaceId: string; timestamp: string };
    });
    // Events commit with their change, in order; deliveries run concurrently, so compare as a set.
    expect(bodies.map((body) => body.type).sort()).toEqual(
      [
        'key.created',
        'key.updated',
        'key.rotated',
        'key.suspended',
        'key.resumed',
        'key.revoked',
        'key.retired',
      ].sort(),
    );
    const byType = Object.fromEntries(bodies.map((body) => [body.type, body]));
    expect(byType['key.created']!.data.key).toMatchObject({
      id: key.id,
      name: 'crm sync',
      start: key.start,
      scopes: ['contacts:read'],
      kind: 'api',
      environment: 'live',
    });
    expect(byType['key.created']!.data.actor.rootKeyId).toMatch(/^rk_/);
    expect(byType['key.updated']!.data.fields).toEqual(['scopes']);
    expect(byType['key.rotated']!.data).toMatchObject({
      key: { id: key.id, status: 'retiring' },
      successor: { id: next.id, start: next.start },
    });
    expect(Date.parse(byType['key.rotated']!.data.graceUntil)).toBeGreaterThan(Date.now() + 3_500_000);
    expect(byType['key.revoked']!.data).toMatchObject({
      key: { id: next.id, status: 'revoked' },
      previousStatus: 'active',
    });
    for (const body of bodies) {
      expect(body.workspaceId).toBe('ws_default');
      expect(JSON.stringify(body)).not.toContain(key.key);
      expect(JSON.stringify(body)).not.toContain(next.key);
    }

    // Delivered once: a second round has nothing to send.
    expect(await t.server.dispatch()).toBe(0);
    const listed = await api('GET', `/v1/webhooks/${created.body.id}/deliveries?limit=10`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(7);
    for (const item of listed.body.items) {
      expect(item).toMatchObject({ status: 'succeeded', attemptCount: 1, nextAttemptAt: null });
      expect(item.attempts).toEqual([
        expect.objectContaining({ statusCode: 200, error: null, response: 'ok', latencyMs: expect.any(Number) }),
      ]);
    }
    await api('DELETE', `/v1/webhooks/${created.body.id}`);
  });

  it('sends an endpoint only the event types it asked for', async () => {
    const created = await api('POST', '/v1/webhooks', {
      url: `${receiver.url}/revoked-only`,
      eventTypes: ['key.revoked'],
    });
    receiver.received.length = 0;
    const key = await t.client.keys.create({ name: 'filtered', scopes: ['a:b'] });
    await t.client.keys.suspend(key.id);
    await t.client.keys.revoke(key.id);
    await t.server.dispatch();
    expect(receiver.received.map((request) => JSON.parse(request.body).type)).toEqual(['key.revoked']);
    await api('DELETE', `/v1/webhooks/${created.body.id}`);
  });

  it('signs with the old and the new secret during the grace of a secret rotation', async () => {
    const created = await api('POST', '/v1/webhooks', { url: `${receiver.url}/rotated` });
    const rotated = await api('POST', `/v1/webhooks/${created.body.id}/rotate-secret`, { gracePeriodSeconds: 600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect(Date.parse(rotated.body.previousSecretUntil)).toBeGreaterThan(Date.now() + 590_000);
    receiver.received.length = 0;

    await t.client.keys.create({ name: 'after rotation', scopes: ['a:b'] });
    await t.server.dispatch();
    expect(receiver.received).toHaveLength(1);
    const signature = String(receiver.received[0]!.headers['webhook-signature']);
    expect(signature.split(' ')).toHaveLength(2);
    for (const secret of [created.body.secret, rotated.body.secret])
      expect(() => new Webhook(secret).verify(receiver.received[0]!.body, headersOf(0))).not.toThrow();

    // A rotation without grace signs with the new secret alone.
    const abrupt = await api('POST', `/v1/webhooks/${created.body.id}/rotate-secret`, { gracePeriodSeconds: 0 });
    receiver.received.length = 0;
    await t.client.keys.create({ name: 'after abrupt rotation', scopes: ['a:b'] });
    await t.server.dispatch();
    expect(String(receiver.received[0]!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new Webhook(abrupt.body.secret).verify(receiver.received[0]!.body, headersOf(0))).not.toThrow();
    expect(() => new Webhook(rotated.body.secret).verify(receiver.received[0]!.body, headersOf(0))).toThrow();
    await api('DELETE', `/v1/webhooks/${created.body.id}`);
  });
});
