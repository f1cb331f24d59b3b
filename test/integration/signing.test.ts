import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { contentDigest } from '../../schema';
import { signatureHeaders, signRequest } from '../../sdk';
import { raw, startTestServer, type TestServer } from '../support/harness';

/*
 * An API owner protects a sensitive endpoint with request signing: its client signs requests
 * with the SDK's interceptor, and the owner's server forwards what it received to keyward's verify.
 */
describe('request signing (RFC 9421, hmac-sha256)', () => {
  let kw: TestServer;
  let owner: Server;
  let ownerUrl: string;
  /** What the owner's server asked keyward, per request, with the body it really received. */
  const verifyAs = { scopes: ['contacts:export'] as string[], key: undefined as string | undefined, tamper: false };

  beforeAll(async () => {
    kw = await startTestServer();
    owner = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const body = Buffer.concat(chunks);
        const received = verifyAs.tamper ? Buffer.concat([body, Buffer.from(' ')]) : body;
        const headers = Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [
            name,
            Array.isArray(value) ? value.join(', ') : String(value),
          ]),
        );
        const verdict = await kw.client.verify({
          key: verifyAs.key,
          scopes: verifyAs.scopes,
          request: {
            method: request.method!,
            url: `${ownerUrl}${request.url}`,
            headers,
            ...(received.length ? { bodyDigest: contentDigest(received) } : {}),
          },
        });
        response
          .writeHead(verdict.valid ? 200 : 401, { 'content-type': 'application/json' })
          .end(JSON.stringify(verdict));
      });
    });
    await new Promise<void>((done) => owner.listen(0, '127.0.0.1', done));
    ownerUrl = `http://127.0.0.1:${(owner.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    owner.close();
    await kw.close();
  });

  it('issues a signing secret once, accepts signed requests, and refuses unsigned, tampered, stale and replayed ones', async () => {
    const created = await kw.client.keys.create({
      name: 'crm exporter',
      scopes: ['contacts:*'],
      signedScopes: ['contacts:export'],
    });
    expect(created.signingSecret).toMatch(/^kw_sig_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ signedScopes: ['contacts:export'], requireSignature: false });
    expect(JSON.stringify(await kw.client.keys.get(created.id))).not.toContain(created.signingSecret);
    const credentials = { keyId: created.id, signingSecret: created.signingSecret! };

    // Unsigned: fine for ordinary scopes, not for a signed one.
    expect((await kw.client.verify({ key: created.key, scopes: ['contacts:read'] })).code).toBe('VALID');
    expect((await kw.client.verify({ key: created.key, scopes: ['contacts:export'] })).code).toBe('SIGNATURE_REQUIRED');

    // Signed with the SDK interceptor, body and query included, the key itself never sent.
    verifyAs.key = undefined;
    const api = axios.create({ baseURL: ownerUrl, validateStatus: () => true });
    api.interceptors.request.use(signRequest(credentials));
    const signed = await api.post(
      '/contacts/export',
      { since: '2026-01-01', fields: ['email'] },
      { params: { format: 'csv' } },
    );
    expect(signed.data).toMatchObject({ valid: true, code: 'VALID', keyId: created.id });
    expect((await api.get('/contacts/export?format=json')).data.code).toBe('VALID');

    // With the key too, and the scope a signed request unlocks.
    verifyAs.key = created.key;
    expect((await api.post('/contacts/export', { since: '2026-02-01' })).data.code).toBe('VALID');

    // A body changed on the way no longer matches the signed Content-Digest.
    verifyAs.tamper = true;
    expect((await api.post('/contacts/export', { since: '2026-03-01' })).data.code).toBe('SIGNATURE_INVALID');
    verifyAs.tamper = false;

    // The same signed request twice: the second is a replay.
    const body = JSON.stringify({ since: '2026-04-01' });
    const headers = signatureHeaders({ method: 'POST', url: `${ownerUrl}/contacts/export`, body }, credentials);
    const send = () =>
      fetch(`${ownerUrl}/contacts/export`, { method: 'POST', body, headers }).then(
        (response) => response.json() as Promise<{ code: string }>,
      );
    expect((await send()).code).toBe('VALID');
    expect((await send()).code).toBe('REPLAYED');

    // Made more than 300 s ago (or ahead), it is stale.
    const stale = signatureHeaders({ method: 'POST', url: `${ownerUrl}/contacts/export`, body }, credentials, {
      now: Date.now() - 400_000,
    });
    expect(
      (
        (await fetch(`${ownerUrl}/contacts/export`, { method: 'POST', body, headers: stale }).then((response) =>
          response.json(),
        )) as { code: string }
      ).code,
    ).toBe('SIGNATURE_EXPIRED');

    // Signed with the wrong secret, or for another URL.
    const forged = signatureHeaders(
      { method: 'POST', url: `${ownerUrl}/contacts/export`, body },
      { keyId: created.id, signingSecret: `kw_sig_${'A'.repeat(43)}` },
    );
    expect(
      (
        (await fetch(`${ownerUrl}/contacts/export`, { method: 'POST', body, headers: forged }).then((response) =>
          response.json(),
        )) as { code: string }
      ).code,
    ).toBe('SIGNATURE_INVALID');
    const elsewhere = signatureHeaders({ method: 'POST', url: `${ownerUrl}/contacts/import`, body }, credentials);
    expect(
      (
        (await fetch(`${ownerUrl}/contacts/export`, { method: 'POST', body, headers: elsewhere }).then((response) =>
          response.json(),
        )) as { code: string }
      ).code,
    ).toBe('SIGNATURE_INVALID');
  });

  it('requireSignature refuses every unsigned request, and a rotation issues a new signing secret', async () => {
    const created = await kw.client.keys.create({
      name: 'payouts',
      scopes: ['payouts:create'],
      requireSignature: true,
    });
    expect((await kw.client.verify({ key: created.key, scopes: ['payouts:create'] })).code).toBe('SIGNATURE_REQUIRED');
    const rotated = await kw.client.keys.rotate(created.id, { gracePeriodSeconds: 60 });
    expect(rotated.signingSecret).toMatch(/^kw_sig_/);
    expect(rotated.signingSecret).not.toBe(created.signingSecret);
    expect(rotated).toMatchObject({ requireSignature: true });
    const url = 'https://api.example.com/payouts';
    const request = (credentials: { keyId: string; signingSecret: string }) => {
      const headers = signatureHeaders({ method: 'GET', url }, credentials);
      return { method: 'GET', url, headers };
    };
    expect(
      (await kw.client.verify({ request: request({ keyId: rotated.id, signingSecret: rotated.signingSecret! }) })).code,
    ).toBe('VALID');
    // The old key, retiring, still signs with its own secret; not with its successor's.
    expect(
      (await kw.client.verify({ request: request({ keyId: created.id, signingSecret: created.signingSecret! }) })).code,
    ).toBe('VALID');
    expect(
      (await kw.client.verify({ request: request({ keyId: created.id, signingSecret: rotated.signingSecret! }) })).code,
    ).toBe('SIGNATURE_INVALID');
  });

  it('turning signing on later hands out the secret once, in that PATCH answer', async () => {
    const plain = await kw.client.keys.create({ name: 'reports', scopes: ['reports:read'] });
    expect(plain.signingSecret).toBeNull();
    const updated = await kw.client.keys.update(plain.id, { signedScopes: ['reports:read'] });
    expect(updated.signingSecret).toMatch(/^kw_sig_/);
    const again = await kw.client.keys.update(plain.id, { name: 'reports v2' });
    expect(again.signingSecret).toBeUndefined();
    const url = 'https://api.example.com/reports';
    const headers = signatureHeaders(
      { method: 'GET', url },
      { keyId: plain.id, signingSecret: updated.signingSecret! },
    );
    expect(
      (await kw.client.verify({ key: plain.key, scopes: ['reports:read'], request: { method: 'GET', url, headers } }))
        .code,
    ).toBe('VALID');
  });

  it('rejects a verify body with neither key nor signed request, naming the field; a keyless request without a key id is MALFORMED', async () => {
    const missing = await raw(kw.url, 'POST', '/v1/verify', { rootKey: kw.rootKey, body: { scopes: ['a:read'] } });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('key');
    const garbage = await kw.client.verify({
      request: {
        method: 'GET',
        url: 'https://x.example/',
        headers: { 'signature-input': 'garbage(((', signature: 'x' },
      },
    });
    expect(garbage.code).toBe('MALFORMED');
  });

  it('never writes a signing secret or key to the log or the audit log', async () => {
    const created = await kw.client.keys.create({ name: 'audited', requireSignature: true });
    const audit: string[] = [];
    for await (const entry of kw.client.audit.list({ keyId: created.id })) audit.push(JSON.stringify(entry));
    expect(audit.length).toBeGreaterThan(0);
    for (const text of [...audit, ...kw.logLines]) {
      expect(text).not.toContain(created.signingSecret!);
      expect(text).not.toContain(created.key);
    }
  });
});
