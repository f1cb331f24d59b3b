import { raw, startTestServer, type TestServer } from '../support/harness';

/* Bad input gets a 4xx naming the field and the reason; never a 500, and nothing stored is lost. */
describe('keys API: bad input and wrong states', () => {
  let t: TestServer;
  let existing: { id: string; key: string };
  beforeAll(async () => {
    t = await startTestServer();
    existing = await t.client.keys.create({ name: 'survivor', scopes: ['contacts:read'] });
  });
  afterAll(async () => t.close());
  afterEach(async () => {
    // Whatever the bad request was, the stored key is untouched and still verifies.
    expect((await t.client.verify({ key: existing.key, scopes: ['contacts:read'] })).code).toBe('VALID');
  });

  const post = (body: unknown, path = '/v1/keys') => raw(t.url, 'POST', path, { rootKey: t.rootKey, body });

  it.each([
    ['body.name', { scopes: ['a:b'] }],
    ['body.scopes.0', { name: 'x', scopes: ['no spaces:allowed'] }],
    ['body.scopes', { name: 'x', scopes: 'contacts:read' }],
    ['body.ipAllowlist.0', { name: 'x', ipAllowlist: ['10.0.0.0/33'] }],
    ['body.ipAllowlist.0', { name: 'x', ipAllowlist: ['fe80::/129'] }],
    ['body.expiresAt', { name: 'x', expiresAt: 'tomorrow' }],
    ['body.expiresAt', { name: 'x', expiresAt: '2001-01-01T00:00:00Z' }],
    ['body.rateLimit.limit', { name: 'x', rateLimit: { limit: 0, windowSeconds: 60 } }],
    ['body.rateLimit.windowSeconds', { name: 'x', rateLimit: { limit: 5 } }],
    ['body.maxAgeDays', { name: 'x', maxAgeDays: -1 }],
    ['body.metadata', { name: 'x', metadata: { blob: 'x'.repeat(5000) } }],
    ['body.metadata', { name: 'x', metadata: [1, 2] }],
    ['body.environment', { name: 'x', environment: 'prod' }],
    ['body.secret', { name: 'x', secret: 'mine' }],
  ])('rejects a create body with a bad %s', async (field, body) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('KW_ERR_VALIDATION');
    expect(response.body.error.requestId).toBe(response.headers.get('x-request-id'));
    expect(response.body.error.issues.map((issue: { path: string }) => issue.path)).toContain(field);
  });

  it('rejects malformed JSON, a non-object body, a wrong content type and an oversized body', async () => {
    expect(
      (
        await raw(t.url, 'POST', '/v1/keys', {
          rootKey: t.rootKey,
          rawBody: '{"name":',
          headers: { 'content-type': 'application/json' },
        })
      ).body.error.code,
    ).toBe('KW_ERR_BAD_JSON');
    expect((await post([1, 2])).status).toBe(400);
    expect((await post(null)).status).toBe(400);
    const form = await raw(t.url, 'POST', '/v1/keys', {
      rootKey: t.rootKey,
      rawBody: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    const huge = await post({ name: 'x', description: 'y'.repeat(70_000) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('KW_ERR_BODY_TOO_LARGE');
  });

  it('rejects bad query strings, cursors and ids with 400/404, never 500', async () => {
    const get = (path: string) => raw(t.url, 'GET', path, { rootKey: t.rootKey });
    expect((await get('/v1/keys?limit=0')).body.error.issues[0].path).toBe('querystring.limit');
    expect((await get('/v1/keys?status=dead')).body.error.issues[0].path).toBe('querystring.status');
    expect((await get('/v1/keys?cursor=garbage')).body.error.issues[0].path).toBe('querystring.cursor');
    expect((await get('/v1/keys?rotationDue=maybe')).status).toBe(400);
    expect((await get('/v1/keys?bogus=1')).status).toBe(400);
    expect((await get('/v1/calls?since=yesterday')).status).toBe(400);
    expect((await get('/v1/calls?cursor=WzFd')).status).toBe(400);
    expect((await get('/v1/audit?cursor=-1')).status).toBe(400);
    expect((await get('/v1/keys/key_doesnotexist')).status).toBe(404);
    expect((await get('/v1/keys/%00%ff')).status).toBeLessThan(500);
    expect((await get(`/v1/keys/${'x'.repeat(200)}`)).status).toBe(400);
    expect((await get('/v1/nothing-here')).body.error.code).toBe('KW_ERR_ROUTE_NOT_FOUND');
  });

  it('rejects an empty PATCH and unknown PATCH fields', async () => {
    const empty = await raw(t.url, 'PATCH', `/v1/keys/${existing.id}`, { rootKey: t.rootKey, body: {} });
    expect(empty.status).toBe(400);
    const unknown = await raw(t.url, 'PATCH', `/v1/keys/${existing.id}`, {
      rootKey: t.rootKey,
      body: { key: 'kw_live_x' },
    });
    expect(unknown.body.error.issues[0].path).toBe('body.key');
    const badIfMatch = await raw(t.url, 'PATCH', `/v1/keys/${existing.id}`, {
      rootKey: t.rootKey,
      body: { name: 'x' },
      headers: { 'if-match': 'abc' },
    });
    expect(badIfMatch.body.error.issues[0].path).toBe('headers.if-match');
  });

  it('answers 409 for transitions a key cannot make', async () => {
    const key = await t.client.keys.create({ name: 'stateful' });
    await t.client.keys.rotate(key.id, { gracePeriodSeconds: 60 });
    await expect(t.client.keys.rotate(key.id)).rejects.toMatchObject({ status: 409, code: 'KW_ERR_INVALID_STATE' });
    await t.client.keys.revoke(key.id);
    await expect(t.client.keys.update(key.id, { name: 'again' })).rejects.toMatchObject({ status: 409 });
    await expect(t.client.keys.suspend(key.id)).rejects.toMatchObject({ status: 409 });
    const rotateBad = await raw(t.url, 'POST', `/v1/keys/${existing.id}/rotate`, {
      rootKey: t.rootKey,
      body: { gracePeriodSeconds: -5 },
    });
    expect(rotateBad.body.error.issues[0].path).toBe('body.gracePeriodSeconds');
    const retireBad = await raw(t.url, 'DELETE', `/v1/keys/${existing.id}?gracePeriodSeconds=soon`, {
      rootKey: t.rootKey,
    });
    expect(retireBad.body.error.issues[0].path).toBe('querystring.gracePeriodSeconds');
  });

  it('rejects malformed verify requests with 400, but answers unknown keys with 200', async () => {
    const verify = (body: unknown) => raw(t.url, 'POST', '/v1/verify', { rootKey: t.rootKey, body });
    expect((await verify({})).body.error.issues[0].path).toBe('body.key');
    expect((await verify({ key: 'x', ip: 'not-an-ip' })).body.error.issues[0].path).toBe('body.ip');
    expect((await verify({ key: 'x', scopes: ['contacts:*'] })).body.error.issues[0].path).toBe('body.scopes.0');
    expect((await verify({ key: 'x'.repeat(600) })).status).toBe(400);
    const unknown = await verify({ key: 'whatever' });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ valid: false, code: 'MALFORMED' });
  });
});
