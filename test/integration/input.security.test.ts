import fc from 'fast-check';
import { METADATA_MAX_DEPTH } from '../../schema';
import { raw, startTestServer, type TestServer } from '../support/harness';

/** `levels` arrays (or objects) nested inside each other around `leaf`. */
function nested(levels: number, kind: 'array' | 'object', leaf: unknown = 1): unknown {
  let value = leaf;
  for (let level = 0; level < levels; level += 1) value = kind === 'array' ? [value] : { n: value };
  return value;
}

/*
 * What a careless caller or an attacker sends: bodies nested thousands deep, keys pasted into field
 * names, paths, user agents and request ids. The server answers with a coded 4xx, never a 500,
 * and no key it was sent comes back in an answer, a log line, an audit entry or the call log.
 */
describe('hostile input: deep nesting and pasted keys', () => {
  let t: TestServer;
  let existing: { id: string; key: string };
  beforeAll(async () => {
    t = await startTestServer();
    existing = await t.client.keys.create({ name: 'bystander', scopes: ['contacts:read'] });
  });
  afterAll(() => t.close());

  it('answers 400 naming metadata and its depth limit for 2,000 arrays or 3,000 objects deep', async () => {
    for (const [method, path] of [
      ['POST', '/v1/keys'],
      ['PATCH', `/v1/keys/${existing.id}`],
      ['POST', '/v1/root-keys'],
    ] as const) {
      for (const metadata of [{ deep: nested(2000, 'array') }, nested(3000, 'object')]) {
        const body =
          method === 'POST'
            ? { name: 'deep', scopes: path.includes('root') ? ['keys:read'] : [], metadata }
            : { metadata };
        const answer = await raw(t.url, method, path, { rootKey: t.rootKey, body });
        expect([answer.status, answer.body.error.code]).toEqual([400, 'KW_ERR_VALIDATION']);
        expect(answer.body.error.issues).toEqual([
          { path: 'body.metadata', message: `must nest objects and arrays at most ${METADATA_MAX_DEPTH} levels deep` },
        ]);
      }
    }
    const kept = await t.client.keys.get(existing.id);
    expect(kept.metadata).toEqual({});
  });

  it('accepts metadata exactly at the depth limit and refuses one level more', async () => {
    const atLimit = nested(METADATA_MAX_DEPTH, 'object');
    const created = await raw(t.url, 'POST', '/v1/keys', {
      rootKey: t.rootKey,
      body: { name: 'at limit', metadata: atLimit },
    });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toEqual(atLimit);
    const beyond = await raw(t.url, 'POST', '/v1/keys', {
      rootKey: t.rootKey,
      body: { name: 'beyond', metadata: nested(METADATA_MAX_DEPTH + 1, 'object') },
    });
    expect(beyond.status).toBe(400);
  });

  it('never answers 5xx to deep or wide values in any field of any route', async () => {
    const routes = [
      '/v1/keys',
      `/v1/keys/${existing.id}`,
      `/v1/keys/${existing.id}/rotate`,
      '/v1/root-keys',
      '/v1/verify',
      '/v1/workspaces',
    ];
    const field = fc.constantFrom(
      'name',
      'metadata',
      'scopes',
      'ipAllowlist',
      'rateLimit',
      'key',
      'request',
      'scopes',
      'gracePeriodSeconds',
      'description',
      'x',
    );
    const shape = fc.oneof(
      fc
        .tuple(fc.integer({ min: 100, max: 3000 }), fc.constantFrom('array' as const, 'object' as const))
        .map(([levels, kind]) => nested(levels, kind)),
      fc
        .integer({ min: 1000, max: 5000 })
        .map((width) => Array.from({ length: width }, (_, index) => ({ [`k${index}`]: [index] }))),
      fc
        .integer({ min: 100, max: 2000 })
        .map((width) =>
          Object.fromEntries(Array.from({ length: width }, (_, index) => [`k${index}`, nested(20, 'array')])),
        ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.constantFrom('POST', 'PATCH'),
        field,
        shape,
        async (route, method, name, value) => {
          const answer = await raw(t.url, method, route, { rootKey: t.rootKey, body: { name: 'fuzz', [name]: value } });
          if (answer.status >= 500 || (answer.status >= 400 && !/^KW_ERR_/.test(answer.body?.error?.code))) {
            throw new Error(
              `${method} ${route} with a deep or wide ${name}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
            );
          }
        },
      ),
      // The values are too deep for fast-check's own report: say what failed, without them.
      {
        numRuns: 60,
        reporter: (details) => {
          if (details.failed) throw new Error(`failed after ${details.numRuns} runs: ${String(details.errorInstance)}`);
        },
      },
    );
    expect((await t.client.verify({ key: existing.key })).code).toBe('VALID');
  }, 120_000);

  it('masks a key used as a field name in every string of the error answer', async () => {
    const pasted = (await t.client.keys.create({ name: 'pasted' })).key;
    for (const [method, path] of [
      ['POST', '/v1/keys'],
      ['POST', '/v1/verify'],
      ['PATCH', `/v1/keys/${existing.id}`],
    ] as const) {
      const answer = await raw(t.url, method, path, {
        rootKey: t.rootKey,
        body: { name: 'n', key: existing.key, [pasted]: 1 },
      });
      expect(answer.status).toBe(400);
      const text = JSON.stringify(answer.body);
      expect(text).not.toContain(pasted);
      expect(text).not.toContain(pasted.slice(8, 40));
      expect(
        answer.body.error.issues.some((issue: { path: string }) => issue.path.includes(`${pasted.slice(0, 12)}…`)),
      ).toBe(true);
    }
    expect(t.logLines.join('')).not.toContain(pasted);
  });

  it('stores a verified path without its query string and with keys cut to their prefix', async () => {
    const segment = (await t.client.keys.create({ name: 'in a segment' })).key;
    const queried = await t.client.keys.create({ name: 'in a query' });
    await t.client.verify({ key: existing.key, path: `/export?api_key=${queried.key}&x=1` });
    await t.client.verify({ key: existing.key, path: `/users/${segment}/contacts` });
    await t.client.verify({ key: existing.key, path: `/users/${encodeURIComponent(segment).replace(/_/g, '%5F')}/x` });
    await t.server.flush();
    const calls = (await raw(t.url, 'GET', `/v1/keys/${existing.id}/calls`, { rootKey: t.rootKey })).body
      .items as Array<{ path: string }>;
    const paths = calls.map((call) => call.path);
    expect(paths).toEqual(expect.arrayContaining(['/export', `/users/${segment.slice(0, 12)}…/contacts`]));
    expect(paths.some((path) => path.startsWith('/users/kw%5Flive%5F') && path.endsWith('…/x'))).toBe(true);
    const text = JSON.stringify(calls);
    for (const secret of [segment, queried.key]) expect(text).not.toContain(secret.slice(12));
  });

  it('keeps the query string when the operator asks, still without keys', async () => {
    const keeping = await startTestServer({ callLogKeepQuery: true });
    try {
      const key = await keeping.client.keys.create({ name: 'k' });
      await keeping.client.verify({ key: key.key, path: `/export?api_key=${key.key}&page=2` });
      await keeping.server.flush();
      const calls = (await raw(keeping.url, 'GET', `/v1/keys/${key.id}/calls`, { rootKey: keeping.rootKey })).body
        .items as Array<{ path: string }>;
      expect(calls[0]!.path).toBe(`/export?api_key=${key.key.slice(0, 12)}…&page=2`);
    } finally {
      await keeping.close();
    }
  });

  it('keeps keys out of audit entries and logs when pasted into a name, user agent or request id', async () => {
    const pasted = (await t.client.keys.create({ name: 'pasted elsewhere' })).key;
    const named = await raw(t.url, 'POST', '/v1/keys', {
      rootKey: t.rootKey,
      body: { name: `oops ${pasted}`, description: pasted, metadata: { token: pasted } },
      headers: { 'user-agent': `curl ${pasted}`, 'x-request-id': pasted },
    });
    expect(named.status).toBe(201);
    expect(named.headers.get('x-request-id')).not.toContain(pasted);
    const audit = (await raw(t.url, 'GET', '/v1/audit?limit=500', { rootKey: t.rootKey })).body;
    expect(JSON.stringify(audit)).not.toContain(pasted);
    const entry = audit.items.find((item: { targetKeyId: string }) => item.targetKeyId === named.body.id);
    expect(entry.changes.name).toBe(`oops ${pasted.slice(0, 12)}…[redacted]`);
    expect(entry.userAgent).toBe(`curl ${pasted.slice(0, 12)}…[redacted]`);
    expect((await t.client.audit.verify()).ok).toBe(true);
    expect(t.logLines.join('')).not.toContain(pasted);
  });
});
