import { Keyward } from '../../sdk';
import { raw, startTestServer, type TestServer } from '../support/harness';

/*
 * A root key limits what it can mint: a root key can create, change, rotate or resume root keys,
 * and create workspaces, only within the scopes it holds itself (docs/security.md). Each attempt
 * to widen answers 403 KW_ERR_SCOPE_ESCALATION naming the missing scopes, and nothing changes.
 */
describe('root keys cannot grant more than they hold', () => {
  let t: TestServer;
  let manager: { id: string; key: string };
  let asManager: Keyward;
  beforeAll(async () => {
    t = await startTestServer();
    manager = await t.client.rootKeys.create({ name: 'manager', scopes: ['root-keys:manage', 'keys:read'] });
    asManager = new Keyward({ baseUrl: t.url, rootKey: manager.key, retries: 0 });
  });
  afterAll(() => t.close());

  const rootKeyCount = async () =>
    (await raw(t.url, 'GET', '/v1/root-keys?limit=500', { rootKey: t.rootKey })).body.items.length;

  it('refuses to create a root key with `*` or any scope it lacks, naming them', async () => {
    const before = await rootKeyCount();
    const star = await raw(t.url, 'POST', '/v1/root-keys', {
      rootKey: manager.key,
      body: { name: 'x', scopes: ['*'] },
    });
    expect(star.status).toBe(403);
    expect(star.body.error.code).toBe('KW_ERR_SCOPE_ESCALATION');
    expect(star.body.error.issues).toEqual([{ path: 'body.scopes', message: expect.stringContaining('*') }]);
    const wider = await raw(t.url, 'POST', '/v1/root-keys', {
      rootKey: manager.key,
      body: { name: 'x', scopes: ['keys:read', 'keys:write', 'audit:read'] },
    });
    expect(wider.status).toBe(403);
    expect(wider.body.error.message).toContain('keys:write, audit:read');
    expect(wider.body.error.message).not.toContain('keys:read,');
    expect(await rootKeyCount()).toBe(before);
  });

  it('creates a root key within its own scopes', async () => {
    const narrower = await asManager.rootKeys.create({ name: 'reader', scopes: ['keys:read'] });
    expect(narrower.scopes).toEqual(['keys:read']);
    const same = await asManager.rootKeys.create({ name: 'peer', scopes: ['root-keys:manage', 'keys:read'] });
    expect(same.scopes).toEqual(['root-keys:manage', 'keys:read']);
  });

  it('refuses to widen itself or another root key through update, and changes nothing', async () => {
    const self = await raw(t.url, 'PATCH', `/v1/root-keys/${manager.id}`, {
      rootKey: manager.key,
      body: { scopes: ['*'] },
    });
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('KW_ERR_SCOPE_ESCALATION');
    const reader = await asManager.rootKeys.create({ name: 'widen me', scopes: ['keys:read'] });
    const other = await raw(t.url, 'PATCH', `/v1/root-keys/${reader.id}`, {
      rootKey: manager.key,
      body: { scopes: ['keys:read', 'keys:revoke'] },
    });
    expect(other.status).toBe(403);
    expect(other.body.error.message).toContain('keys:revoke');
    expect((await t.client.rootKeys.get(manager.id)).scopes).toEqual(['root-keys:manage', 'keys:read']);
    expect((await t.client.rootKeys.get(reader.id)).scopes).toEqual(['keys:read']);
    // The `*` key it could not become still cannot act with it.
    await expect(asManager.keys.create({ name: 'no', scopes: ['*'] })).rejects.toMatchObject({
      status: 403,
      code: 'KW_ERR_FORBIDDEN',
    });
  });

  it('refuses to change, rotate or resume a root key that holds more than it does', async () => {
    const strong = await t.client.rootKeys.create({ name: 'strong', scopes: ['*'] });
    const rotate = await raw(t.url, 'POST', `/v1/root-keys/${strong.id}/rotate`, {
      rootKey: manager.key,
      body: { gracePeriodSeconds: 0 },
    });
    expect(rotate.status).toBe(403);
    expect(rotate.body.error.code).toBe('KW_ERR_SCOPE_ESCALATION');
    expect(rotate.body.error.issues[0].path).toBe('params.id');
    const rename = await raw(t.url, 'PATCH', `/v1/root-keys/${strong.id}`, {
      rootKey: manager.key,
      body: { ipAllowlist: [] },
    });
    expect(rename.status).toBe(403);
    const after = await t.client.rootKeys.get(strong.id);
    expect([after.status, after.version, after.successorId]).toEqual(['active', strong.version, null]);
    // Stopping a stronger key takes nothing from anyone; starting it again would.
    expect((await asManager.rootKeys.suspend(strong.id)).status).toBe('suspended');
    const resume = await raw(t.url, 'POST', `/v1/root-keys/${strong.id}/resume`, { rootKey: manager.key });
    expect([resume.status, resume.body.error.code]).toEqual([403, 'KW_ERR_SCOPE_ESCALATION']);
    expect((await t.client.rootKeys.resume(strong.id)).status).toBe('active');
  });

  it('rotates a root key within its own scopes', async () => {
    const reader = await asManager.rootKeys.create({ name: 'rotate me', scopes: ['keys:read'] });
    const successor = await asManager.rootKeys.rotate(reader.id, { gracePeriodSeconds: 0 });
    expect(successor.scopes).toEqual(['keys:read']);
  });

  it('lets only a root key holding every first-key scope create a workspace', async () => {
    const creator = await t.client.rootKeys.create({ name: 'creator', scopes: ['workspaces:create', 'keys:read'] });
    const asCreator = new Keyward({ baseUrl: t.url, rootKey: creator.key, retries: 0 });
    const star = await raw(t.url, 'POST', '/v1/workspaces', { rootKey: creator.key, body: { name: 'escalated' } });
    expect([star.status, star.body.error.code]).toEqual([403, 'KW_ERR_SCOPE_ESCALATION']);
    expect(star.body.error.issues[0].path).toBe('body.rootKeyScopes');
    const narrow = await asCreator.workspaces.create('narrow', { rootKeyScopes: ['keys:read'] });
    expect(narrow.rootKey.scopes).toEqual(['keys:read']);
    const again = await raw(t.url, 'POST', '/v1/workspaces', { rootKey: creator.key, body: { name: 'escalated' } });
    expect(again.status).toBe(403);
  });

  it('leaves a `*` root key able to do everything', async () => {
    const all = await t.client.rootKeys.create({ name: 'all', scopes: ['*'] });
    const asAll = new Keyward({ baseUrl: t.url, rootKey: all.key, retries: 0 });
    const minted = await asAll.rootKeys.create({ name: 'minted', scopes: ['*'] });
    expect((await asAll.rootKeys.update(minted.id, { scopes: ['keys:read', 'audit:read'] })).scopes).toEqual([
      'keys:read',
      'audit:read',
    ]);
    expect((await asAll.rootKeys.update(minted.id, { scopes: ['*'] })).scopes).toEqual(['*']);
    expect((await asAll.rootKeys.rotate(minted.id, { gracePeriodSeconds: 0 })).scopes).toEqual(['*']);
    expect((await asAll.workspaces.create('by-star')).rootKey.scopes).toEqual(['*']);
    // API-key scopes are resource scopes, outside the subset rule (docs/security.md).
    const writer = await t.client.rootKeys.create({ name: 'writer', scopes: ['keys:write'] });
    const apiKey = await new Keyward({ baseUrl: t.url, rootKey: writer.key, retries: 0 }).keys.create({
      name: 'api',
      scopes: ['*'],
    });
    expect(apiKey.scopes).toEqual(['*']);
  });

  it('records no audit entry for a refused escalation', async () => {
    const before = (await raw(t.url, 'GET', '/v1/audit?limit=500', { rootKey: t.rootKey })).body.items.length;
    await raw(t.url, 'POST', '/v1/root-keys', { rootKey: manager.key, body: { name: 'x', scopes: ['*'] } });
    await raw(t.url, 'PATCH', `/v1/root-keys/${manager.id}`, { rootKey: manager.key, body: { scopes: ['*'] } });
    const after = (await raw(t.url, 'GET', '/v1/audit?limit=500', { rootKey: t.rootKey })).body.items.length;
    expect(after).toBe(before);
  });
});
