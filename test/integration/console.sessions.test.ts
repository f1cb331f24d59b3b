import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Keyward } from '../../sdk';
import { buildConsoleInto, type ConsoleSessionClient, setCookie, signInOverHttp } from '../support/console';
import { raw, startTestServer, type TestServer } from '../support/harness';

/*
 * Web console sessions over plain HTTP (docs/console.md): sign-in with a root key gives an opaque
 * HttpOnly, SameSite=Strict cookie; the cookie authenticates /v1 as that root key, with a CSRF
 * token on every change; sessions expire when idle and absolutely, by the server's injected clock;
 * revoking the root key ends them at once; sign-in is subject to the root-key lockout.
 */

const MINUTE = 60_000;

/** Everything an SDK listing yields. */
async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const found: T[] = [];
  for await (const item of items) found.push(item);
  return found;
}

describe('console sessions', () => {
  let t: TestServer;
  let consoleDir: string;
  let offset = 0;
  const clock = () => Date.now() + offset;
  beforeAll(async () => {
    consoleDir = buildConsoleInto();
    t = await startTestServer({ consoleDir }, { clock });
  });
  afterAll(async () => {
    await t.close();
    rmSync(consoleDir, { recursive: true, force: true });
  });
  afterEach(() => {
    offset = 0;
  });

  it('signs in with a root key: an HttpOnly, SameSite=Strict cookie, not Secure over plain http', async () => {
    const answer = await raw(t.url, 'POST', '/console/session', { body: { rootKey: t.rootKey } });
    expect(answer.status).toBe(201);
    const cookie = setCookie(answer.headers, 'keyward_session');
    expect(cookie).toBeDefined();
    expect(cookie!.attributes).toEqual(
      expect.arrayContaining(['httponly', 'samesite=strict', 'path=/', `max-age=${12 * 3600}`]),
    );
    expect(cookie!.attributes).not.toContain('secure');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const [me] = await all(t.client.rootKeys.list());
    expect(answer.body).toMatchObject({
      rootKey: { id: me!.id, scopes: ['*'] },
      workspace: { name: 'default', operator: true },
      idleTimeoutSeconds: 1800,
    });
    expect(answer.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The answer and the cookie carry neither the root key nor anything key-shaped.
    expect(JSON.stringify(answer.body)).not.toContain(t.rootKey);
    expect(cookie!.value).not.toContain('kw_');
    // The store keeps the root key's id and the SHA-256 of the session id: never either secret.
    const rows = await t.server.store.db.selectFrom('console_sessions').selectAll().execute();
    const row = rows.find((stored) => stored.id_hash === createHash('sha256').update(cookie!.value).digest('hex'));
    expect(row).toMatchObject({ root_key_id: me!.id, workspace_id: me!.workspaceId });
    expect(JSON.stringify(rows)).not.toContain(cookie!.value);
    expect(JSON.stringify(rows)).not.toContain(t.rootKey);
  });

  it('GET /console/session reads the session back with its CSRF token; without a cookie it is 401', async () => {
    const browser = await signInOverHttp(t.url, t.rootKey);
    const read = await browser.request('GET', '/console/session');
    expect(read.status).toBe(200);
    expect(read.body.csrfToken).toBe(browser.csrfToken);
    expect(read.headers.get('cache-control')).toBe('no-store');
    const none = await raw(t.url, 'GET', '/console/session');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('KW_ERR_UNAUTHENTICATED');
    const forged = await raw(t.url, 'GET', '/v1/keys', { headers: { cookie: `keyward_session=${'A'.repeat(43)}` } });
    expect(forged.status).toBe(401);
    expect(forged.body.error.message).toContain('session has ended');
  });

  it('the cookie authenticates /v1 as the root key; changes need the CSRF token and the same origin', async () => {
    const browser = await signInOverHttp(t.url, t.rootKey);
    expect((await browser.request('GET', '/v1/keys', { csrf: false })).status).toBe(200);

    const noToken = await browser.request('POST', '/v1/keys', { body: { name: 'no token' }, csrf: false });
    expect(noToken.status).toBe(403);
    expect(noToken.body.error.message).toContain('X-CSRF-Token');
    const wrongToken = await browser.request('POST', '/v1/keys', {
      body: { name: 'wrong token' },
      headers: { 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrongToken.status).toBe(403);
    const otherOrigin = await browser.request('POST', '/v1/keys', {
      body: { name: 'other origin' },
      headers: { origin: 'https://evil.example' },
    });
    expect(otherOrigin.status).toBe(403);
    expect(otherOrigin.body.error.message).toContain('console itself');
    const crossSite = await browser.request('DELETE', '/v1/keys/key_x', {
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    expect(await all(t.client.keys.list({ name: 'no token' }))).toEqual([]);

    const host = new URL(t.url).host;
    const made = await browser.request('POST', '/v1/keys', {
      body: { name: 'made in the console' },
      headers: { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(made.status).toBe(201);
    const [audit] = await all(t.client.audit.list({ keyId: made.body.id }));
    expect(audit).toMatchObject({ action: 'key.create', actorKeyId: (browser.session.rootKey as { id: string }).id });
  });

  it('a session of a keys:read root key can read but not write, whatever token it sends', async () => {
    const reader = await t.client.rootKeys.create({ name: 'reader', scopes: ['keys:read'] });
    const browser = await signInOverHttp(t.url, reader.key);
    expect((await browser.request('GET', '/v1/keys')).status).toBe(200);
    const write = await browser.request('POST', '/v1/keys', { body: { name: 'forged' } });
    expect(write.status).toBe(403);
    expect(write.body.error.message).toContain('keys:write');
    expect((await browser.request('GET', '/v1/audit')).status).toBe(403);
  });

  it('ends after 30 idle minutes, by the injected clock; each request restarts the idle timer', async () => {
    const browser = await signInOverHttp(t.url, t.rootKey);
    offset = 29 * MINUTE;
    expect((await browser.request('GET', '/v1/keys')).status).toBe(200);
    offset = 58 * MINUTE;
    expect((await browser.request('GET', '/v1/keys')).status).toBe(200);
    offset = 89 * MINUTE;
    const ended = await browser.request('GET', '/v1/keys');
    expect(ended.status).toBe(401);
    expect(ended.body.error.message).toContain('session has ended');
    const cleared = setCookie(ended.headers, 'keyward_session');
    expect(cleared).toMatchObject({ value: '' });
    expect(cleared!.attributes).toContain('max-age=0');
    offset = 0;
    expect((await browser.request('GET', '/v1/keys')).status).toBe(401);
  });

  it("deletes ended sessions in the leader's maintenance round, and keeps live ones", async () => {
    const idle = await signInOverHttp(t.url, t.rootKey);
    const busy = await signInOverHttp(t.url, t.rootKey);
    const stored = async (browser: { cookie: string }) =>
      (
        await t.server.store.db
          .selectFrom('console_sessions')
          .select('id_hash')
          .where('id_hash', '=', createHash('sha256').update(browser.cookie).digest('hex'))
          .execute()
      ).length;
    offset = 20 * MINUTE;
    expect((await busy.request('GET', '/console/session')).status).toBe(200);
    offset = 31 * MINUTE;
    await t.server.maintain();
    expect(await stored(idle)).toBe(0);
    expect(await stored(busy)).toBe(1);
    expect((await busy.request('GET', '/console/session')).status).toBe(200);
    offset = 12 * 60 * MINUTE;
    await t.server.maintain();
    expect(await stored(busy)).toBe(0);
  });

  it("spends the root key's rate limit from the budget its bearer requests use", async () => {
    const limited = await t.client.rootKeys.create({
      name: 'limited',
      scopes: ['keys:read'],
      rateLimit: { limit: 4, windowSeconds: 60 },
    });
    // Signing in authenticates the key once: one of the four.
    const browser = await signInOverHttp(t.url, limited.key);
    const statuses: number[] = [];
    for (let request = 0; request < 4; request += 1) statuses.push((await browser.request('GET', '/v1/keys')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await browser.request('GET', '/v1/keys');
    expect(refused.body.error.code).toBe('KW_ERR_RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // The same key as a bearer token finds the budget spent too.
    const bearer = await raw(t.url, 'GET', '/v1/keys', { rootKey: limited.key });
    expect([bearer.status, bearer.body.error.code]).toEqual([429, 'KW_ERR_RATE_LIMITED']);
  });

  it('ends 12 hours after sign-in however busy it is', async () => {
    const browser = await signInOverHttp(t.url, t.rootKey);
    for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
      offset = minutes * MINUTE;
      expect((await browser.request('GET', '/console/session')).status).toBe(200);
    }
    offset = 12 * 60 * MINUTE;
    expect((await browser.request('GET', '/console/session')).status).toBe(401);
  });

  it('revoking the root key ends its sessions at once; suspending and narrowing it act at once too', async () => {
    const doomed = await t.client.rootKeys.create({ name: 'doomed', scopes: ['keys:read', 'keys:write'] });
    const browser = await signInOverHttp(t.url, doomed.key);
    expect((await browser.request('GET', '/v1/keys')).status).toBe(200);

    await t.client.rootKeys.update(doomed.id, { scopes: ['keys:read'] });
    expect((await browser.request('POST', '/v1/keys', { body: { name: 'after narrowing' } })).status).toBe(403);

    await t.client.rootKeys.suspend(doomed.id);
    expect((await browser.request('GET', '/v1/keys')).status).toBe(401);
    await t.client.rootKeys.resume(doomed.id);
    // Suspension ended the session for good: resuming the key does not bring it back.
    expect((await browser.request('GET', '/v1/keys')).status).toBe(401);

    const again = await signInOverHttp(t.url, doomed.key);
    const other = await signInOverHttp(t.url, doomed.key);
    expect((await again.request('GET', '/v1/keys')).status).toBe(200);
    await t.client.rootKeys.revoke(doomed.id);
    const first = await again.request('GET', '/v1/keys');
    expect(first.status).toBe(401);
    expect(first.body.error.message).toBe('the root key is revoked; the console session has ended');
    // Finding the key revoked ended every session of it, not only the one that asked.
    expect((await other.request('GET', '/v1/keys')).status).toBe(401);
    const rows = await t.server.store.db
      .selectFrom('console_sessions')
      .select('id_hash')
      .where('root_key_id', '=', doomed.id)
      .execute();
    expect(rows).toEqual([]);
    // A revoked key cannot sign in again.
    expect((await raw(t.url, 'POST', '/console/session', { body: { rootKey: doomed.key } })).status).toBe(401);
  });

  it('signs out: the CSRF token is needed, then the cookie no longer works', async () => {
    const browser: ConsoleSessionClient = await signInOverHttp(t.url, t.rootKey);
    expect((await browser.request('DELETE', '/console/session', { csrf: false })).status).toBe(403);
    const out = await browser.request('DELETE', '/console/session');
    expect(out.status).toBe(204);
    expect(setCookie(out.headers, 'keyward_session')).toMatchObject({ value: '' });
    expect((await browser.request('GET', '/v1/keys')).status).toBe(401);
    expect((await browser.request('GET', '/console/session')).status).toBe(401);
  });

  it('refuses a sign-in from another origin, and answers bad input with a 400 naming the field', async () => {
    const foreign = await raw(t.url, 'POST', '/console/session', {
      body: { rootKey: t.rootKey },
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    const empty = await raw(t.url, 'POST', '/console/session', { body: { rootKey: '  ' } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.issues).toEqual([{ path: 'body.rootKey', message: expect.any(String) }]);
    const extra = await raw(t.url, 'POST', '/console/session', { body: { rootKey: t.rootKey, remember: true } });
    expect(extra.status).toBe(400);
  });
});

describe('console sign-in lockout and Secure cookies', () => {
  let t: TestServer;
  beforeAll(async () => {
    // Requests from this test come from 127.0.0.1, a trusted proxy here, so X-Forwarded-For names the source.
    t = await startTestServer({ rootKeyFailures: '3/300', trustedProxies: '127.0.0.1/32' });
  });
  afterAll(() => t.close());

  it('locks a source out after failed sign-ins, as for any root-key use, and audits it', async () => {
    const from = { 'x-forwarded-for': '198.51.100.23' };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const failed = await raw(t.url, 'POST', '/console/session', {
        body: { rootKey: 'kw_root_notARealKey' },
        headers: from,
      });
      expect(failed.status).toBe(401);
    }
    const locked = await raw(t.url, 'POST', '/console/session', { body: { rootKey: t.rootKey }, headers: from });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('KW_ERR_LOCKED_OUT');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // The bearer path is locked for that source too, and other sources are not.
    expect((await raw(t.url, 'GET', '/v1/keys', { rootKey: t.rootKey, headers: from })).status).toBe(429);
    const elsewhere = { 'x-forwarded-for': '198.51.100.24' };
    expect((await signInOverHttp(t.url, t.rootKey, elsewhere)).csrfToken).toBeTruthy();
    const admin = new Keyward({ baseUrl: t.url, rootKey: t.rootKey, retries: 0 });
    let lockout: unknown;
    for (let tries = 0; tries < 100 && !lockout; tries += 1) {
      for await (const entry of admin.audit.list({ action: 'security.root_key_lockout' })) lockout = entry;
      if (!lockout) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(lockout).toMatchObject({ changes: { ip: '198.51.100.23' } });
  });

  it('marks the cookie Secure through a trusted proxy, unless it says the browser used plain http', async () => {
    const proxied = await raw(t.url, 'POST', '/console/session', {
      body: { rootKey: t.rootKey },
      headers: { 'x-forwarded-for': '198.51.100.30', 'x-forwarded-proto': 'https' },
    });
    expect(setCookie(proxied.headers, 'keyward_session')!.attributes).toContain('secure');
    const plain = await raw(t.url, 'POST', '/console/session', {
      body: { rootKey: t.rootKey },
      headers: { 'x-forwarded-for': '198.51.100.30', 'x-forwarded-proto': 'http' },
    });
    expect(setCookie(plain.headers, 'keyward_session')!.attributes).not.toContain('secure');
  });
});
