import { raw, startTestServer, type TestServer } from '../support/harness';
import { LOCAL_RECEIVER_SETTINGS, type Receiver, startReceiver } from '../support/receiver';

/** Anything longer than a display prefix after a key or secret prefix: a secret, not a `start`. */
const KEY_SHAPED = /kw_(?:live|test|root|sig)_[A-Za-z0-9_-]{5,}|whsec_/;

/*
 * SSRF: webhook URLs that reach loopback, private, link-local or metadata addresses are refused on
 * create and update, and again when delivering. Secrets never leave in a payload, a header, an
 * answer, the audit log or a log line. Only root keys with webhooks:manage manage webhooks.
 */
describe('webhook security', () => {
  let t: TestServer;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    // Private addresses are NOT allowed here; plain http is, so the refusals are about the address.
    t = await startTestServer({ webhookAllowHttp: true, webhookDispatchIntervalMs: 600_000 });
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });
  const api = (method: string, path: string, body?: unknown, rootKey = t.rootKey) =>
    raw(t.url, method, path, { rootKey, body });

  it.each([
    ['loopback', 'http://127.0.0.1:9/hook'],
    ['loopback by name', 'http://localhost:9/hook'],
    ['IPv6 loopback', 'http://[::1]:9/hook'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]:9/hook'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['AWS IPv6 metadata', 'http://[fd00:ec2::254]/latest/'],
    ['private', 'http://10.1.2.3/hook'],
    ['private 192.168', 'https://192.168.0.10/hook'],
    ['carrier-grade NAT', 'https://100.64.0.1/hook'],
    ['unspecified', 'http://0.0.0.0:9/hook'],
    ['decimal loopback', 'http://2130706433/hook'],
  ])('refuses a %s URL on create with 400 naming url', async (_name, url) => {
    const refused = await api('POST', '/v1/webhooks', { url });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('KW_ERR_VALIDATION');
    expect(refused.body.error.issues).toEqual([expect.objectContaining({ path: 'body.url' })]);
  });

  it('refuses a private URL on update, and credentials in any URL', async () => {
    const created = await api('POST', '/v1/webhooks', { url: 'https://93.184.215.14/hook' });
    expect(created.status).toBe(201);
    const moved = await api('PATCH', `/v1/webhooks/${created.body.id}`, { url: 'http://169.254.169.254/' });
    expect(moved.status).toBe(400);
    expect(moved.body.error.issues[0].path).toBe('body.url');
    expect((await api('GET', `/v1/webhooks/${created.body.id}`)).body.url).toBe('https://93.184.215.14/hook');
    const withCredentials = await api('POST', '/v1/webhooks', { url: 'https://user:pass@93.184.215.14/hook' });
    expect(withCredentials.status).toBe(400);
    await api('DELETE', `/v1/webhooks/${created.body.id}`);
  });

  it('refuses plain http unless KEYWARD_WEBHOOK_ALLOW_HTTP is set', async () => {
    const strict = await startTestServer({ webhookDispatchIntervalMs: 600_000 });
    try {
      const refused = await raw(strict.url, 'POST', '/v1/webhooks', {
        rootKey: strict.rootKey,
        body: { url: 'http://93.184.215.14/hook' },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.issues[0]).toEqual({ path: 'body.url', message: 'must be an https URL' });
    } finally {
      await strict.close();
    }
  });

  it('checks the address again when delivering (a host that now points inside is refused)', async () => {
    const created = await api('POST', '/v1/webhooks', { url: 'https://93.184.215.14/hook' });
    // What DNS rebinding would do: the endpoint now leads to the loopback receiver.
    await t.server.store.db
      .updateTable('webhook_endpoints')
      .set({ url: `${receiver.url}/rebound` })
      .where('id', '=', created.body.id)
      .execute();
    const named = await api('POST', '/v1/webhooks', { url: 'https://93.184.215.14/named' });
    await t.server.store.db
      .updateTable('webhook_endpoints')
      .set({ url: receiver.url.replace('127.0.0.1', 'localhost') })
      .where('id', '=', named.body.id)
      .execute();
    await t.client.keys.create({ name: 'to nowhere', scopes: ['a:b'] });
    expect(await t.server.dispatch()).toBe(2);
    for (const id of [created.body.id, named.body.id]) {
      const [delivery] = (await api('GET', `/v1/webhooks/${id}/deliveries`)).body.items;
      expect(delivery).toMatchObject({ status: 'pending', attemptCount: 1 });
      expect(delivery.attempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/^refused: /) });
      await api('DELETE', `/v1/webhooks/${id}`);
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('requires the webhooks:manage scope', async () => {
    const narrow = await t.client.rootKeys.create({ name: 'keys only', scopes: ['keys:read', 'keys:write'] });
    const denied = await api('GET', '/v1/webhooks', undefined, narrow.key);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain('webhooks:manage');
    expect((await api('POST', '/v1/webhooks', { url: 'https://93.184.215.14/x' }, narrow.key)).status).toBe(403);
    const manager = await t.client.rootKeys.create({ name: 'hooks', scopes: ['webhooks:manage'] });
    expect((await api('GET', '/v1/webhooks', undefined, manager.key)).status).toBe(200);
    expect((await api('GET', '/v1/webhooks')).status).toBe(200);
  });

  it('puts no key, signing secret or webhook secret in any payload, header, answer, audit entry or log', async () => {
    const allowing = await startTestServer(LOCAL_RECEIVER_SETTINGS);
    const secrets: string[] = [allowing.rootKey];
    try {
      const call = (method: string, path: string, body?: unknown) =>
        raw(allowing.url, method, path, { rootKey: allowing.rootKey, body });
      const created = await call('POST', '/v1/webhooks', { url: `${receiver.url}/scan` });
      secrets.push(created.body.secret);
      const rotatedSecret = await call('POST', `/v1/webhooks/${created.body.id}/rotate-secret`, {});
      secrets.push(rotatedSecret.body.secret);

      const live = await allowing.client.keys.create({ name: 'live', scopes: ['a:b'], signedScopes: ['a:b'] });
      const test = await allowing.client.keys.create({ name: 'test', scopes: ['a:b'], environment: 'test' });
      secrets.push(live.key, live.signingSecret!, test.key);
      // A key pasted into a name is masked before it is stored in the outbox.
      const pasted = await allowing.client.keys.create({ name: `oops ${test.key}`, scopes: ['a:b'] });
      secrets.push(pasted.key);
      const signed = await allowing.client.keys.update(test.id, { requireSignature: true });
      if (signed.signingSecret) secrets.push(signed.signingSecret);
      const next = await allowing.client.keys.rotate(live.id, { gracePeriodSeconds: 60 });
      secrets.push(next.key);
      if (next.signingSecret) secrets.push(next.signingSecret);
      const root = await allowing.client.rootKeys.create({ name: 'second root', scopes: ['keys:read'] });
      secrets.push(root.key);
      await allowing.client.rootKeys.rotate(root.id, { gracePeriodSeconds: 0 }).then((rotated) => {
        secrets.push(rotated.key);
      });
      await allowing.client.keys.suspend(test.id);
      await allowing.client.keys.resume(test.id);
      await allowing.client.keys.revoke(test.id);
      await allowing.client.keys.retire(next.id, { gracePeriodSeconds: 0 });
      expect(await allowing.server.dispatch()).toBeGreaterThanOrEqual(10);

      const delivered = receiver.received.filter((request) => request.path === '/scan');
      expect(delivered.length).toBeGreaterThanOrEqual(10);
      const deliveries = await call('GET', `/v1/webhooks/${created.body.id}/deliveries?limit=100`);
      const audit = await call('GET', '/v1/audit?limit=500');
      const endpoints = await call('GET', '/v1/webhooks');
      const rows = await allowing.server.store.db.selectFrom('events').select('payload').execute();
      const haystacks = [
        ...delivered.map((request) => `${JSON.stringify(request.headers)}\n${request.body}`),
        JSON.stringify(deliveries.body),
        JSON.stringify(audit.body),
        JSON.stringify(endpoints.body),
        ...rows.map((row) => row.payload),
        allowing.logLines.join(''),
      ];
      for (const haystack of haystacks) {
        expect(haystack).not.toMatch(KEY_SHAPED);
        for (const secret of secrets) expect(haystack).not.toContain(secret);
      }
      // The display prefix is there: that is what a receiver shows.
      expect(delivered.some((request) => request.body.includes(live.start))).toBe(true);
    } finally {
      await allowing.close();
    }
  });
});
