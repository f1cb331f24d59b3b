import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { createCrmApi } from '../../examples/sdk/server';
import { Keyward, requestVerifier, verifyRequest } from '../../sdk';
import { keywardFastify } from '../../sdk/fastify';
import { startTestServer, type TestServer } from '../support/harness';

/* An API owner puts keyward in front of their routes, with Express and with Fastify. */
describe('verification middleware for API owners', () => {
  let t: TestServer;
  let verifierClient: Keyward;
  let reader: string;
  let limited: string;
  let officeOnly: string;
  beforeAll(async () => {
    t = await startTestServer();
    // The API needs only the verify scope.
    const verifyOnly = await t.client.rootKeys.create({ name: 'crm api', scopes: ['verify'] });
    verifierClient = new Keyward({ baseUrl: t.url, rootKey: verifyOnly.key });
    reader = (await t.client.keys.create({ name: 'reader', scopes: ['contacts:read'] })).key;
    limited = (
      await t.client.keys.create({
        name: 'limited',
        scopes: ['contacts:read'],
        rateLimit: { limit: 1, windowSeconds: 60 },
      })
    ).key;
    officeOnly = (await t.client.keys.create({ name: 'office', scopes: ['contacts:*'], ipAllowlist: ['192.0.2.0/24'] }))
      .key;
  });
  afterAll(async () => t.close());

  const listen = async (app: { listen(port: number, host: string, callback: () => void): Server }) => {
    const server = await new Promise<Server>((resolve) => {
      const started = app.listen(0, '127.0.0.1', () => resolve(started));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  };
  const call = async (url: string, headers: Record<string, string> = {}, method = 'GET') => {
    const response = await fetch(url, { method, headers });
    const text = await response.text();
    return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : text, headers: response.headers };
  };

  describe('Express (examples/sdk)', () => {
    let api: { url: string; close(): Promise<void> };
    let behindProxy: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      api = await listen(createCrmApi(verifierClient));
      behindProxy = await listen(createCrmApi(verifierClient, { trustedProxies: ['loopback'] }));
    });
    afterAll(async () => {
      await api.close();
      await behindProxy.close();
    });

    it('lets a key through to the routes its scopes allow, and attaches the result', async () => {
      const ok = await call(`${api.url}/contacts`, { authorization: `Bearer ${reader}` });
      expect(ok.status).toBe(200);
      expect(ok.body.caller).toMatch(/^key_/);
      expect(ok.body.clientIp).toBe('127.0.0.1');
      expect((await call(`${api.url}/contacts`, { 'x-api-key': reader })).status).toBe(200);
    });

    it('answers 401 without a key or with a bad one, 403 without the scope, 429 past the limit', async () => {
      expect(await call(`${api.url}/contacts`)).toMatchObject({
        status: 401,
        body: { error: { code: 'MISSING_KEY' } },
      });
      expect(await call(`${api.url}/contacts`, { authorization: 'Bearer kw_live_typo' })).toMatchObject({
        status: 401,
        body: { error: { code: 'MALFORMED' } },
      });
      expect(await call(`${api.url}/contacts/export`, { authorization: `Bearer ${reader}` })).toMatchObject({
        status: 403,
        body: { error: { code: 'INSUFFICIENT_SCOPE' } },
      });
      expect((await call(`${api.url}/email`, { authorization: `Bearer ${reader}` }, 'POST')).status).toBe(403);
      expect((await call(`${api.url}/contacts`, { authorization: `Bearer ${limited}` })).status).toBe(200);
      const limitedOut = await call(`${api.url}/contacts`, { authorization: `Bearer ${limited}` });
      expect(limitedOut).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED' } } });
      expect(Number(limitedOut.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('ignores X-Forwarded-For from an untrusted peer, and honours it from a trusted proxy', async () => {
      const spoofed = await call(`${api.url}/contacts`, {
        authorization: `Bearer ${officeOnly}`,
        'x-forwarded-for': '192.0.2.10',
      });
      expect(spoofed).toMatchObject({ status: 403, body: { error: { code: 'IP_NOT_ALLOWED' } } });
      const proxied = await call(`${behindProxy.url}/contacts`, {
        authorization: `Bearer ${officeOnly}`,
        'x-forwarded-for': '203.0.113.9, 192.0.2.10',
      });
      expect(proxied.status).toBe(200);
      expect(proxied.body.clientIp).toBe('192.0.2.10');
      // The call log shows the address keyward was given: the peer for the spoof, the client behind the proxy.
      const fromClient = [];
      for await (const entry of t.client.calls.list({ ip: '192.0.2.10' })) fromClient.push(entry.code);
      expect(fromClient).toEqual(['VALID']);
    });
  });

  describe('Fastify', () => {
    let api: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      const app = Fastify();
      const protect = keywardFastify({ client: verifierClient });
      app.get('/contacts', { preHandler: protect(['contacts:read']) }, async (request) => ({
        caller: request.keyward?.keyId,
        ip: request.keyward?.clientIp,
      }));
      app.post('/email', { preHandler: protect(['email:send']) }, async () => ({ queued: true }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      api = { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
    });
    afterAll(async () => api.close());

    it('guards routes by scope', async () => {
      expect(await call(`${api.url}/contacts`, { authorization: `Bearer ${reader}` })).toMatchObject({
        status: 200,
        body: { ip: '127.0.0.1' },
      });
      expect(await call(`${api.url}/email`, { authorization: `Bearer ${reader}` }, 'POST')).toMatchObject({
        status: 403,
        body: { error: { code: 'INSUFFICIENT_SCOPE' } },
      });
      expect((await call(`${api.url}/contacts`)).status).toBe(401);
      expect(
        (await call(`${api.url}/contacts`, { authorization: `Bearer ${officeOnly}`, 'x-forwarded-for': '192.0.2.10' }))
          .status,
      ).toBe(403);
    });
  });

  describe('verifyRequest and its optional cache', () => {
    it('caches positive answers only while configured, trading revocation delay for fewer calls', async () => {
      const key = await t.client.keys.create({ name: 'cached', scopes: ['a:b'] });
      const request = {
        headers: { authorization: `Bearer ${key.key}` },
        socket: { remoteAddress: '198.51.100.1' },
        method: 'GET',
        url: '/a',
      };
      const cached = requestVerifier({ client: verifierClient, cacheTtlMs: 60_000 });
      expect((await cached(request, ['a:b'])).ok).toBe(true);
      await t.client.keys.revoke(key.id);
      // Within the TTL the cached answer stands: this is the documented trade-off.
      expect((await cached(request, ['a:b'])).ok).toBe(true);
      // Without a cache (the default), revocation is seen at once.
      const outcome = await verifyRequest(request, { client: verifierClient, scopes: ['a:b'] });
      expect(outcome).toMatchObject({ ok: false, refusal: { status: 401, code: 'REVOKED' } });
    });
  });
});
