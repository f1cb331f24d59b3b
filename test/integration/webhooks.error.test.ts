import { sql } from 'kysely';
import { appendEvent } from '../../server/events/outbox';
import { raw, startTestServer, type TestServer } from '../support/harness';
import { LOCAL_RECEIVER_SETTINGS, type Receiver, startReceiver } from '../support/receiver';

/*
 * Receivers that fail: retries on the schedule with the same event id (time moved by the injected
 * clock, never slept through), 410 disabling the endpoint, timeouts, redirects, manual redelivery,
 * bad input, and changes rolled back before they commit, whose events must never go out.
 */
describe('webhook delivery when things go wrong', () => {
  let t: TestServer;
  let receiver: Receiver;
  let offsetMs = 0;
  const HOUR = 3_600_000;
  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestServer(
      { ...LOCAL_RECEIVER_SETTINGS, webhookTimeoutMs: 300 },
      { clock: () => Date.now() + offsetMs },
    );
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.answers.length = 0;
    receiver.fallback = { status: 200, body: 'ok' };
  });
  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    raw(t.url, method, path, { rootKey: t.rootKey, body, ...(headers ? { headers } : {}) });
  const endpoint = async (path: string) => {
    const created = await api('POST', '/v1/webhooks', { url: `${receiver.url}${path}` });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const deliveries = async (id: string) => (await api('GET', `/v1/webhooks/${id}/deliveries`)).body.items;

  it('retries a 500 on the schedule, with the same event id, until a 2xx', async () => {
    const id = await endpoint('/flaky');
    receiver.answers.push({ status: 500, body: 'down' }, { status: 503, body: 'still down' });
    await t.client.keys.create({ name: 'retried', scopes: ['a:b'] });

    expect(await t.server.dispatch()).toBe(1);
    let [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'pending', attemptCount: 1 });
    const wait = Date.parse(delivery.nextAttemptAt) - Date.now() - offsetMs;
    expect(wait).toBeGreaterThan(4_000);
    expect(wait).toBeLessThan(6_000);
    // Not due yet: nothing is sent.
    expect(await t.server.dispatch()).toBe(0);

    offsetMs += 6_000;
    expect(await t.server.dispatch()).toBe(1);
    [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'pending', attemptCount: 2 });
    offsetMs += 6 * 60_000;
    expect(await t.server.dispatch()).toBe(1);
    [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 3, nextAttemptAt: null });
    expect(delivery.attempts.map((attempt: { statusCode: number }) => attempt.statusCode)).toEqual([500, 503, 200]);
    expect(delivery.attempts[0].response).toBe('down');

    const ids = receiver.received.map((request) => request.headers['webhook-id']);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toBe(delivery.eventId);
    const bodies = new Set(receiver.received.map((request) => request.body));
    expect(bodies.size).toBe(1);
    // Each attempt is signed afresh, at its own time.
    const stamps = receiver.received.map((request) => Number(request.headers['webhook-timestamp']));
    expect(stamps[2]! - stamps[0]!).toBeGreaterThanOrEqual(6 * 60 + 6 - 1);
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it('keeps retrying a receiver that is down for more than 24 h, then fails the delivery', async () => {
    const id = await endpoint('/down');
    receiver.fallback = { status: 500, body: 'down' };
    await t.client.keys.create({ name: 'never delivered', scopes: ['a:b'] });
    const started = Date.now() + offsetMs;
    let rounds = 0;
    for (;;) {
      await t.server.dispatch();
      const [delivery] = await deliveries(id);
      if (delivery.status !== 'pending') break;
      offsetMs = Date.parse(delivery.nextAttemptAt) - Date.now() + 1_000;
      rounds += 1;
      expect(rounds).toBeLessThan(20);
    }
    const [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'failed', attemptCount: 9, nextAttemptAt: null });
    const last = Date.parse(delivery.attempts[delivery.attempts.length - 1].at);
    expect(last - started).toBeGreaterThan(24 * HOUR);
    expect(receiver.received.filter((request) => request.path === '/down')).toHaveLength(9);

    // Nothing got through for the whole schedule: the endpoint is disabled (webhooks.delivery.test.ts).
    expect((await api('GET', `/v1/webhooks/${id}`)).body).toMatchObject({
      enabled: false,
      disabledReason: expect.stringContaining('kept failing'),
    });
    // Enabled again, a manual retry sends it once more, with the same event id.
    receiver.fallback = { status: 204 };
    expect((await api('PATCH', `/v1/webhooks/${id}`, { enabled: true })).status).toBe(200);
    const retried = await api('POST', `/v1/webhooks/${id}/deliveries/${delivery.id}/retry`);
    expect(retried.status).toBe(202);
    await t.server.dispatch();
    const [after] = await deliveries(id);
    expect(after).toMatchObject({ status: 'succeeded', attemptCount: 10 });
    const lastRequest = receiver.received[receiver.received.length - 1]!;
    expect(lastRequest.headers['webhook-id']).toBe(delivery.eventId);
    const audit = await api('GET', '/v1/audit?action=webhook.redeliver');
    expect(audit.body.items).toHaveLength(1);
    expect((await api('POST', `/v1/webhooks/${id}/deliveries/dlv_nope/retry`)).status).toBe(404);
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it('disables an endpoint that answers 410 Gone, with an audit entry, and sends it nothing more', async () => {
    const id = await endpoint('/gone');
    receiver.fallback = { status: 410, body: 'gone' };
    await t.client.keys.create({ name: 'gone 1', scopes: ['a:b'] });
    await t.server.dispatch();
    const fetched = await api('GET', `/v1/webhooks/${id}`);
    expect(fetched.body).toMatchObject({ enabled: false, disabledReason: 'the receiver answered 410 Gone' });
    const [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'failed', attemptCount: 1 });
    const audit = await api('GET', '/v1/audit?action=webhook.disable');
    expect(
      audit.body.items.filter((entry: { changes: { webhookId: string } }) => entry.changes.webhookId === id),
    ).toEqual([expect.objectContaining({ actorKeyId: null, changes: expect.objectContaining({ webhookId: id }) })]);

    await t.client.keys.create({ name: 'gone 2', scopes: ['a:b'] });
    offsetMs += 48 * HOUR;
    await t.server.dispatch();
    expect(receiver.received).toHaveLength(1);
    const retry = await api('POST', `/v1/webhooks/${id}/deliveries/${delivery.id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe('KW_ERR_INVALID_STATE');

    // Enabled again, it is sent what happened after (nothing was queued while it was off).
    receiver.fallback = { status: 200, body: 'ok' };
    const enabled = await api('PATCH', `/v1/webhooks/${id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null });
    await t.client.keys.create({ name: 'gone 3', scopes: ['a:b'] });
    await t.server.dispatch();
    expect(receiver.received.map((request) => JSON.parse(request.body).data.key.name)).toEqual(['gone 1', 'gone 3']);
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it('counts a timeout and a redirect as failures, and never follows the redirect', async () => {
    const id = await endpoint('/slow');
    receiver.answers.push(
      { status: 200, body: 'late', delayMs: 1_500 },
      { status: 302, headers: { location: `${receiver.url}/elsewhere` } },
    );
    await t.client.keys.create({ name: 'timed out', scopes: ['a:b'] });
    await t.server.dispatch();
    let [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'pending', attemptCount: 1 });
    expect(delivery.attempts[0]).toMatchObject({ statusCode: null, error: 'timed out after 300 ms' });
    offsetMs += 6_000;
    await t.server.dispatch();
    [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'pending', attemptCount: 2 });
    expect(delivery.attempts[1].statusCode).toBe(302);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receiver.received.map((request) => request.path)).toEqual(['/slow', '/slow']);
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it('never delivers the event of a change that was rolled back', async () => {
    const id = await endpoint('/rollback');
    const key = await t.client.keys.create({ name: 'guarded', scopes: ['a:b'] });
    await t.server.dispatch();
    receiver.received.length = 0;

    // A 412 (If-Match stale) and a 400 (bad patch) change nothing and emit nothing.
    const stale = await api('PATCH', `/v1/keys/${key.id}`, { name: 'renamed' }, { 'if-match': '"7"' });
    expect(stale.status).toBe(412);
    const invalid = await api('PATCH', `/v1/keys/${key.id}`, { scopes: ['NOT A SCOPE'] });
    expect(invalid.status).toBe(400);

    // An event appended and then rolled back with its transaction leaves no row and no delivery.
    const before = await sql<{ count: number }>`select count(*)::int as count from events`.execute(t.server.store.db);
    await expect(
      t.server.store.db.transaction().execute(async (trx) => {
        await appendEvent(
          trx,
          { workspaceId: 'ws_default', rootKeyId: null, scopes: ['*'], ip: null, userAgent: null, requestId: null },
          'key.revoked',
          { key: { id: key.id } },
          new Date(),
        );
        throw new Error('the change failed after its event was written');
      }),
    ).rejects.toThrow('the change failed');
    const after = await sql<{ count: number }>`select count(*)::int as count from events`.execute(t.server.store.db);
    expect(after.rows[0]!.count).toBe(before.rows[0]!.count);

    expect(await t.server.dispatch()).toBe(0);
    expect(receiver.received).toHaveLength(0);
    expect(await deliveries(id)).toHaveLength(1);
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it('answers 400 naming the field for bad input, and 404 for an unknown endpoint', async () => {
    const badType = await api('POST', '/v1/webhooks', { url: `${receiver.url}/x`, eventTypes: ['key.exploded'] });
    expect(badType.status).toBe(400);
    expect(badType.body.error.issues[0].path).toBe('body.eventTypes.0');
    const badUrl = await api('POST', '/v1/webhooks', { url: 'ftp://example.com/hook' });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.error.issues[0].path).toBe('body.url');
    const extra = await api('POST', '/v1/webhooks', { url: `${receiver.url}/x`, secret: 'whsec_mine' });
    expect(extra.status).toBe(400);
    expect(JSON.stringify(extra.body)).not.toContain('whsec_mine');
    expect((await api('GET', '/v1/webhooks/wh_nope')).status).toBe(404);
    expect((await api('PATCH', '/v1/webhooks/wh_nope', { enabled: false })).status).toBe(404);
    expect((await api('DELETE', '/v1/webhooks/wh_nope')).status).toBe(404);
    expect((await api('POST', '/v1/webhooks/wh_nope/rotate-secret', {})).status).toBe(404);
    expect((await api('GET', '/v1/webhooks/wh_nope/deliveries')).status).toBe(404);
  });
});
