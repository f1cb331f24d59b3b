import { Agent, request as httpRequest } from 'node:http';
import { Keyward } from '../../sdk';
import { raw, startTestServer, type TestServer } from '../support/harness';

/* Who may call what: root keys and their scopes, API keys kept out of management, secrets kept out of logs. */
describe('keys API: authentication, authorisation and secrecy', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  it('answers 401 without a root key, with a malformed one, and with an API key', async () => {
    const apiKey = await t.client.keys.create({ name: 'app', scopes: ['*'] });
    expect((await raw(t.url, 'GET', '/v1/keys')).status).toBe(401);
    expect((await raw(t.url, 'GET', '/v1/keys', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    expect((await raw(t.url, 'GET', '/v1/keys', { rootKey: 'kw_root_garbage' })).status).toBe(401);
    const withApiKey = await raw(t.url, 'GET', '/v1/keys', { rootKey: apiKey.key });
    expect(withApiKey.status).toBe(401);
    expect(withApiKey.body.error.code).toBe('KW_ERR_UNAUTHENTICATED');
    expect((await raw(t.url, 'POST', '/v1/verify', { rootKey: apiKey.key, body: { key: apiKey.key } })).status).toBe(
      401,
    );
  });

  it('enforces each management scope with 403', async () => {
    const reader = await t.client.rootKeys.create({ name: 'reader', scopes: ['keys:read'] });
    const verifier = await t.client.rootKeys.create({ name: 'verifier', scopes: ['verify'] });
    const asReader = new Keyward({ baseUrl: t.url, rootKey: reader.key, retries: 0 });
    const asVerifier = new Keyward({ baseUrl: t.url, rootKey: verifier.key, retries: 0 });
    const target = await t.client.keys.create({ name: 'target' });

    expect((await asReader.keys.get(target.id)).id).toBe(target.id);
    await expect(asReader.keys.create({ name: 'nope' })).rejects.toMatchObject({
      status: 403,
      code: 'KW_ERR_FORBIDDEN',
    });
    await expect(asReader.keys.revoke(target.id)).rejects.toMatchObject({ status: 403 });
    await expect(asReader.keys.rotate(target.id)).rejects.toMatchObject({ status: 403 });
    await expect(asReader.verify({ key: target.key })).rejects.toMatchObject({ status: 403 });
    await expect(asReader.rootKeys.create({ name: 'escalate', scopes: ['*'] })).rejects.toMatchObject({ status: 403 });
    await expect(asReader.audit.verify()).rejects.toMatchObject({ status: 403 });

    expect((await asVerifier.verify({ key: target.key })).code).toBe('VALID');
    await expect(asVerifier.keys.get(target.id)).rejects.toMatchObject({ status: 403 });
    await expect(asVerifier.calls.list()[Symbol.asyncIterator]().next()).rejects.toMatchObject({ status: 403 });
  });

  it('limits a root key to its IP allowlist, and stops it when suspended or revoked', async () => {
    const remote = await t.client.rootKeys.create({
      name: 'remote only',
      scopes: ['*'],
      ipAllowlist: ['192.0.2.0/24'],
    });
    const asRemote = new Keyward({ baseUrl: t.url, rootKey: remote.key, retries: 0 });
    await expect(asRemote.keys.list()[Symbol.asyncIterator]().next()).rejects.toMatchObject({ status: 403 });
    // X-Forwarded-For is not trusted without a configured proxy list.
    const spoofed = await raw(t.url, 'GET', '/v1/keys', {
      rootKey: remote.key,
      headers: { 'x-forwarded-for': '192.0.2.10' },
    });
    expect(spoofed.status).toBe(403);

    const local = await t.client.rootKeys.create({ name: 'local', scopes: ['keys:read'] });
    const asLocal = new Keyward({ baseUrl: t.url, rootKey: local.key, retries: 0 });
    await t.client.rootKeys.suspend(local.id);
    await expect(asLocal.keys.list()[Symbol.asyncIterator]().next()).rejects.toMatchObject({ status: 401 });
    await t.client.rootKeys.resume(local.id);
    expect((await asLocal.keys.list()[Symbol.asyncIterator]().next()).done).toBe(false);
    await t.client.rootKeys.revoke(local.id);
    await expect(asLocal.keys.list()[Symbol.asyncIterator]().next()).rejects.toMatchObject({ status: 401 });
  });

  it('re-checks a root key on every request of a keep-alive connection: a revoke stops the next request', async () => {
    // A server of its own: the failures here must not add to the other tests' lockout count.
    const own = await startTestServer();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // Every request over one socket; each answer reports the client port it came back on.
    const verifyOver = (rootKey: string, key: string) =>
      new Promise<{ status: number; port: number | undefined }>((resolve, reject) => {
        const body = JSON.stringify({ key });
        const sent = httpRequest(
          new URL('/v1/verify', own.url),
          {
            method: 'POST',
            agent,
            headers: {
              authorization: `Bearer ${rootKey}`,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (response) => {
            const port = response.socket.localPort;
            response.resume();
            response.on('end', () => resolve({ status: response.statusCode ?? 0, port }));
          },
        );
        sent.on('error', reject);
        sent.end(body);
      });
    try {
      const gateway = await own.client.rootKeys.create({ name: 'gateway', scopes: ['verify'] });
      const other = await own.client.rootKeys.create({ name: 'other gateway', scopes: ['verify'] });
      const apiKey = await own.client.keys.create({ name: 'checked' });
      const first = await verifyOver(gateway.key, apiKey.key);
      expect(first.status).toBe(200);
      expect((await verifyOver(gateway.key, apiKey.key)).status).toBe(200);
      await own.client.rootKeys.revoke(gateway.id);
      const afterRevoke = await verifyOver(gateway.key, apiKey.key);
      expect(afterRevoke).toEqual({ status: 401, port: first.port });
      // Another root key on the same connection works, and the revoked one stays refused after it.
      expect(await verifyOver(other.key, apiKey.key)).toEqual({ status: 200, port: first.port });
      expect((await verifyOver(gateway.key, apiKey.key)).status).toBe(401);
      // An API key presented as the root key is refused on the same connection too.
      expect((await verifyOver(apiKey.key, apiKey.key)).status).toBe(401);
      await own.client.rootKeys.suspend(other.id);
      expect(await verifyOver(other.key, apiKey.key)).toEqual({ status: 401, port: first.port });
    } finally {
      agent.destroy();
      await own.close();
    }
  });

  it('trusts X-Forwarded-For only from a configured proxy', async () => {
    const proxied = await startTestServer({ trustedProxies: '127.0.0.1/32' });
    try {
      const remote = await proxied.client.rootKeys.create({
        name: 'remote',
        scopes: ['*'],
        ipAllowlist: ['192.0.2.0/24'],
      });
      const through = await raw(proxied.url, 'GET', '/v1/keys', {
        rootKey: remote.key,
        headers: { 'x-forwarded-for': '192.0.2.10' },
      });
      expect(through.status).toBe(200);
      const audit = [];
      const created = await raw(proxied.url, 'POST', '/v1/keys', {
        rootKey: proxied.rootKey,
        body: { name: 'via proxy' },
        headers: { 'x-forwarded-for': '198.51.100.4' },
      });
      expect(created.status).toBe(201);
      for await (const entry of proxied.client.audit.list({ keyId: created.body.id })) audit.push(entry);
      expect(audit[0]!.ip).toBe('198.51.100.4');
    } finally {
      await proxied.close();
    }
  });

  it('keeps root keys and API keys apart: root keys are managed only under /v1/root-keys', async () => {
    const apiKey = await t.client.keys.create({ name: 'plain' });
    expect((await raw(t.url, 'GET', `/v1/root-keys/${apiKey.id}`, { rootKey: t.rootKey })).status).toBe(404);
    const rootKeys = [];
    for await (const key of t.client.rootKeys.list()) rootKeys.push(key);
    expect(rootKeys.every((key) => key.kind === 'root')).toBe(true);
    expect((await raw(t.url, 'GET', `/v1/keys/${rootKeys[0]!.id}`, { rootKey: t.rootKey })).status).toBe(404);
    const badScope = await raw(t.url, 'POST', '/v1/root-keys', {
      rootKey: t.rootKey,
      body: { name: 'x', scopes: ['contacts:read'] },
    });
    expect(badScope.body.error.issues[0].path).toBe('body.scopes.0');
  });

  it('never writes a key or the pepper into logs, errors, audit entries or metrics', async () => {
    const secret = await t.client.keys.create({ name: 'secret', scopes: ['a:b'] });
    await t.client.verify({ key: secret.key, scopes: ['a:b'] });
    await raw(t.url, 'POST', '/v1/verify', { rootKey: t.rootKey, body: { key: secret.key, bogus: true } });
    await raw(t.url, 'GET', '/v1/keys', { rootKey: secret.key });
    const rotated = await t.client.keys.rotate(secret.id, { gracePeriodSeconds: 5 });
    const audit = [];
    for await (const entry of t.client.audit.list()) audit.push(entry);
    const metrics = (await raw(t.url, 'GET', '/metrics')).body as string;
    const pepper = (await import('node:fs')).readFileSync(`${t.dataDir}/pepper`, 'utf8');
    const haystacks = [t.logLines.join('\n'), JSON.stringify(audit), metrics];
    for (const needle of [secret.key, rotated.key, t.rootKey, pepper, secret.key.slice(12, 40)]) {
      for (const haystack of haystacks) expect(haystack).not.toContain(needle);
    }
    expect(t.logLines.length).toBeGreaterThan(0);
  });
});
