import { generateKey } from '../../sdk';
import { countKeysNamed, raw, startTestServer, type TestServer } from '../support/harness';

/*
 * A vendor moving off one-key-per-account imports its accounts' keys in bulk: POST /v1/keys:batch
 * creates up to 1,000 keys per call, and answers each item on its own, so one bad row never costs
 * the others.
 */
describe('POST /v1/keys:batch', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  const batch = (body: unknown, rootKey = t.rootKey) => raw(t.url, 'POST', '/v1/keys:batch', { rootKey, body });

  it('creates 1,000 keys in one call, each answered with its secret, all verifying, the chain intact', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({
      name: `account-${i}`,
      scopes: ['contacts:read'],
      metadata: { legacyAccountId: String(100_000 + i) },
    }));
    const response = await batch({ items });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ created: 1000, failed: 0 });
    expect(response.body.items.map((item: { index: number }) => item.index)).toEqual(items.map((_, i) => i));
    const sample = response.body.items[737];
    expect(sample.status).toBe(201);
    expect(sample.key).toMatchObject({ name: 'account-737', metadata: { legacyAccountId: '100737' } });
    expect((await t.client.verify({ key: sample.key.key, scopes: ['contacts:read'] })).code).toBe('VALID');
    expect(await t.client.audit.verify()).toMatchObject({ ok: true });
  });

  it('reports each bad item by its index and field, and still creates the good ones', async () => {
    const supplied = generateKey();
    const taken = generateKey();
    await t.client.keys.create({ name: 'already', scopes: [], key: taken });
    const response = await batch({
      items: [
        { name: 'good-0', scopes: ['a:b'] },
        { name: 'bad-scope', scopes: ['no spaces'] },
        { name: 'unknown', scopes: [], colour: 'blue' },
        'not an object',
        { name: 'supplied', scopes: [], key: supplied },
        { name: 'wrong-env', scopes: [], environment: 'test', key: generateKey() },
        { name: 'taken', scopes: [], key: taken },
        { name: 'good-7', scopes: ['a:b'], environment: 'test' },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ created: 3, failed: 5 });
    const byIndex = response.body.items;
    expect(byIndex.map((item: { status: number }) => item.status)).toEqual([201, 400, 400, 400, 201, 400, 409, 201]);
    expect(byIndex[1].error.issues[0].path).toBe('body.items.1.scopes.0');
    expect(byIndex[2].error.issues[0]).toEqual({ path: 'body.items.2.colour', message: 'is not a known field' });
    expect(byIndex[3].error.issues[0].path).toBe('body.items.3');
    expect(byIndex[5].error.issues[0]).toMatchObject({ path: 'body.items.5.key' });
    expect(byIndex[6].error.code).toBe('KW_ERR_CONFLICT');
    expect(byIndex[4].key.key).toBe(supplied);
    expect(byIndex[7].key.environment).toBe('test');
    expect((await t.client.verify({ key: supplied })).code).toBe('VALID');
    expect(JSON.stringify(response.body.items.filter((item: { status: number }) => item.status !== 201))).not.toContain(
      taken,
    );
    expect(await t.client.audit.verify()).toMatchObject({ ok: true });
  });

  it('refuses an empty batch, more than 1,000 items, a missing items field, and a read-only root key', async () => {
    expect((await batch({ items: [] })).status).toBe(400);
    const tooMany = await batch({ items: Array.from({ length: 1001 }, (_, i) => ({ name: `x${i}`, scopes: [] })) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.issues[0].path).toBe('body.items');
    expect((await batch({})).status).toBe(400);
    const reader = await t.client.rootKeys.create({ name: 'reader', scopes: ['keys:read'] });
    const refused = await batch({ items: [{ name: 'x', scopes: [] }] }, reader.key);
    expect(refused.status).toBe(403);
  });

  it('makes no second key when a batch is retried with the same per-item Idempotency-Keys', async () => {
    const items = [
      { name: 'retry-0', scopes: ['a:b'] },
      { name: 'retry-1', scopes: ['a:b'] },
      { name: 'retry-2', scopes: ['a:b'] },
    ];
    const idempotencyKeys = ['batch-item-0000', null, 'batch-item-0002'];
    const first = await batch({ items, idempotencyKeys });
    expect(first.body).toMatchObject({ created: 3, failed: 0 });
    expect(first.body.items.map((item: { replayed: boolean }) => item.replayed)).toEqual([false, false, false]);
    const again = await batch({ items, idempotencyKeys });
    expect(again.body).toMatchObject({ created: 3, failed: 0 });
    expect(again.body.items.map((item: { replayed: boolean }) => item.replayed)).toEqual([true, false, true]);
    // Items with a key get their first result, secret included; the item without one is new.
    expect(again.body.items[0].key).toEqual(first.body.items[0].key);
    expect(again.body.items[2].key.key).toBe(first.body.items[2].key.key);
    expect(again.body.items[1].key.id).not.toBe(first.body.items[1].key.id);
    expect(await countKeysNamed(t.client, 'retry-0')).toBe(1);
    expect(await countKeysNamed(t.client, 'retry-1')).toBe(2);
    // An item's key is the same Idempotency-Key as a create's header: a create repeats it.
    const created = await raw(t.url, 'POST', '/v1/keys', {
      rootKey: t.rootKey,
      body: items[2],
      headers: { 'idempotency-key': 'batch-item-0002' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('idempotent-replayed')).toBe('true');
    expect(created.body.id).toBe(first.body.items[2].key.id);
    expect(await t.client.audit.verify()).toMatchObject({ ok: true });
  });

  it('answers an item whose Idempotency-Key came with another body 409, and repeats within a batch once', async () => {
    await batch({ items: [{ name: 'mismatch', scopes: [] }], idempotencyKeys: ['batch-item-0100'] });
    const response = await batch({
      items: [
        { name: 'mismatch-changed', scopes: [] },
        { name: 'twice', scopes: [] },
        { name: 'twice', scopes: [] },
      ],
      idempotencyKeys: ['batch-item-0100', 'batch-item-0101', 'batch-item-0101'],
    });
    expect(response.body).toMatchObject({ created: 2, failed: 1 });
    expect(response.body.items[0]).toMatchObject({ status: 409, error: { code: 'KW_ERR_IDEMPOTENCY_MISMATCH' } });
    expect(response.body.items[1].key.id).toBe(response.body.items[2].key.id);
    expect(await countKeysNamed(t.client, 'mismatch-changed')).toBe(0);
    expect(await countKeysNamed(t.client, 'twice')).toBe(1);
  });

  it('refuses Idempotency-Keys that do not match the items one to one, or are too short', async () => {
    const uneven = await batch({ items: [{ name: 'uneven', scopes: [] }], idempotencyKeys: ['batch-item-0200', null] });
    expect(uneven.status).toBe(400);
    expect(uneven.body.error.issues[0]).toEqual({
      path: 'body.idempotencyKeys',
      message: 'must have one entry (a key or null) per item',
    });
    const short = await batch({ items: [{ name: 'uneven', scopes: [] }], idempotencyKeys: ['short'] });
    expect(short.status).toBe(400);
    expect(short.body.error.issues[0].path).toBe('body.idempotencyKeys.0');
    expect(await countKeysNamed(t.client, 'uneven')).toBe(0);
  });

  it('two identical supplied keys in one batch: the first is created, the second is refused', async () => {
    const key = generateKey();
    const response = await batch({
      items: [
        { name: 'one', scopes: [], key },
        { name: 'two', scopes: [], key },
      ],
    });
    expect(response.body.items.map((item: { status: number }) => item.status)).toEqual([201, 409]);
  });
});
