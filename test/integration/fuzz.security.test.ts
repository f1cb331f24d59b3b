import fc from 'fast-check';
import { raw, startTestServer, type TestServer } from '../support/harness';

/*
 * Random and malformed input on every route: bodies, query strings and headers. Whatever arrives,
 * the answer is a 2xx or a 4xx with an error code, never a 500, the server keeps serving, and the
 * keys already stored are all still there, unchanged.
 */
describe('malformed input never breaks the server or loses data', () => {
  let kw: TestServer;
  let existing: { id: string; key: string };
  beforeAll(async () => {
    kw = await startTestServer();
    existing = await kw.client.keys.create({ name: 'must survive', scopes: ['a:read'], ipAllowlist: ['10.0.0.0/8'] });
  });
  afterAll(() => kw.close());

  const json = fc.jsonValue({ maxDepth: 3 });
  const fieldish = fc.record(
    {
      name: fc.oneof(fc.string({ maxLength: 300 }), json),
      scopes: fc.oneof(fc.array(fc.string({ maxLength: 40 }), { maxLength: 5 }), json),
      ipAllowlist: fc.oneof(fc.array(fc.string({ maxLength: 40 }), { maxLength: 5 }), json),
      expiresAt: fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
        json,
      ),
      metadata: json,
      rateLimit: json,
      maxAgeDays: json,
      signedScopes: json,
      requireSignature: json,
      key: fc.oneof(fc.string({ maxLength: 80 }), json),
      ip: fc.oneof(fc.string({ maxLength: 50 }), json),
      request: json,
      gracePeriodSeconds: json,
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(fieldish, json);
  const path = fc.constantFrom(
    '/v1/keys',
    '/v1/root-keys',
    '/v1/verify',
    '/v1/workspaces',
    `/v1/keys/KEY`,
    `/v1/keys/KEY/rotate`,
    `/v1/keys/KEY/suspend`,
    '/v1/audit',
    '/v1/calls',
    '/v1/leaks',
    '/v1/leaks/github',
    '/v1/keys/key_%00%ff',
    '/v1/keys/..%2f..%2f',
  );
  const method = fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT');
  const query = fc.dictionary(
    fc.constantFrom(
      'limit',
      'cursor',
      'status',
      'scope',
      'name',
      'rotationDue',
      'since',
      'code',
      'ip',
      'gracePeriodSeconds',
      'x',
    ),
    fc.string({ maxLength: 30 }),
    { maxKeys: 4 },
  );
  const headers = fc.dictionary(
    fc.constantFrom('if-match', 'idempotency-key', 'x-forwarded-for', 'x-request-id', 'content-type'),
    fc.stringMatching(/^[\x21-\x7e ]{0,60}$/),
    { maxKeys: 3 },
  );

  it('answers every random request with a 2xx or a coded 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        query,
        headers,
        fc.oneof(
          body.map((value) => ({ json: value })),
          fc.string({ maxLength: 200 }).map((text) => ({ text })),
        ),
        async (verb, route, params, extraHeaders, payload) => {
          const search = new URLSearchParams(params).toString();
          const target = `${route.replace('KEY', existing.id)}${search ? `?${search}` : ''}`;
          const withBody = verb !== 'GET' && verb !== 'DELETE';
          const response = await raw(kw.url, verb, target, {
            rootKey: kw.rootKey,
            headers: extraHeaders,
            ...(withBody ? ('json' in payload ? { body: payload.json } : { rawBody: payload.text }) : {}),
          });
          expect([response.status, response.status < 500]).toEqual([response.status, true]);
          if (response.status >= 400) expect(response.body?.error?.code).toMatch(/^KW_ERR_/);
        },
      ),
      { numRuns: 400 },
    );
    const survivor = await kw.client.keys.get(existing.id);
    expect(survivor).toMatchObject({ name: expect.any(String), id: existing.id });
    expect((await kw.client.verify({ key: existing.key, ip: '10.1.1.1' })).keyId).toBe(existing.id);
    expect((await raw(kw.url, 'GET', '/healthz')).status).toBe(200);
    expect((await kw.client.audit.verify()).ok).toBe(true);
  }, 120_000);
});
