import { verifyAuditChain } from '../../schema';
import { eventually, sleepUntil, startTestServer, type TestServer } from '../support/harness';

/*
 * The story the README tells: an owner issues a scoped, IP-limited key to an integration,
 * the integration calls in, the owner rotates with a grace period while both keys work, sees who
 * still uses the old key, and the old key stops once the grace has passed.
 */
describe('a key from creation to retirement', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  it('issues a key whose secret is shown once and stored only as a hash', async () => {
    const created = await t.client.keys.create({
      name: 'crm sync',
      description: 'nightly contact export',
      scopes: ['contacts:read', 'contacts:export'],
      ipAllowlist: ['203.0.113.0/24'],
      metadata: { owner: 'data-team' },
    });
    expect(created.key).toMatch(/^kw_live_[0-9A-Za-z]{49}$/);
    expect(created.start).toBe(created.key.slice(0, 12));
    expect(created).toMatchObject({
      status: 'active',
      version: 1,
      maxAgeDays: 180,
      environment: 'live',
      ipAllowlist: ['203.0.113.0/24'],
    });

    const fetched = await t.client.keys.get(created.id);
    expect(fetched).not.toHaveProperty('key');
    expect(JSON.stringify(fetched)).not.toContain(created.key);

    const stored = await t.server.store.db
      .selectFrom('keys')
      .selectAll()
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(created.key.slice(12));
    expect(stored.secret_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('creates, verifies, rotates with grace, shows who still uses the old key, then expires it', async () => {
    const old = await t.client.keys.create({
      name: 'billing',
      scopes: ['invoices:*'],
      ipAllowlist: ['198.51.100.0/24'],
    });
    const ok = await t.client.verify({
      key: old.key,
      scopes: ['invoices:read'],
      ip: '198.51.100.20',
      method: 'GET',
      path: '/invoices',
    });
    expect(ok).toMatchObject({ valid: true, code: 'VALID', keyId: old.id, deprecated: false, status: 'active' });

    const next = await t.client.keys.rotate(old.id, { gracePeriodSeconds: 4 });
    expect(next.id).not.toBe(old.id);
    expect(next.key).not.toBe(old.key);
    expect(next).toMatchObject({
      predecessorId: old.id,
      scopes: ['invoices:*'],
      ipAllowlist: ['198.51.100.0/24'],
      status: 'active',
    });

    const retiring = await t.client.keys.get(old.id);
    expect(retiring).toMatchObject({ status: 'retiring', successorId: next.id });
    expect(Date.parse(retiring.graceUntil!)).toBeGreaterThan(Date.now());

    // Both keys work during the grace period; the old one says it is deprecated and names its successor.
    const stillOld = await t.client.verify({ key: old.key, scopes: ['invoices:read'], ip: '198.51.100.77' });
    expect(stillOld).toMatchObject({
      valid: true,
      code: 'VALID',
      deprecated: true,
      successorId: next.id,
      status: 'retiring',
    });
    expect(await t.client.verify({ key: next.key, scopes: ['invoices:read'], ip: '198.51.100.20' })).toMatchObject({
      valid: true,
      deprecated: false,
    });

    // Who still uses the old key: its lastUsed shows the straggler's address.
    const watched = await eventually(async () => {
      const key = await t.client.keys.get(old.id);
      return key.lastUsedIp === '198.51.100.77' ? key : null;
    });
    expect(watched.lastUsedAt).not.toBeNull();

    await sleepUntil(retiring.graceUntil!);
    expect(await t.client.verify({ key: old.key, scopes: ['invoices:read'], ip: '198.51.100.77' })).toMatchObject({
      valid: false,
      code: 'EXPIRED',
    });
    expect((await t.client.keys.get(old.id)).status).toBe('expired');
    expect(await t.client.verify({ key: next.key, scopes: ['invoices:read'], ip: '198.51.100.20' })).toMatchObject({
      valid: true,
    });

    // Maintenance persists what time decided.
    await t.server.maintain();
    const row = await t.server.store.db
      .selectFrom('keys')
      .select('status')
      .where('id', '=', old.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('expired');
  });

  it('rotates with a grace of 0: the old key stops at once', async () => {
    const old = await t.client.keys.create({ name: 'hard cut' });
    const next = await t.client.keys.rotate(old.id, { gracePeriodSeconds: 0 });
    expect((await t.client.verify({ key: old.key })).code).toBe('EXPIRED');
    expect((await t.client.verify({ key: next.key })).code).toBe('VALID');
  });

  it('suspends and resumes, then revokes for good', async () => {
    const key = await t.client.keys.create({ name: 'vendor' });
    expect((await t.client.keys.suspend(key.id)).status).toBe('suspended');
    expect((await t.client.verify({ key: key.key })).code).toBe('SUSPENDED');
    expect((await t.client.keys.resume(key.id)).status).toBe('active');
    expect((await t.client.verify({ key: key.key })).code).toBe('VALID');
    expect((await t.client.keys.revoke(key.id)).status).toBe('revoked');
    expect((await t.client.verify({ key: key.key })).code).toBe('REVOKED');
    await expect(t.client.keys.resume(key.id)).rejects.toMatchObject({ status: 409, code: 'KW_ERR_INVALID_STATE' });
  });

  it('retires with a grace period (what providers call on delete)', async () => {
    const key = await t.client.keys.create({ name: 'leaving' });
    const retired = await t.client.keys.retire(key.id, { gracePeriodSeconds: 3 });
    expect(retired.status).toBe('retiring');
    expect((await t.client.verify({ key: key.key })).code).toBe('VALID');
    await sleepUntil(retired.graceUntil!);
    expect((await t.client.verify({ key: key.key })).code).toBe('EXPIRED');
    // Retiring again is harmless and never brings the key back.
    expect((await t.client.keys.retire(key.id, { gracePeriodSeconds: 3600 })).status).toBe('expired');
  });

  it('changes policy in place without changing the secret, honouring If-Match', async () => {
    const key = await t.client.keys.create({ name: 'reports', scopes: ['reports:read'] });
    expect((await t.client.verify({ key: key.key, scopes: ['email:send'] })).code).toBe('INSUFFICIENT_SCOPE');
    const updated = await t.client.keys.update(
      key.id,
      { scopes: ['reports:read', 'email:send'], name: 'reports+mail' },
      { ifMatch: 1 },
    );
    expect(updated).toMatchObject({ version: 2, name: 'reports+mail', start: key.start });
    // The cache entry was dropped at once: the new scope works on the very next call.
    expect((await t.client.verify({ key: key.key, scopes: ['email:send'] })).code).toBe('VALID');
    await expect(t.client.keys.update(key.id, { name: 'stale' }, { ifMatch: 1 })).rejects.toMatchObject({
      status: 412,
      code: 'KW_ERR_VERSION_MISMATCH',
    });
    expect((await t.client.keys.get(key.id)).name).toBe('reports+mail');
  });

  it('lists keys with filters and cursor pagination', async () => {
    for (let i = 0; i < 7; i += 1) await t.client.keys.create({ name: `batch-${i}`, scopes: ['batch:run'] });
    const seen: string[] = [];
    for await (const key of t.client.keys.list({ name: 'batch-', pageSize: 3 })) seen.push(key.name);
    expect(seen).toEqual(['batch-0', 'batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-5', 'batch-6']);
    const scoped: string[] = [];
    for await (const key of t.client.keys.list({ scope: 'batch:run' })) scoped.push(key.id);
    expect(scoped).toHaveLength(7);
    const revoked: string[] = [];
    for await (const key of t.client.keys.list({ status: 'revoked' })) revoked.push(key.name);
    expect(revoked).toEqual(['vendor']);
  });

  it('reports keys due for rotation by age', async () => {
    const key = await t.client.keys.create({ name: 'ancient', maxAgeDays: 30 });
    await t.server.store.db
      .updateTable('keys')
      .set({ created_at: new Date(Date.now() - 31 * 86_400_000) })
      .where('id', '=', key.id)
      .execute();
    const due: string[] = [];
    for await (const found of t.client.keys.list({ rotationDue: true })) due.push(found.id);
    expect(due).toEqual([key.id]);
    expect((await t.client.keys.get(key.id)).rotationDue).toBe(true);
    // The reminder: each maintenance round logs it and sets a gauge to alert on.
    await t.server.maintain();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain('keyward_keys_rotation_due{workspace="ws_default",kind="api"} 1');
    expect(t.logLines.some((line) => line.includes('due for rotation') && line.includes('"due":1'))).toBe(true);
  });

  it('keeps an intact hash-chained audit log of every action, with actor, IP and user agent', async () => {
    const report = await t.client.audit.verify();
    expect(report.ok).toBe(true);
    const entries = [];
    for await (const entry of t.client.audit.list()) entries.push(entry);
    expect(verifyAuditChain(entries).ok).toBe(true);
    const actions = entries.map((entry) => entry.action);
    expect(actions.slice(0, 2)).toEqual(['workspace.bootstrap', 'root_key.create']);
    for (const action of [
      'key.create',
      'key.rotate',
      'key.suspend',
      'key.resume',
      'key.revoke',
      'key.retire',
      'key.update',
    ])
      expect(actions).toContain(action);
    const update = entries.find((entry) => entry.action === 'key.update')!;
    expect(update).toMatchObject({ ip: '127.0.0.1', userAgent: 'keyward-sdk' });
    expect(update.actorKeyId).toMatch(/^rk_/);
    expect(update.changes).toMatchObject({ fields: ['name', 'scopes'] });
  });
});
