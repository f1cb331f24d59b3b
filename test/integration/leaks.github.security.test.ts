import { githubSigner, keysDocument, match, sendAlert } from '../support/github';
import { raw, startTestServer, type TestServer } from '../support/harness';

/*
 * /v1/leaks/github takes no root key: GitHub's signature is its only credential. Anyone can POST
 * to it, so whatever is not signed by GitHub's key over the exact bytes sent gets a 401 and
 * changes nothing, and a signed alert sent again (GitHub signs no timestamp) acts only once.
 */
describe('GitHub secret scanning: only a signed alert acts, and only once', () => {
  const github = githubSigner('9f8e7d6c5b4a');
  const impostor = githubSigner('9f8e7d6c5b4a');
  let t: TestServer;
  let key: { id: string; key: string };
  beforeAll(async () => {
    t = await startTestServer({ githubScanningKeys: keysDocument(github) });
    key = await t.client.keys.create({ name: 'must stay active' });
  });
  afterAll(() => t.close());

  const api = (method: string, path: string, body?: unknown) => raw(t.url, method, path, { rootKey: t.rootKey, body });
  const auditSize = async () => (await api('GET', '/v1/audit?limit=500')).body.items.length as number;
  const leakedEvents = async (keyId: string) =>
    (await t.server.store.db.selectFrom('events').select('payload').where('type', '=', 'key.leaked').execute()).filter(
      (row) => String(row.payload).includes(keyId),
    ).length;
  const body = JSON.stringify([match('PLACEHOLDER')]);
  const alertFor = (token: string, url?: string) => JSON.stringify([match(token, url)]);

  it('refuses, with 401 and no change, every alert GitHub did not sign over these exact bytes', async () => {
    const before = await auditSize();
    const signed = alertFor(key.key);
    const cases: [string, Promise<Awaited<ReturnType<typeof raw>>>][] = [
      ['no signature headers', sendAlert(t.url, signed, null)],
      [
        'an identifier and no signature',
        sendAlert(t.url, signed, null, { 'github-public-key-identifier': github.identifier }),
      ],
      [
        'a signature and no identifier',
        sendAlert(t.url, signed, null, { 'github-public-key-signature': github.sign(signed) }),
      ],
      [
        'a signature that is not base64',
        sendAlert(t.url, signed, null, {
          'github-public-key-identifier': github.identifier,
          'github-public-key-signature': 'not base64 at all!',
        }),
      ],
      [
        'a key identifier GitHub never published',
        sendAlert(t.url, signed, null, {
          'github-public-key-identifier': 'deadbeef',
          'github-public-key-signature': github.sign(signed),
        }),
      ],
      ['the right identifier, signed with another key', sendAlert(t.url, signed, impostor)],
      [
        'a body changed after signing',
        sendAlert(t.url, signed, null, {
          'github-public-key-identifier': github.identifier,
          'github-public-key-signature': github.sign(alertFor(key.key, 'https://example.com/elsewhere')),
        }),
      ],
      [
        'the same JSON re-serialised with other spacing',
        sendAlert(t.url, JSON.stringify(JSON.parse(signed), null, 2), null, {
          'github-public-key-identifier': github.identifier,
          'github-public-key-signature': github.sign(signed),
        }),
      ],
      [
        'a signature of another body',
        sendAlert(t.url, signed, null, {
          'github-public-key-identifier': github.identifier,
          'github-public-key-signature': github.sign(body),
        }),
      ],
      ['an unsigned body that is not even JSON', sendAlert(t.url, '{not json', null)],
      ['an unsigned array of junk', sendAlert(t.url, JSON.stringify([{ nope: 1 }]), null)],
      ['an empty unsigned body', raw(t.url, 'POST', '/v1/leaks/github')],
    ];
    for (const [what, pending] of cases) {
      const answer = await pending;
      expect({ what, status: answer.status, code: answer.body?.error?.code }).toEqual({
        what,
        status: 401,
        code: 'KW_ERR_UNAUTHENTICATED',
      });
      expect(JSON.stringify(answer.body)).not.toContain(key.key);
    }
    expect((await t.client.keys.get(key.id)).status).toBe('active');
    expect((await t.client.verify({ key: key.key })).code).toBe('VALID');
    expect(await auditSize()).toBe(before);
    expect(await leakedEvents(key.id)).toBe(0);
  });

  it('takes no root key instead of a signature', async () => {
    const answer = await raw(t.url, 'POST', '/v1/leaks/github', { rootKey: t.rootKey, body: [match(key.key)] });
    expect(answer.status).toBe(401);
    expect((await t.client.keys.get(key.id)).status).toBe('active');
  });

  it('answers a signed but malformed alert with a 400 naming the field, and acts on nothing in it', async () => {
    const send = (text: string) => sendAlert(t.url, text, github);
    const badJson = await send('[{"token": ');
    expect([badJson.status, badJson.body.error.code]).toEqual([400, 'KW_ERR_BAD_JSON']);
    const notArray = await send(JSON.stringify({ token: key.key }));
    expect(notArray.status).toBe(400);
    expect(notArray.body.error.issues[0].path).toBe('body');
    const noToken = await send(JSON.stringify([match(key.key), { type: 'keyward_api_key', url: '' }]));
    expect(noToken.status).toBe(400);
    expect(noToken.body.error.issues.map((issue: { path: string }) => issue.path)).toEqual(['body.1.token']);
    const tooMany = await send(JSON.stringify(Array.from({ length: 1001 }, () => match(key.key))));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain('1000');
    for (const answer of [badJson, notArray, noToken, tooMany])
      expect(JSON.stringify(answer.body)).not.toContain(key.key);
    expect((await t.client.keys.get(key.id)).status).toBe('active');
  });

  it('refuses a body over the size limit with a 413, before reading it', async () => {
    const huge = JSON.stringify([{ ...match(key.key), url: `https://github.com/${'a'.repeat(3 * 1024 * 1024)}` }]);
    const answer = await sendAlert(t.url, huge, github);
    expect([answer.status, answer.body.error.code]).toEqual([413, 'KW_ERR_BODY_TOO_LARGE']);
  });

  it('acts once on a replayed alert: same labels, one audit entry, one event; the owner resuming is not undone', async () => {
    const target = await t.client.keys.create({ name: 'replayed' });
    const alert = alertFor(target.key, 'https://github.com/octo/app/blob/1/.env');
    const first = await sendAlert(t.url, alert, github);
    expect(first.body[0].label).toBe('true_positive');
    expect((await t.client.keys.get(target.id)).status).toBe('suspended');

    await t.client.keys.resume(target.id);
    const replay = await sendAlert(t.url, alert, github);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    // Already handled: the owner's decision to resume stands.
    expect((await t.client.keys.get(target.id)).status).toBe('active');
    const entries = (await api('GET', `/v1/audit?keyId=${target.id}&action=key.leak`)).body.items;
    expect(entries).toHaveLength(1);
    expect(await leakedEvents(target.id)).toBe(1);

    // The same key found somewhere new is a new report: the policy acts again.
    await sendAlert(t.url, alertFor(target.key, 'https://github.com/octo/fork/blob/2/.env'), github);
    expect((await t.client.keys.get(target.id)).status).toBe('suspended');
    expect((await api('GET', `/v1/audit?keyId=${target.id}&action=key.leak`)).body.items).toHaveLength(2);
    expect(await leakedEvents(target.id)).toBe(2);
  });

  it('acts once when the same alert arrives many times at once', async () => {
    const target = await t.client.keys.create({ name: 'raced' });
    const alert = alertFor(target.key, 'https://github.com/octo/race/blob/1/.env');
    const answers = await Promise.all(Array.from({ length: 6 }, () => sendAlert(t.url, alert, github)));
    for (const answer of answers) expect(answer.body).toEqual([expect.objectContaining({ label: 'true_positive' })]);
    expect((await api('GET', `/v1/audit?keyId=${target.id}&action=key.leak`)).body.items).toHaveLength(1);
    expect(await leakedEvents(target.id)).toBe(1);
    expect((await t.client.audit.verify()).ok).toBe(true);
  });

  it('keeps its raw-body parser to itself: every other route still reads JSON only', async () => {
    const text = await raw(t.url, 'POST', '/v1/keys', {
      rootKey: t.rootKey,
      rawBody: 'name=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect([text.status, text.body.error.code]).toEqual([415, 'KW_ERR_UNSUPPORTED_MEDIA_TYPE']);
    expect((await api('POST', '/v1/keys', { name: 'json still works' })).status).toBe(201);
  });
});
