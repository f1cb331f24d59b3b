import { sql } from 'kysely';
import { raw, startTestServer, type TestServer } from '../support/harness';

/*
 * The /v1 routes the console needed and any client may use: who called a key and from where
 * (GET /v1/keys/{id}/callers), calls per hour by code (GET /v1/calls/stats), the audit chain
 * checked on the server (GET /v1/audit/verify), and the list of workspaces (GET /v1/workspaces).
 */
describe('console-facing /v1 routes', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  const verify = (key: string, ip: string, path: string) =>
    raw(t.url, 'POST', '/v1/verify', { rootKey: t.rootKey, body: { key, ip, method: 'GET', path } });

  it('GET /v1/keys/{id}/callers lists each caller IP with its count and latest call, latest first', async () => {
    const key = await t.client.keys.create({ name: 'called' });
    await verify(key.key, '203.0.113.7', '/a');
    await verify(key.key, '203.0.113.7', '/b');
    await verify(key.key, '198.51.100.9', '/c');
    const answer = await raw(t.url, 'GET', `/v1/keys/${key.id}/callers`, { rootKey: t.rootKey });
    expect(answer.status).toBe(200);
    expect(answer.body.truncated).toBe(false);
    expect(answer.body.items).toEqual([
      expect.objectContaining({ ip: '198.51.100.9', calls: 1, lastCode: 'VALID', lastMethod: 'GET', lastPath: '/c' }),
      expect.objectContaining({ ip: '203.0.113.7', calls: 2, lastCode: 'VALID', lastPath: '/b' }),
    ]);
    expect(Date.parse(answer.body.since)).toBeLessThan(Date.now() - 6 * 86_400_000);

    const limited = await raw(t.url, 'GET', `/v1/keys/${key.id}/callers?limit=1`, { rootKey: t.rootKey });
    expect(limited.body).toMatchObject({ truncated: true, items: [{ ip: '198.51.100.9' }] });
    const future = new Date(Date.now() + 60_000).toISOString();
    const none = await raw(t.url, 'GET', `/v1/keys/${key.id}/callers?since=${encodeURIComponent(future)}`, {
      rootKey: t.rootKey,
    });
    expect(none.body.items).toEqual([]);
  });

  it('refuses bad callers queries with a 400 naming the field, unknown keys with 404, and needs calls:read', async () => {
    const key = await t.client.keys.create({ name: 'queried' });
    const bad = await raw(t.url, 'GET', `/v1/keys/${key.id}/callers?since=yesterday`, { rootKey: t.rootKey });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe('querystring.since');
    const zero = await raw(t.url, 'GET', `/v1/keys/${key.id}/callers?limit=0`, { rootKey: t.rootKey });
    expect(zero.status).toBe(400);
    expect((await raw(t.url, 'GET', '/v1/keys/key_nope/callers', { rootKey: t.rootKey })).status).toBe(404);
    const reader = await t.client.rootKeys.create({ name: 'keys only', scopes: ['keys:read'] });
    const denied = await raw(t.url, 'GET', `/v1/keys/${key.id}/callers`, { rootKey: reader.key });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain('calls:read');
  });

  it('GET /v1/calls/stats counts calls per hour by code, for a key or the workspace', async () => {
    const key = await t.client.keys.create({ name: 'counted' });
    await verify(key.key, '203.0.113.8', '/x');
    await verify(key.key, '203.0.113.8', '/x');
    await t.client.keys.revoke(key.id);
    await verify(key.key, '203.0.113.8', '/x');
    const day = await raw(t.url, 'GET', `/v1/calls/stats?keyId=${key.id}`, { rootKey: t.rootKey });
    expect(day.status).toBe(200);
    expect(day.body.bucketSeconds).toBe(3600);
    expect(day.body.buckets).toHaveLength(24);
    expect(Date.parse(day.body.to) - Date.parse(day.body.from)).toBe(24 * 3_600_000);
    expect(day.body.buckets.at(-1).counts).toEqual({ VALID: 2, REVOKED: 1 });
    expect(
      day.body.buckets.slice(0, -1).every((bucket: { counts: object }) => Object.keys(bucket.counts).length === 0),
    ).toBe(true);
    const week = await raw(t.url, 'GET', '/v1/calls/stats?hours=168', { rootKey: t.rootKey });
    expect(week.body.buckets).toHaveLength(168);
    expect(week.body.buckets.at(-1).counts.VALID).toBeGreaterThanOrEqual(2);
    for (const query of ['hours=0', 'hours=169', 'hours=a', 'extra=1']) {
      const bad = await raw(t.url, 'GET', `/v1/calls/stats?${query}`, { rootKey: t.rootKey });
      expect(bad.status).toBe(400);
      expect(bad.body.error.issues[0].path).toMatch(/^querystring/);
    }
    expect((await raw(t.url, 'GET', '/v1/calls/stats?keyId=key_nope', { rootKey: t.rootKey })).status).toBe(404);
  });

  it('GET /v1/audit/verify checks the whole chain up to the head, and names the first broken entry', async () => {
    const intact = await raw(t.url, 'GET', '/v1/audit/verify', { rootKey: t.rootKey });
    expect(intact.status).toBe(200);
    const entries = [];
    for await (const entry of t.client.audit.list()) entries.push(entry);
    expect(intact.body).toEqual({ ok: true, checked: entries.length, headHash: entries.at(-1)!.hash, brokenAt: null });

    // Someone with database access edits an entry: the chain says where.
    const victim = entries[2]!;
    await sql`update audit_log set changes = '{"name":"edited"}'::jsonb where id = ${victim.id}`.execute(
      t.server.store.db,
    );
    const edited = await raw(t.url, 'GET', '/v1/audit/verify', { rootKey: t.rootKey });
    expect(edited.body).toMatchObject({
      ok: false,
      checked: 2,
      headHash: null,
      brokenAt: { id: victim.id, seq: victim.seq, reason: 'contents do not match the stored hash' },
    });
    await sql`update audit_log set changes = ${JSON.stringify(victim.changes)}::jsonb where id = ${victim.id}`.execute(
      t.server.store.db,
    );
    expect((await raw(t.url, 'GET', '/v1/audit/verify', { rootKey: t.rootKey })).body.ok).toBe(true);
  });

  it('finds entries cut from the end of the log against the recorded head', async () => {
    const other = await startTestServer();
    try {
      await other.client.keys.create({ name: 'last words' });
      await sql`delete from audit_log where seq = (select max(seq) from audit_log)`.execute(other.server.store.db);
      const cut = await raw(other.url, 'GET', '/v1/audit/verify', { rootKey: other.rootKey });
      expect(cut.body.ok).toBe(false);
      expect(cut.body.brokenAt.reason).toContain('entries missing at the end');
    } finally {
      await other.close();
    }
  });

  it('documents the new routes and the console session routes in the OpenAPI document', async () => {
    const { body: openapi } = await raw(t.url, 'GET', '/openapi.json');
    for (const path of [
      '/v1/keys/{id}/callers',
      '/v1/calls/stats',
      '/v1/audit/verify',
      '/v1/workspaces',
      '/console/session',
    ])
      expect(openapi.paths).toHaveProperty([path]);
    expect(openapi.components.schemas).toHaveProperty('CallStats');
    expect(openapi.paths['/console/session'].post.security).toEqual([]);
  });

  it('GET /v1/workspaces lists every workspace to the operator only', async () => {
    const created = await t.client.workspaces.create('tenant-a');
    const listed = await raw(t.url, 'GET', '/v1/workspaces', { rootKey: t.rootKey });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((workspace: { name: string }) => workspace.name)).toEqual(['default', 'tenant-a']);
    const refused = await raw(t.url, 'GET', '/v1/workspaces', { rootKey: created.rootKey.key });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain("operator's workspace");
    const reader = await t.client.rootKeys.create({ name: 'no operator scope', scopes: ['keys:read'] });
    expect((await raw(t.url, 'GET', '/v1/workspaces', { rootKey: reader.key })).status).toBe(403);
  });
});
