import { type AuditEntry, generateKey } from '../../sdk';
import { startTestServer, type TestServer } from '../support/harness';

/*
 * A caller that generated its key itself (Terraform's write-only key_wo, a migration off another
 * system) hands it to keyward at create or rotate; keyward stores only its hash, as always.
 */
describe('caller-supplied keys: create and rotate with a key made locally', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  const auditOf = async (keyId: string): Promise<AuditEntry[]> => {
    const entries: AuditEntry[] = [];
    for await (const entry of t.client.audit.list({ keyId })) entries.push(entry);
    return entries;
  };

  it('generateKey makes well-formed keys of each environment, locally and at random', () => {
    const live = generateKey();
    const test = generateKey({ environment: 'test' });
    expect(live).toMatch(/^kw_live_[0-9A-Za-z]{49}$/);
    expect(test).toMatch(/^kw_test_[0-9A-Za-z]{49}$/);
    expect(new Set(Array.from({ length: 100 }, () => generateKey())).size).toBe(100);
  });

  it('creates a key with the supplied secret, which then verifies; the audit entry says it was supplied', async () => {
    const key = generateKey({ environment: 'test' });
    const created = await t.client.keys.create({
      name: 'supplied',
      scopes: ['contacts:read'],
      environment: 'test',
      key,
    });
    expect(created.key).toBe(key);
    expect(created.start).toBe(key.slice(0, 'kw_test_'.length + 4));
    expect((await t.client.verify({ key, scopes: ['contacts:read'] })).code).toBe('VALID');
    const audit = await auditOf(created.id);
    const entry = audit.find((item) => item.action === 'key.create');
    expect(entry?.changes).toMatchObject({ keySupplied: true });
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  it('a key verified as unknown before it was created verifies once it is', async () => {
    const key = generateKey();
    expect((await t.client.verify({ key })).code).toBe('NOT_FOUND');
    await t.client.keys.create({ name: 'late', scopes: [], key });
    expect((await t.client.verify({ key })).code).toBe('VALID');
  });

  it('rotates to a supplied successor; old and new both verify during the grace period', async () => {
    const first = await t.client.keys.create({ name: 'rotating', scopes: ['a:b'] });
    const next = generateKey();
    const rotated = await t.client.keys.rotate(first.id, { gracePeriodSeconds: 600, key: next });
    expect(rotated.key).toBe(next);
    expect((await t.client.verify({ key: first.key })).code).toBe('VALID');
    expect((await t.client.verify({ key: next })).code).toBe('VALID');
    const audit = await auditOf(rotated.id);
    expect(audit.find((item) => item.action === 'key.create')?.changes).toMatchObject({
      keySupplied: true,
      predecessorId: first.id,
    });
  });

  it('a retried create with the same Idempotency-Key and key returns the first result', async () => {
    const key = generateKey();
    const first = await t.client.keys.create({ name: 'once', scopes: [], key }, { idempotencyKey: 'supplied-1' });
    const again = await t.client.keys.create({ name: 'once', scopes: [], key }, { idempotencyKey: 'supplied-1' });
    expect(again.id).toBe(first.id);
  });
});
