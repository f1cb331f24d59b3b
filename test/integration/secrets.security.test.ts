import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signatureHeaders } from '../../sdk';
import { raw, startTestServer, type TestServer } from '../support/harness';
import { withWrongChecksum } from '../support/keys';

/*
 * A full run with logging at its most verbose, collecting every secret it handles (keys, root
 * keys, signing secrets, the pepper and the master key) and every byte the server writes about
 * itself (log lines, audit entries, metrics, error answers, the call log). None may contain a secret.
 */
describe('no secret in logs, errors, audit entries or metrics', () => {
  let kw: TestServer;
  beforeAll(async () => {
    kw = await startTestServer({ logLevel: 'trace' });
  });
  afterAll(() => kw.close());

  it('holds for a run that exercises every path a secret travels', async () => {
    const secrets: string[] = [
      kw.rootKey,
      readFileSync(join(kw.dataDir, 'pepper'), 'utf8').trim(),
      readFileSync(join(kw.dataDir, 'master-key'), 'utf8').trim(),
    ];
    const answers: string[] = [];
    const keep = (response: { body: unknown }) => answers.push(JSON.stringify(response.body));

    const plain = await kw.client.keys.create(
      { name: 'plain', scopes: ['contacts:read'], ipAllowlist: ['10.0.0.0/8'] },
      { idempotencyKey: 'leak-test-create-1' },
    );
    const replayed = await kw.client.keys.create(
      { name: 'plain', scopes: ['contacts:read'], ipAllowlist: ['10.0.0.0/8'] },
      { idempotencyKey: 'leak-test-create-1' },
    );
    expect(replayed.key).toBe(plain.key);
    const signing = await kw.client.keys.create({
      name: 'signing',
      scopes: ['contacts:*'],
      signedScopes: ['contacts:export'],
    });
    const root = await kw.client.rootKeys.create({ name: 'ci', scopes: ['keys:read', 'verify'] });
    secrets.push(plain.key, signing.key, signing.signingSecret!, root.key);

    // Verifications of every kind, with the key in the body.
    for (const ip of ['10.1.2.3', '192.0.2.1', undefined])
      await kw.client.verify({ key: plain.key, scopes: ['contacts:read'], ...(ip ? { ip } : {}) });
    await kw.client.verify({ key: withWrongChecksum(plain.key) });
    await kw.client.verify({ key: signing.key, scopes: ['contacts:export'] });
    const url = 'https://api.example.com/contacts/export';
    const headers = signatureHeaders(
      { method: 'POST', url, body: '{}' },
      { keyId: signing.id, signingSecret: signing.signingSecret! },
    );
    await kw.client.verify({
      key: signing.key,
      scopes: ['contacts:export'],
      request: { method: 'POST', url, headers, bodyDigest: headers['content-digest'] },
    });
    await kw.client.verify({
      key: signing.key,
      scopes: ['contacts:export'],
      request: { method: 'POST', url, headers, bodyDigest: headers['content-digest'] },
    });

    // Rotation, updates, revocation; each answer that carries a new secret is collected too.
    const rotated = await kw.client.keys.rotate(signing.id, { gracePeriodSeconds: 30 });
    secrets.push(rotated.key, rotated.signingSecret!);
    const rotatedRoot = await kw.client.rootKeys.rotate(root.id, { gracePeriodSeconds: 0 });
    secrets.push(rotatedRoot.key);
    await kw.client.keys.update(plain.id, { scopes: ['contacts:read', 'email:send'], metadata: { note: 'updated' } });
    await kw.client.keys.revoke(plain.id);
    await kw.client.verify({ key: plain.key });

    // Bad input and bad credentials, with secrets where they do not belong.
    keep(
      await raw(kw.url, 'POST', '/v1/keys', {
        rootKey: kw.rootKey,
        body: { name: plain.key, scopes: [signing.signingSecret], metadata: { leaked: root.key } },
      }),
    );
    keep(
      await raw(kw.url, 'POST', '/v1/verify', {
        rootKey: kw.rootKey,
        body: { key: plain.key, ip: signing.signingSecret },
      }),
    );
    keep(await raw(kw.url, 'GET', '/v1/keys', { rootKey: root.key }));
    keep(await raw(kw.url, 'GET', '/v1/keys', { rootKey: `${kw.rootKey}x` }));
    keep(await raw(kw.url, 'GET', `/v1/keys/${encodeURIComponent(plain.key)}`, { rootKey: kw.rootKey }));
    keep(await raw(kw.url, 'GET', `/v1/keys?name=${encodeURIComponent(signing.key)}`, { rootKey: kw.rootKey }));
    keep(
      await raw(kw.url, 'POST', '/v1/keys', {
        rootKey: kw.rootKey,
        rawBody: `{"name": "${rotated.key}"`,
        headers: { 'content-type': 'application/json' },
      }),
    );
    keep(
      await raw(kw.url, 'GET', '/v1/keys', {
        headers: {
          authorization: `Basic ${Buffer.from(`user:${kw.rootKey}`).toString('base64')}`,
          'x-api-key': plain.key,
        },
      }),
    );

    await kw.server.flush();
    const audit: string[] = [];
    for await (const entry of kw.client.audit.list()) audit.push(JSON.stringify(entry));
    const calls: string[] = [];
    for await (const call of kw.client.calls.list()) calls.push(JSON.stringify(call));
    const metrics = (await raw(kw.url, 'GET', '/metrics')).body as string;
    const keyViews: string[] = [];
    for await (const key of kw.client.keys.list()) keyViews.push(JSON.stringify(key));

    // At trace every request is logged: fastify's two lines per request, the verify lane's one.
    expect(kw.logLines.length).toBeGreaterThan(40);
    expect(audit.length).toBeGreaterThan(5);
    const haystacks = {
      logs: kw.logLines.join('\n'),
      audit: audit.join('\n'),
      calls: calls.join('\n'),
      metrics,
      answers: answers.join('\n'),
      keyViews: keyViews.join('\n'),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      secrets.forEach((secret, index) => {
        // The secret part of each secret (all but a key's display prefix); a hit shows its context, masked.
        const body = secret.replace(/^kw_(live|test|root|sig)_/, '').slice(4, 40);
        const at = text.indexOf(body);
        const context = at < 0 ? null : text.slice(Math.max(0, at - 120), at + 60).replace(body, '<SECRET>');
        expect({ where, secret: index, context }).toEqual({ where, secret: index, context: null });
      });
    }
  });
});
