import { countKeysNamed, raw, startTestServer, type TestServer } from '../support/harness';

/* A client whose response was lost retries with the same Idempotency-Key, and never gets a second key. */
describe('idempotent create and rotate', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  const countKeys = (name: string) => countKeysNamed(t.client, name);

  it('returns the same key and secret for the same Idempotency-Key and body', async () => {
    const first = await t.client.keys.create(
      { name: 'idem-a', scopes: ['a:b'] },
      { idempotencyKey: 'req-0001-abcdef' },
    );
    const again = await raw(t.url, 'POST', '/v1/keys', {
      rootKey: t.rootKey,
      body: { name: 'idem-a', scopes: ['a:b'] },
      headers: { 'idempotency-key': 'req-0001-abcdef' },
    });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.id);
    expect(again.body.key).toBe(first.key);
    expect(await countKeys('idem-a')).toBe(1);
  });

  it('answers 409 when the same Idempotency-Key comes with a different body', async () => {
    await t.client.keys.create({ name: 'idem-b' }, { idempotencyKey: 'req-0002-abcdef' });
    await expect(
      t.client.keys.create({ name: 'idem-b2' }, { idempotencyKey: 'req-0002-abcdef' }),
    ).rejects.toMatchObject({
      status: 409,
      code: 'KW_ERR_IDEMPOTENCY_MISMATCH',
    });
    expect(await countKeys('idem-b2')).toBe(0);
  });

  it('makes exactly one key when the same request races itself', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        t.client.keys.create({ name: 'idem-race' }, { idempotencyKey: 'req-0003-abcdef' }),
      ),
    );
    expect(new Set(results.map((result) => result.id)).size).toBe(1);
    expect(new Set(results.map((result) => result.key)).size).toBe(1);
    expect(await countKeys('idem-race')).toBe(1);
    let creates = 0;
    for await (const entry of t.client.audit.list({ keyId: results[0]!.id, action: 'key.create' }))
      creates += entry ? 1 : 0;
    expect(creates).toBe(1);
  });

  it('makes a new key when the Idempotency-Key was last used over 24 hours ago', async () => {
    const first = await t.client.keys.create({ name: 'idem-old' }, { idempotencyKey: 'req-0005-abcdef' });
    // The record is past its 24 hours but maintenance has not pruned it yet.
    await t.server.store.db
      .updateTable('idempotency_keys')
      .set({ created_at: new Date(Date.now() - 25 * 3_600_000) })
      .where('result_key_id', '=', first.id)
      .execute();
    const again = await raw(t.url, 'POST', '/v1/keys', {
      rootKey: t.rootKey,
      body: { name: 'idem-old' },
      headers: { 'idempotency-key': 'req-0005-abcdef' },
    });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.id).not.toBe(first.id);
    expect(await countKeys('idem-old')).toBe(2);
    // The new request now owns the Idempotency-Key: a repeat of it gets its key.
    const repeat = await t.client.keys.create({ name: 'idem-old' }, { idempotencyKey: 'req-0005-abcdef' });
    expect(repeat.id).toBe(again.body.id);
  });

  it('rotates once per Idempotency-Key', async () => {
    const key = await t.client.keys.create({ name: 'idem-rotate' });
    const first = await t.client.keys.rotate(key.id, { gracePeriodSeconds: 60, idempotencyKey: 'rot-0001-abcdef' });
    const second = await t.client.keys.rotate(key.id, { gracePeriodSeconds: 60, idempotencyKey: 'rot-0001-abcdef' });
    expect(second.id).toBe(first.id);
    expect(second.key).toBe(first.key);
    expect(await countKeys('idem-rotate')).toBe(2);
  });

  it('does not store the secret of an idempotent result in the clear', async () => {
    const created = await t.client.keys.create({ name: 'idem-sealed' }, { idempotencyKey: 'req-0004-abcdef' });
    const rows = await t.server.store.db.selectFrom('idempotency_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(created.key);
    expect(JSON.stringify(rows)).not.toContain('req-0004-abcdef');
  });
});
