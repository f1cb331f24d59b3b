import { Webhook } from 'standardwebhooks';
import { generateKey } from '../../server/keys/format';
import { githubSigner, keysDocument, match, sendAlert } from '../support/github';
import { raw, startTestServer, type TestServer } from '../support/harness';
import { LOCAL_RECEIVER_SETTINGS, type Receiver, startReceiver } from '../support/receiver';

/*
 * keyward is a GitHub secret-scanning partner: GitHub finds keys in public repositories and POSTs
 * them, signed, to /v1/leaks/github. A key keyward issued is labelled true_positive and the
 * workspace's leak policy acts on it at once; anything else is a false_positive and changes nothing.
 * The test plays GitHub with its own P-256 key pair, served to keyward as inline JSON.
 */
describe('GitHub secret scanning: a key found in public', () => {
  const github = githubSigner('a1b2c3d4e5f6');
  const sentTokens: string[] = [];
  let t: TestServer;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestServer({ ...LOCAL_RECEIVER_SETTINGS, githubScanningKeys: keysDocument(github) });
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  const api = (method: string, path: string, body?: unknown) => raw(t.url, method, path, { rootKey: t.rootKey, body });
  const alert = (...matches: ReturnType<typeof match>[]) => {
    sentTokens.push(...matches.map((item) => item.token));
    return sendAlert(t.url, JSON.stringify(matches), github);
  };
  const leakEntries = async (keyId: string) =>
    (await api('GET', `/v1/audit?keyId=${keyId}&limit=500`)).body.items.filter((entry: { action: string }) =>
      entry.action.endsWith('.leak'),
    );
  const setPolicy = async (leakPolicy: string) =>
    expect((await api('PATCH', '/v1/settings', { leakPolicy })).status).toBe(200);

  it('suspends the key at once, answers true_positive, audits where it was found, and resume undoes it', async () => {
    const key = await t.client.keys.create({ name: 'pushed by mistake', scopes: ['contacts:read'] });
    // Cached as valid first: the suspension must reach the verify cache, not wait for it to expire.
    expect((await t.client.verify({ key: key.key })).code).toBe('VALID');

    const url = 'https://github.com/octo/app/blob/9f2c1e0/config/.env';
    const answer = await alert(match(key.key, url, 'content'));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual([{ token_raw: key.key, token_type: 'keyward_api_key', label: 'true_positive' }]);

    expect((await t.client.verify({ key: key.key })).code).toBe('SUSPENDED');
    expect((await t.client.keys.get(key.id)).status).toBe('suspended');
    const [entry, ...more] = await leakEntries(key.id);
    expect(more).toHaveLength(0);
    expect(entry).toMatchObject({
      action: 'key.leak',
      targetKeyId: key.id,
      actorKeyId: null,
      changes: {
        leak: { reporter: 'github', url, source: 'content' },
        policy: 'suspend',
        status: { from: 'active', to: 'suspended' },
      },
    });
    expect(JSON.stringify(entry)).not.toContain(key.key);
    expect((await t.client.audit.verify()).ok).toBe(true);

    await t.client.keys.resume(key.id);
    expect((await t.client.verify({ key: key.key })).code).toBe('VALID');
  });

  it('labels a look-alike, a bad checksum and a key keyward never issued false_positive, in order, and acts on none', async () => {
    const real = await t.client.keys.create({ name: 'the real one' });
    const bystander = await t.client.keys.create({ name: 'bystander' });
    const typo = `${bystander.key.slice(0, 20)}${bystander.key[20] === 'a' ? 'b' : 'a'}${bystander.key.slice(21)}`;
    const neverIssued = generateKey('live');
    const tokens = [`kw_live_${'A'.repeat(49)}`, typo, real.key, neverIssued, 'kw_live_short'];
    const answer = await alert(...tokens.map((token) => match(token)));
    expect(answer.status).toBe(200);
    expect(answer.body.map((item: { token_raw: string; label: string }) => [item.token_raw, item.label])).toEqual([
      [tokens[0], 'false_positive'],
      [typo, 'false_positive'],
      [real.key, 'true_positive'],
      [neverIssued, 'false_positive'],
      ['kw_live_short', 'false_positive'],
    ]);
    expect((await t.client.keys.get(real.id)).status).toBe('suspended');
    expect((await t.client.keys.get(bystander.id)).status).toBe('active');
    expect(await leakEntries(bystander.id)).toHaveLength(0);
  });

  it('applies each leak policy: suspend (the default), revoke, notify', async () => {
    const outcomes: Record<string, { status: string; code: string; entry: Record<string, unknown> }> = {};
    for (const policy of ['suspend', 'revoke', 'notify']) {
      await setPolicy(policy);
      const key = await t.client.keys.create({ name: `policy ${policy}` });
      const answer = await alert(match(key.key, `https://github.com/octo/${policy}/blob/1/app.js`, 'commit'));
      expect(answer.body[0].label).toBe('true_positive');
      const [entry] = await leakEntries(key.id);
      outcomes[policy] = {
        status: (await t.client.keys.get(key.id)).status,
        code: (await t.client.verify({ key: key.key })).code,
        entry,
      };
    }
    await setPolicy('suspend');
    expect(outcomes.suspend).toMatchObject({ status: 'suspended', code: 'SUSPENDED' });
    expect(outcomes.revoke).toMatchObject({ status: 'revoked', code: 'REVOKED' });
    expect(outcomes.notify).toMatchObject({ status: 'active', code: 'VALID' });
    expect(outcomes.revoke!.entry).toMatchObject({
      changes: { policy: 'revoke', status: { from: 'active', to: 'revoked' } },
    });
    // notify: the audit entry and the event, and nothing else.
    expect(outcomes.notify!.entry).toMatchObject({
      changes: { policy: 'notify', status: { from: 'active', to: 'active' } },
    });
  });

  it('suspends a root key found in public too (token type keyward_root_key); another root key resumes it', async () => {
    const admin = await t.client.rootKeys.create({ name: 'ci admin', scopes: ['keys:read'] });
    expect((await raw(t.url, 'GET', '/v1/keys', { rootKey: admin.key })).status).toBe(200);
    const answer = await alert(match(admin.key, 'https://github.com/octo/ci/blob/7/deploy.sh', 'content'));
    expect(answer.body).toEqual([{ token_raw: admin.key, token_type: 'keyward_root_key', label: 'true_positive' }]);
    const refused = await raw(t.url, 'GET', '/v1/keys', { rootKey: admin.key });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toContain('suspended');
    const [entry] = await leakEntries(admin.id);
    expect(entry).toMatchObject({ action: 'root_key.leak', changes: { status: { to: 'suspended' } } });
    await t.client.rootKeys.resume(admin.id);
    expect((await raw(t.url, 'GET', '/v1/keys', { rootKey: admin.key })).status).toBe(200);
  });

  it('delivers a signed key.leaked event to a real receiver, with where and what was done, never the key', async () => {
    const hook = await api('POST', '/v1/webhooks', { url: `${receiver.url}/leaks`, eventTypes: ['key.leaked'] });
    expect(hook.status).toBe(201);
    const key = await t.client.keys.create({ name: 'leaked and announced', scopes: ['billing:read'] });
    receiver.received.length = 0;
    const url = 'https://github.com/octo/app/issues/12#issuecomment-1';
    await alert(match(key.key, url, 'issue_comment'));

    expect(await t.server.dispatch()).toBe(1);
    const [delivery] = receiver.received;
    expect(delivery!.path).toBe('/leaks');
    const event = new Webhook(hook.body.secret).verify(delivery!.body, {
      'webhook-id': String(delivery!.headers['webhook-id']),
      'webhook-timestamp': String(delivery!.headers['webhook-timestamp']),
      'webhook-signature': String(delivery!.headers['webhook-signature']),
    }) as { type: string; data: Record<string, unknown> };
    expect(event.type).toBe('key.leaked');
    expect(event.data).toMatchObject({
      key: { id: key.id, start: key.start, kind: 'api', status: 'suspended', scopes: ['billing:read'] },
      leak: { reporter: 'github', url, source: 'issue_comment' },
      action: 'suspend',
      previousStatus: 'active',
      actor: { rootKeyId: null },
    });
    expect(delivery!.body).not.toContain(key.key);
    await api('DELETE', `/v1/webhooks/${hook.body.id}`);
  });

  it('documents both routes in the OpenAPI document, the GitHub one without a root key', async () => {
    const { body: openapi } = await raw(t.url, 'GET', '/openapi.json');
    expect(openapi.paths['/v1/leaks'].post.requestBody).toBeDefined();
    expect(openapi.paths['/v1/leaks/github'].post.security).toEqual([]);
    expect(openapi.components.schemas).toHaveProperty('GithubSecretScanningFeedback');
  });

  it('keeps every token out of the log, and logs each alert as counts', async () => {
    const log = t.logLines.join('');
    expect(sentTokens.length).toBeGreaterThan(5);
    for (const token of sentTokens.filter((item) => item.length > 20)) expect(log).not.toContain(token);
    const answered = t.logLines.filter((line) => line.includes('GitHub secret-scanning alert answered'));
    expect(answered.length).toBeGreaterThan(0);
    expect(JSON.parse(answered[1]!)).toMatchObject({ matches: 5, truePositives: 1, recorded: 1 });
  });
});
