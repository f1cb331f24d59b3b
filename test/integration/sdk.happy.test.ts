import { Keyward, KeywardNotFoundError, KeywardValidationError } from '../../sdk';
import { startTestServer, type TestServer } from '../support/harness';

/* Every SDK method, against the real server: what an integrator writes, start to finish. */
describe('the SDK client', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  it('creates, reads, updates, rotates, suspends, resumes, retires and revokes', async () => {
    const kw = t.client;
    const created = await kw.keys.create({ name: 'sdk', scopes: ['contacts:read'], metadata: { team: 'crm' } });
    expect(created).toMatchObject({ name: 'sdk', status: 'active', metadata: { team: 'crm' } });
    expect((await kw.keys.get(created.id)).start).toBe(created.start);
    const updated = await kw.keys.update(created.id, { description: 'synced nightly' }, { ifMatch: created.version });
    expect(updated).toMatchObject({ description: 'synced nightly', version: 2 });
    const next = await kw.keys.rotate(created.id, { gracePeriodSeconds: 30 });
    expect(next.predecessorId).toBe(created.id);
    expect((await kw.keys.suspend(next.id)).status).toBe('suspended');
    expect((await kw.keys.resume(next.id)).status).toBe('active');
    expect((await kw.keys.retire(created.id, { gracePeriodSeconds: 0 })).status).toBe('expired');
    expect((await kw.keys.revoke(next.id)).status).toBe('revoked');
  });

  it('creates keys in bulk, each answered on its own, and a retried batch makes no second key', async () => {
    const items = [{ name: 'bulk-0', scopes: ['a:b'] }, { name: 'bulk-1', scopes: ['no spaces'] }, { name: 'bulk-2' }];
    const idempotencyKeys = ['bulk-item-0000', 'bulk-item-0001', 'bulk-item-0002'];
    const first = await t.client.keys.createBatch(items, { idempotencyKeys });
    expect(first).toMatchObject({ created: 2, failed: 1 });
    expect(first.items[1]).toMatchObject({ index: 1, status: 400, error: { code: 'KW_ERR_VALIDATION' } });
    const again = await t.client.keys.createBatch(items, { idempotencyKeys });
    expect(again.items.map((item) => ('key' in item ? item.key.id : item.status))).toEqual(
      first.items.map((item) => ('key' in item ? item.key.id : item.status)),
    );
    expect(again.items.map((item) => 'key' in item && item.replayed)).toEqual([true, false, true]);
    // Without keys of its own, every item still gets one, so the SDK's own retries are safe.
    const plain = await t.client.keys.createBatch([{ name: 'bulk-plain' }]);
    expect(plain.items[0]).toMatchObject({ status: 201, replayed: false, key: { name: 'bulk-plain' } });
  });

  it('walks every page of keys as an async iterator', async () => {
    for (let i = 0; i < 5; i += 1) await t.client.keys.create({ name: `page-${i}` });
    const names: string[] = [];
    for await (const key of t.client.keys.list({ name: 'page-', pageSize: 2 })) names.push(key.name);
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  });

  it('verifies, and lists calls and audit entries', async () => {
    const key = await t.client.keys.create({ name: 'calls', scopes: ['a:b'] });
    const result = await t.client.verify({ key: key.key, scopes: ['a:b'], ip: '192.0.2.1', method: 'GET', path: '/x' });
    expect(result.valid).toBe(true);
    const calls = [];
    for await (const call of t.client.calls.list({ keyId: key.id })) calls.push(call);
    expect(calls[0]).toMatchObject({ ip: '192.0.2.1', code: 'VALID', path: '/x' });
    const audit = [];
    for await (const entry of t.client.audit.list({ keyId: key.id })) audit.push(entry.action);
    expect(audit).toEqual(['key.create']);
    expect((await t.client.audit.verify()).ok).toBe(true);
  });

  it('manages root keys', async () => {
    const root = await t.client.rootKeys.create({ name: 'ci', scopes: ['keys:read', 'verify'] });
    expect(root.key.startsWith('kw_root_')).toBe(true);
    const scoped = new Keyward({ baseUrl: t.url, rootKey: root.key });
    expect((await scoped.keys.list()[Symbol.asyncIterator]().next()).done).toBe(false);
    expect((await t.client.rootKeys.update(root.id, { scopes: ['verify'] })).scopes).toEqual(['verify']);
  });

  it('throws typed errors carrying status, code and request id', async () => {
    const notFound = await t.client.keys.get('key_missing').catch((error: unknown) => error);
    expect(notFound).toBeInstanceOf(KeywardNotFoundError);
    expect(notFound).toMatchObject({ status: 404, code: 'KW_ERR_NOT_FOUND' });
    expect((notFound as KeywardNotFoundError).requestId).toMatch(/^req_/);
    const invalid = await t.client.keys.create({ name: '', scopes: ['nope'] }).catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(KeywardValidationError);
    expect((invalid as KeywardValidationError).issues.map((issue) => issue.path)).toEqual(
      expect.arrayContaining(['body.name', 'body.scopes.0']),
    );
  });
});
