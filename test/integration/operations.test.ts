import { sql } from 'kysely';
import { decodeSegment, rebuildSegment } from '../../server/calls/segment';
import { raw, startTestServer, type TestServer } from '../support/harness';

/* Running it: health, readiness, metrics, the OpenAPI document and docs, and call-log retention. */
describe('operating keyward', () => {
  let t: TestServer;
  beforeAll(async () => {
    // Flushed only when the test says so, so it knows which calls share a segment.
    t = await startTestServer({ callRetentionDays: 7, callFlushIntervalMs: 60_000 });
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

  it('logs management requests at info, but not each verification (the call log has those)', async () => {
    const key = await t.client.keys.create({ name: 'quiet' });
    const before = t.logLines.length;
    for (let i = 0; i < 5; i += 1) await t.client.verify({ key: key.key });
    await t.client.keys.get(key.id);
    const lines = t.logLines.slice(before);
    expect(lines.filter((line) => line.includes('"url":"/v1/verify"'))).toEqual([]);
    expect(lines.filter((line) => line.includes(`"url":"/v1/keys/${key.id}"`)).length).toBe(1);
  });

  it('shuts down cleanly while its first maintenance round may still be running', async () => {
    for (let i = 0; i < 3; i += 1) {
      const brief = await startTestServer();
      await brief.close();
      expect(brief.logLines.filter((line) => /"level":(50|60)/.test(line))).toEqual([]);
    }
  });

  it('serves an OpenAPI 3.1 document generated from the schemas, and human docs at /docs', async () => {
    const { body: openapi } = await raw(t.url, 'GET', '/openapi.json');
    expect(openapi.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/keys',
      '/v1/keys/{id}',
      '/v1/keys/{id}/rotate',
      '/v1/verify',
      '/v1/audit',
      '/v1/calls',
      '/v1/root-keys',
    ]) {
      expect(openapi.paths).toHaveProperty([path]);
    }
    expect(openapi.components.schemas).toHaveProperty('ApiKey');
    expect(openapi.components.schemas.VerifyResponse.properties.code.enum).toContain('INSUFFICIENT_SCOPE');
    const docs = await fetch(`${t.url}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('prunes calls older than the retention period, whole segments and within a segment', async () => {
    const key = await t.client.keys.create({ name: 'retained' });
    const db = t.server.store.db;
    await t.client.verify({ key: key.key, ip: '192.0.2.0' });
    await t.server.flush(); // one segment holding the first call
    await t.client.verify({ key: key.key, ip: '192.0.2.1' });
    await t.client.verify({ key: key.key, ip: '192.0.2.2' });
    await t.server.flush(); // another holding the next two
    const before = [];
    for await (const call of t.client.calls.list({ keyId: key.id })) before.push(call);
    expect(before.map((call) => call.ip)).toEqual(['192.0.2.2', '192.0.2.1', '192.0.2.0']);

    // Age the calls from 192.0.2.0 and 192.0.2.1 past the retention period, in the stored rows.
    const eightDaysAgo = Date.now() - 8 * 86_400_000;
    const segments = await db
      .selectFrom('call_segments')
      .select(['id', 'workspace_id', 'rows'])
      .where(sql<boolean>`key_ids @> array[${key.id}]::text[]`)
      .execute();
    expect(segments).toHaveLength(2);
    for (const segment of segments) {
      const calls = decodeSegment(segment.rows).map((call) =>
        call && call.ip !== '192.0.2.2' ? { ...call, at: eightDaysAgo } : call,
      );
      const aged = rebuildSegment(segment.workspace_id, calls, () => true).encode()!;
      await db
        .updateTable('call_segments')
        .set({ rows: aged.rows, first_at: aged.firstAt, last_at: aged.lastAt })
        .where('id', '=', segment.id)
        .execute();
    }
    await t.server.maintain();

    const left = [];
    for await (const call of t.client.calls.list({ keyId: key.id })) left.push(call);
    expect(left.map((call) => call.ip)).toEqual(['192.0.2.2']);
    // The call kept keeps its id; the fully aged segment is gone.
    expect(left[0]!.id).toBe(before[0]!.id);
    expect(
      await db
        .selectFrom('call_segments')
        .select('id')
        .where(sql<boolean>`key_ids @> array[${key.id}]::text[]`)
        .execute(),
    ).toHaveLength(1);
  });
});
