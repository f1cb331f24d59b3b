import { raw, startTestServer, type TestServer } from '../support/harness';

/* Running it: health, readiness, metrics, the OpenAPI document and docs, and call-log retention. */
describe('operating keyward', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ callRetentionDays: 7 });
  });
  afterAll(async () => t.close());

  it('answers health and readiness probes', async () => {
    expect(await raw(t.url, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await raw(t.url, 'GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('exports Prometheus metrics with verification codes and routes, without ids', async () => {
    const key = await t.client.keys.create({ name: 'metered' });
    await t.client.verify({ key: key.key });
    await t.client.verify({ key: 'kw_live_nope' });
    const metrics = await raw(t.url, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('keyward_verifications_total{code="VALID"} 1');
    expect(metrics.body).toContain('keyward_verifications_total{code="MALFORMED"} 1');
    expect(metrics.body).toMatch(/keyward_http_requests_total\{method="POST",route="\/v1\/keys",status="201"\} \d+/);
    expect(metrics.body).not.toContain(key.id);
  });

  it('serves an OpenAPI 3.1 document generated from the schemas, and human docs at /docs', async () => {
    const { body: openapi } = await raw(t.url, 'GET', '/openapi.json');
    expect(openapi.openapi).toBe('3.1.0');
    for (const path of ['/v1/keys', '/v1/keys/{id}', '/v1/keys/{id}/rotate', '/v1/verify', '/v1/audit', '/v1/calls', '/v1/root-keys']) {
      expect(openapi.paths).toHaveProperty([path]);
    }
    expect(openapi.components.schemas).toHaveProperty('ApiKey');
    expect(openapi.components.schemas.VerifyResponse.properties.code.enum).toContain('INSUFFICIENT_SCOPE');
    const docs = await fetch(`${t.url}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('prunes call-log rows older than the retention period', async () => {
    const key = await t.client.keys.create({ name: 'retained' });
    for (let i = 0; i < 3; i += 1) await t.client.verify({ key: key.key, ip: `192.0.2.${i}` });
    await t.server.flush();
    const rows = await t.server.store.db.selectFrom('calls').select('id').where('key_id', '=', key.id).orderBy('id').execute();
    expect(rows).toHaveLength(3);
    await t.server.store.db
      .updateTable('calls')
      .set({ at: new Date(Date.now() - 8 * 86_400_000) })
      .where('id', 'in', [rows[0]!.id, rows[1]!.id])
      .execute();
    await t.server.maintain();
    const left = [];
    for await (const call of t.client.calls.list({ keyId: key.id })) left.push(call.ip);
    expect(left).toEqual(['192.0.2.2']);
  });
});
