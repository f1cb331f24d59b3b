import { randomBytes } from 'node:crypto';
import { EVENT_TYPES, type EventType } from '../../schema';
import { eventually, raw, startTestServer, type TestServer } from '../support/harness';
import { LOCAL_RECEIVER_SETTINGS, type Receiver, startReceiver } from '../support/receiver';

/** A key or signing secret: a documented prefix and more than a display prefix's worth after it. */
const KEY_SHAPED = /kw_(?:live|test|root)_[0-9A-Za-z]{20,}|kw_sig_[0-9A-Za-z_-]{20,}/;
const WEBHOOK_SECRET = /whsec_/;
const HOUR = 3_600_000;

/*
 * Every event type keyward emits is driven through the real server: key changes, expiry and
 * reminders (time moved by the injected clock), a leak report, brute-force blocks and a root-key
 * lockout, and an endpoint disabled by a 410. Every body a real receiver got, and every payload
 * stored in the outbox, is then scanned: ids, names, display prefixes, scopes, actors and times,
 * never a key, a signing secret, a webhook secret or the pepper.
 */
describe('event payloads carry no secret', () => {
  const pepper = randomBytes(36).toString('base64url');
  let t: TestServer;
  let receiver: Receiver;
  let goneReceiver: Receiver;
  let offsetMs = 0;
  beforeAll(async () => {
    receiver = await startReceiver();
    goneReceiver = await startReceiver();
    goneReceiver.fallback = { status: 410, body: 'gone' };
    t = await startTestServer(
      {
        ...LOCAL_RECEIVER_SETTINGS,
        pepper,
        // The client's address comes from X-Forwarded-For, so a lockout hits an attacker, not the test.
        trustedProxies: '127.0.0.1/32',
        verifyFailuresPerIp: '5/60',
        verifyFailuresPerPrefix: '3/60',
        rootKeyFailures: '3/60',
      },
      { clock: () => Date.now() + offsetMs },
    );
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
    await goneReceiver.close();
  });
  const api = (method: string, path: string, body?: unknown) => raw(t.url, method, path, { rootKey: t.rootKey, body });
  /** A key-shaped string that is no key: what a guesser sends. */
  const guess = (prefix: string) =>
    `${prefix}${randomBytes(40).toString('base64url').replace(/[-_]/g, 'x').slice(0, 49)}`;

  it('drives every event type and finds no secret in any delivered or stored payload', async () => {
    const secrets: string[] = [t.rootKey, pepper];
    const all = await api('POST', '/v1/webhooks', { url: `${receiver.url}/all` });
    const gone = await api('POST', '/v1/webhooks', { url: `${goneReceiver.url}/gone`, eventTypes: ['key.created'] });
    secrets.push(all.body.secret, gone.body.secret);
    secrets.push((await api('POST', `/v1/webhooks/${all.body.id}/rotate-secret`, {})).body.secret);

    // key.created, updated, rotated, suspended, resumed, revoked, retired; root keys too.
    const live = await t.client.keys.create({ name: 'live', scopes: ['a:read'], signedScopes: ['a:read'] });
    const test = await t.client.keys.create({ name: 'test', scopes: ['a:read'], environment: 'test' });
    secrets.push(live.key, live.signingSecret!, test.key);
    const pasted = await t.client.keys.create({ name: `pasted ${test.key}`, scopes: ['a:read'] });
    secrets.push(pasted.key);
    await t.client.keys.update(test.id, { scopes: ['a:read', 'a:write'], metadata: { note: live.key } });
    const next = await t.client.keys.rotate(live.id, { gracePeriodSeconds: 60 });
    secrets.push(next.key);
    if (next.signingSecret) secrets.push(next.signingSecret);
    await t.client.keys.suspend(test.id);
    await t.client.keys.resume(test.id);
    await t.client.keys.revoke(test.id);
    await t.client.keys.retire(next.id, { gracePeriodSeconds: 0 });
    const root = await t.client.rootKeys.create({ name: 'deployer', scopes: ['keys:read'] });
    secrets.push(root.key, (await t.client.rootKeys.rotate(root.id, { gracePeriodSeconds: 0 })).key);

    // key.expiring and key.rotation_due now (within 14 days), key.expired once time has passed.
    const lapsing = await t.client.keys.create({
      name: 'lapsing',
      scopes: ['a:read'],
      expiresAt: new Date(Date.now() + 2 * 24 * HOUR).toISOString(),
      maxAgeDays: 1,
    });
    secrets.push(lapsing.key);

    // key.leaked, when this build has the leak report.
    const leaked = await t.client.keys.create({ name: 'leaked', scopes: ['a:read'] });
    secrets.push(leaked.key);
    const report = await api('POST', '/v1/leaks', { key: leaked.key, url: 'https://gist.example.com/abc' });
    const expectedTypes = new Set<EventType>(EVENT_TYPES);
    if (report.status === 404) expectedTypes.delete('key.leaked');
    else expect(report.status).toBeLessThan(300);

    // security.blocked: a guessing source, a guessed prefix, and a root-key lockout.
    const guesses: string[] = [];
    const verify = async (key: string, ip: string) => {
      guesses.push(key);
      return (await t.client.verify({ key, ip })).code;
    };
    for (let attempt = 0; attempt < 6; attempt += 1) await verify(guess(`kw_live_G${attempt}gg`), '203.0.113.9');
    for (let attempt = 0; attempt < 4; attempt += 1) await verify(guess('kw_test_PPPP'), `198.51.100.${attempt + 1}`);
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const badRoot = guess('kw_root_RRRR');
      guesses.push(badRoot);
      const answer = await raw(t.url, 'GET', '/v1/keys', {
        rootKey: badRoot,
        headers: { 'x-forwarded-for': '192.0.2.77' },
      });
      expect([401, 429]).toContain(answer.status);
    }
    secrets.push(...guesses);
    const blocks = async () =>
      t.server.store.db.selectFrom('events').select('payload').where('type', '=', 'security.blocked').execute();
    await eventually(async () => (await blocks()).length >= 3);

    // webhook.disabled: the second endpoint answers 410 to its first delivery.
    await t.server.dispatch();
    expect((await api('GET', `/v1/webhooks/${gone.body.id}`)).body.enabled).toBe(false);

    // Reminders are due now; three days on, the key has expired.
    await t.server.maintain();
    offsetMs += 3 * 24 * HOUR;
    await t.server.maintain();
    while ((await t.server.dispatch()) > 0) {
      // drain every delivery
    }

    const delivered = receiver.received.filter((request) => request.path === '/all').map((request) => request.body);
    const stored = (await t.server.store.db.selectFrom('events').select('payload').execute()).map((row) => row.payload);
    const types = new Set(delivered.map((body) => JSON.parse(body).type as EventType));
    expect([...expectedTypes].filter((type) => !types.has(type))).toEqual([]);
    expect(stored.length).toBeGreaterThanOrEqual(delivered.length);

    for (const body of [...delivered, ...stored]) {
      expect(body).not.toMatch(KEY_SHAPED);
      expect(body).not.toMatch(WEBHOOK_SECRET);
      for (const secret of secrets) expect(body).not.toContain(secret);
    }
    // What a receiver needs is there: ids, names, display prefixes, scopes, and who acted.
    const created = delivered.map((body) => JSON.parse(body)).find((event) => event.type === 'key.created');
    expect(created.data.key).toEqual(
      expect.objectContaining({ id: expect.any(String), name: 'live', start: live.start, scopes: ['a:read'] }),
    );
    expect(created.data.actor.rootKeyId).toMatch(/^rk_/);
    const blocked = delivered.map((body) => JSON.parse(body)).filter((event) => event.type === 'security.blocked');
    expect(blocked.map((event) => event.data)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reason: 'brute_force', ip: '203.0.113.9', keyPrefix: null }),
        expect.objectContaining({ reason: 'brute_force', ip: null, keyPrefix: 'kw_test_PPPP' }),
        expect.objectContaining({ reason: 'root_key_lockout', ip: '192.0.2.77', keyPrefix: null }),
      ]),
    );
    for (const event of blocked)
      expect(Date.parse(event.data.blockedUntil)).toBeGreaterThan(Date.parse(event.timestamp));
    // One event per block: guesses past the limit do not report it again.
    expect(blocked).toHaveLength(3);
  });
});
