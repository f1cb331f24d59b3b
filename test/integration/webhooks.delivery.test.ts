import { raw, startTestServer, type TestServer } from '../support/harness';
import { LOCAL_RECEIVER_SETTINGS, type Received, type Receiver, startReceiver } from '../support/receiver';

/*
 * Delivery as a receiver's owner sees it: a 500 and a timeout are retried with the same webhook-id,
 * so a receiver that deduplicates on it handles each event once even when keyward, not knowing it
 * got through, sends it again. An endpoint that keeps failing for the whole retry schedule is
 * disabled, audited, and reported to the workspace's other endpoints; so is one that answers 410.
 * Time moves with the injected clock; the receivers are real HTTP servers on 127.0.0.1.
 */
describe('webhook delivery: retries, deduplication, and endpoints that keep failing', () => {
  let t: TestServer;
  let receiver: Receiver;
  let offsetMs = 0;
  const HOUR = 3_600_000;
  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestServer(
      { ...LOCAL_RECEIVER_SETTINGS, webhookTimeoutMs: 300, eventRetentionDays: 30 },
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
  const api = (method: string, path: string, body?: unknown) => raw(t.url, method, path, { rootKey: t.rootKey, body });
  const endpoint = async (path: string, eventTypes: string[] = []) => {
    const created = await api('POST', '/v1/webhooks', { url: `${receiver.url}${path}`, eventTypes });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const deliveries = async (id: string) => (await api('GET', `/v1/webhooks/${id}/deliveries?limit=100`)).body.items;
  const at = (path: string) => receiver.received.filter((request) => request.path.startsWith(path));
  const metric = async (line: string) => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const found = text.split('\n').find((entry) => entry.startsWith(`${line} `));
    return found ? Number(found.slice(line.length + 1)) : 0;
  };

  it('retries a 500 and a timeout with the same webhook-id until a 2xx', async () => {
    const id = await endpoint('/retried');
    receiver.answers.push({ status: 500, body: 'boom' }, { status: 200, body: 'too late', delayMs: 1_000 });
    await t.client.keys.create({ name: 'retried', scopes: ['a:b'] });

    await t.server.dispatch();
    offsetMs += 6_000;
    await t.server.dispatch();
    let [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'pending', attemptCount: 2 });
    expect(delivery.attempts.map((attempt: { statusCode: number | null }) => attempt.statusCode)).toEqual([500, null]);
    expect(delivery.attempts[1].error).toBe('timed out after 300 ms');
    // The second wait is ~5 min (±10%): not due a minute later, due six minutes later.
    offsetMs += 60_000;
    expect(await t.server.dispatch()).toBe(0);
    offsetMs += 5 * 60_000;
    expect(await t.server.dispatch()).toBe(1);
    [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 3, nextAttemptAt: null });

    const ids = at('/retried').map((request) => request.headers['webhook-id']);
    expect(ids).toEqual([delivery.eventId, delivery.eventId, delivery.eventId]);
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it('lets a receiver deduplicate on webhook-id when an answer is lost and the event is sent again', async () => {
    const id = await endpoint('/dedup');
    // The receiver acts on the first request, but answers after keyward has stopped waiting.
    receiver.answers.push({ status: 200, body: 'done', delayMs: 1_000 });
    const keys = await Promise.all(
      ['one', 'two', 'three'].map((name) => t.client.keys.create({ name: `dedup ${name}`, scopes: ['a:b'] })),
    );
    await t.server.dispatch();
    offsetMs += 6_000;
    await t.server.dispatch();
    for (const delivery of await deliveries(id)) expect(delivery.status).toBe('succeeded');

    // Four requests for three events: one event came twice, with one id and one body.
    const requests = at('/dedup');
    expect(requests).toHaveLength(4);
    const processed = new Map<string, Received>();
    for (const request of requests) {
      const eventId = String(request.headers['webhook-id']);
      const first = processed.get(eventId);
      if (first) expect(request.body).toBe(first.body);
      else processed.set(eventId, request);
    }
    expect(processed.size).toBe(3);
    const names = [...processed.values()].map((request) => JSON.parse(request.body).data.key.name).sort();
    expect(names).toEqual(keys.map((key) => key.name).sort());
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it('disables an endpoint whose every attempt failed for the whole schedule, and tells the other endpoints', async () => {
    const watcher = await endpoint('/watcher', ['webhook.disabled']);
    const failing = await endpoint('/failing?token=abc123', ['key.created', 'key.updated']);
    receiver.fallback = { status: 500, body: 'down' };
    const started = Date.now() + offsetMs;
    const key = await t.client.keys.create({ name: 'never arrives', scopes: ['a:b'] });
    await t.server.dispatch();
    // A second event, a day later, is still being retried when the first runs out of attempts.
    offsetMs += 24 * HOUR;
    await t.client.keys.update(key.id, { name: 'renamed' });
    const [first] = (await deliveries(failing)).slice(-1);
    const settled = await (async () => {
      for (let round = 0; round < 30; round += 1) {
        await t.server.dispatch();
        const current = (await deliveries(failing)).find((item: { id: string }) => item.id === first.id);
        if (current.status !== 'pending') return current;
        offsetMs = Date.parse(current.nextAttemptAt) - Date.now() + 1_000;
      }
      throw new Error('never settled');
    })();
    expect(settled).toMatchObject({ status: 'failed', attemptCount: 9 });
    expect(Date.parse(settled.attempts[8].at) - started).toBeGreaterThan(24 * HOUR);

    const disabled = (await api('GET', `/v1/webhooks/${failing}`)).body;
    expect(disabled).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('kept failing') });
    // The later event's delivery is failed with it: nothing waits on a disabled endpoint.
    const all = await deliveries(failing);
    expect(all.map((item: { status: string }) => item.status)).toEqual(['failed', 'failed']);

    const audit = (await api('GET', '/v1/audit?action=webhook.disable')).body.items.filter(
      (entry: { changes: { webhookId: string } }) => entry.changes.webhookId === failing,
    );
    expect(audit).toEqual([
      expect.objectContaining({
        actorKeyId: null,
        changes: expect.objectContaining({ eventId: first.eventId, pendingFailed: 1 }),
      }),
    ]);

    receiver.fallback = { status: 200, body: 'ok' };
    await t.server.dispatch();
    const told = at('/watcher').map((request) => JSON.parse(request.body));
    expect(told).toEqual([
      expect.objectContaining({
        type: 'webhook.disabled',
        data: {
          // No query string: tokens hide there, and this goes to other receivers.
          webhook: { id: failing, url: `${receiver.url}/failing` },
          reason: disabled.disabledReason,
          actor: { rootKeyId: null, requestId: null },
        },
      }),
    ]);
    // The disabled endpoint is not told about itself.
    expect(at('/failing').filter((request) => request.body.includes('webhook.disabled'))).toEqual([]);
    await api('DELETE', `/v1/webhooks/${failing}`);
    await api('DELETE', `/v1/webhooks/${watcher}`);
  });

  it('keeps an endpoint that failed one event for good but delivered a later one', async () => {
    const id = await endpoint('/picky');
    receiver.fallback = { status: 500, body: 'cannot parse this one' };
    await t.client.keys.create({ name: 'rejected', scopes: ['a:b'] });
    await t.server.dispatch();
    // The next event, sent before the first is retried, is accepted.
    receiver.answers.push({ status: 204 });
    await t.client.keys.create({ name: 'accepted', scopes: ['a:b'] });
    expect(await t.server.dispatch()).toBe(1);
    const rejected = (await deliveries(id)).find((item: { status: string }) => item.status === 'pending');
    for (let round = 0; round < 20; round += 1) {
      const current = (await deliveries(id)).find((item: { id: string }) => item.id === rejected.id);
      if (current.status !== 'pending') break;
      offsetMs = Date.parse(current.nextAttemptAt) - Date.now() + 1_000;
      await t.server.dispatch();
    }
    const statuses = (await deliveries(id)).map((item: { status: string }) => item.status).sort();
    expect(statuses).toEqual(['failed', 'succeeded']);
    expect((await api('GET', `/v1/webhooks/${id}`)).body).toMatchObject({ enabled: true, disabledReason: null });
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it('reports a 410 to the other endpoints too, in the transaction that disables it', async () => {
    const watcher = await endpoint('/watch-gone', ['webhook.disabled']);
    const gone = await endpoint('/gone', ['key.created']);
    receiver.answers.push({ status: 410, body: 'gone' });
    await t.client.keys.create({ name: 'to a gone receiver', scopes: ['a:b'] });
    await t.server.dispatch();
    expect((await api('GET', `/v1/webhooks/${gone}`)).body.enabled).toBe(false);
    await t.server.dispatch();
    const told = at('/watch-gone').map((request) => JSON.parse(request.body).data);
    expect(told).toEqual([
      expect.objectContaining({
        webhook: { id: gone, url: `${receiver.url}/gone` },
        reason: 'the receiver answered 410 Gone',
      }),
    ]);
    await api('DELETE', `/v1/webhooks/${gone}`);
    await api('DELETE', `/v1/webhooks/${watcher}`);
  });

  it('counts events and attempts, and reports how long the oldest pending delivery has waited', async () => {
    const before = {
      created: await metric('keyward_events_enqueued_total{type="key.created"}'),
      succeeded: await metric('keyward_webhook_deliveries_total{result="succeeded"}'),
      retried: await metric('keyward_webhook_deliveries_total{result="retried"}'),
    };
    expect(await metric('keyward_webhook_oldest_pending_seconds')).toBe(0);
    const id = await endpoint('/metrics');
    receiver.answers.push({ status: 503 });
    await t.client.keys.create({ name: 'counted', scopes: ['a:b'] });
    await t.server.dispatch();
    // Its age on the dispatcher's clock, which earlier tests moved: an hour more, an hour older.
    const waiting = await metric('keyward_webhook_oldest_pending_seconds');
    expect(waiting).toBeGreaterThan(0);
    offsetMs += HOUR;
    const waited = await metric('keyward_webhook_oldest_pending_seconds');
    expect(waited - waiting).toBeGreaterThanOrEqual(3_600);
    expect(waited - waiting).toBeLessThan(3_660);
    await t.server.dispatch();
    expect(await metric('keyward_webhook_oldest_pending_seconds')).toBe(0);
    expect(await metric('keyward_events_enqueued_total{type="key.created"}')).toBe(before.created + 1);
    expect(await metric('keyward_webhook_deliveries_total{result="retried"}')).toBe(before.retried + 1);
    expect(await metric('keyward_webhook_deliveries_total{result="succeeded"}')).toBe(before.succeeded + 1);
    // Failed attempts were counted by the tests above (the 410 and the exhausted schedule).
    expect(await metric('keyward_webhook_deliveries_total{result="failed"}')).toBeGreaterThanOrEqual(2);
    expect(await metric('keyward_events_enqueued_total{type="webhook.disabled"}')).toBe(2);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).not.toContain(receiver.url.replace('http://', ''));
    expect(text).not.toContain('abc123');
    await api('DELETE', `/v1/webhooks/${id}`);
  });

  it('prunes finished deliveries and their events past the retention, and keeps what still waits', async () => {
    const id = await endpoint('/pruned');
    receiver.answers.push({ status: 200 }, { status: 500 });
    await t.client.keys.create({ name: 'delivered then pruned', scopes: ['a:b'] });
    await t.server.dispatch();
    await t.client.keys.create({ name: 'still waiting', scopes: ['a:b'] });
    await t.server.dispatch();
    // Paused: its pending delivery waits, however old, until the endpoint is enabled again.
    await api('PATCH', `/v1/webhooks/${id}`, { enabled: false });
    const events = async () =>
      (await t.server.store.db.selectFrom('events').select('payload').execute()).map(
        (row) => JSON.parse(row.payload).data.key?.name as string | undefined,
      );
    expect(await events()).toEqual(expect.arrayContaining(['delivered then pruned', 'still waiting']));

    offsetMs += 31 * 24 * HOUR;
    await t.server.maintain();
    const left = await events();
    expect(left).not.toContain('delivered then pruned');
    expect(left).toContain('still waiting');
    const remaining = await deliveries(id);
    expect(remaining).toEqual([expect.objectContaining({ status: 'pending' })]);
    // Nothing older than the retention is left but what still waits.
    const stale = await t.server.store.db
      .selectFrom('webhook_deliveries')
      .select('status')
      .where('created_at', '<', new Date(Date.now() + offsetMs - 30 * 24 * HOUR))
      .execute();
    expect(stale.every((row) => row.status === 'pending')).toBe(true);
    await api('DELETE', `/v1/webhooks/${id}`);
  });
});
