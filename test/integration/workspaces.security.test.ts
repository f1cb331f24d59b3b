import { Keyward, KeywardNotFoundError } from '../../sdk';
import { raw, startTestServer, type TestServer } from '../support/harness';

/*
 * Two tenants on one keyward: each root key sees and touches only its own workspace's keys and
 * logs, and only the operator's workspace can create tenants.
 */
describe('workspace isolation', () => {
  let kw: TestServer;
  let acme: Keyward;
  let acmeRootKey: string;
  beforeAll(async () => {
    kw = await startTestServer();
    const created = await kw.client.workspaces.create('acme');
    expect(created.workspace.name).toBe('acme');
    expect(created.rootKey).toMatchObject({ kind: 'root', scopes: ['*'], workspaceId: created.workspace.id });
    acmeRootKey = created.rootKey.key;
    acme = new Keyward({ baseUrl: kw.url, rootKey: acmeRootKey, retries: 0 });
  });
  afterAll(() => kw.close());

  it("never lets one workspace's root key list, read, change or verify another's keys", async () => {
    const ours = await kw.client.keys.create({ name: 'operator key', scopes: ['a:read'] });
    const theirs = await acme.keys.create({ name: 'acme key', scopes: ['a:read'] });

    const acmeIds: string[] = [];
    for await (const key of acme.keys.list()) acmeIds.push(key.id);
    expect(acmeIds).toEqual([theirs.id]);
    const operatorIds: string[] = [];
    for await (const key of kw.client.keys.list()) operatorIds.push(key.id);
    expect(operatorIds).not.toContain(theirs.id);

    await expect(acme.keys.get(ours.id)).rejects.toBeInstanceOf(KeywardNotFoundError);
    await expect(acme.keys.update(ours.id, { scopes: ['*'] })).rejects.toBeInstanceOf(KeywardNotFoundError);
    await expect(acme.keys.rotate(ours.id)).rejects.toBeInstanceOf(KeywardNotFoundError);
    await expect(acme.keys.revoke(ours.id)).rejects.toBeInstanceOf(KeywardNotFoundError);
    await expect(acme.keys.retire(ours.id)).rejects.toBeInstanceOf(KeywardNotFoundError);
    await expect(
      acme.rootKeys.get(kw.server.bootstrapRootKey ? await firstRootKeyId(kw.client) : ''),
    ).rejects.toBeInstanceOf(KeywardNotFoundError);
    // Verifying another workspace's key says nothing about it.
    expect(await acme.verify({ key: ours.key })).toMatchObject({ valid: false, code: 'NOT_FOUND', keyId: null });
    expect((await kw.client.verify({ key: theirs.key })).code).toBe('NOT_FOUND');
    expect((await acme.verify({ key: theirs.key, scopes: ['a:read'] })).code).toBe('VALID');
    // The operator's key is untouched.
    expect((await kw.client.keys.get(ours.id)).scopes).toEqual(['a:read']);

    // Logs are the workspace's own.
    const acmeCalls: (string | null)[] = [];
    for await (const call of acme.calls.list()) acmeCalls.push(call.keyId);
    expect(acmeCalls).not.toContain(ours.id);
    const acmeAudit: (string | null)[] = [];
    for await (const entry of acme.audit.list()) acmeAudit.push(entry.targetKeyId);
    expect(acmeAudit).not.toContain(ours.id);
    expect((await acme.audit.verify()).ok).toBe(true);
    await expect(acme.calls.list({ keyId: ours.id })[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(
      KeywardNotFoundError,
    );
  });

  it("lets only the operator's workspace create workspaces, with unique names", async () => {
    const denied = await raw(kw.url, 'POST', '/v1/workspaces', { rootKey: acmeRootKey, body: { name: 'acme-child' } });
    expect(denied.status).toBe(403);
    const taken = await raw(kw.url, 'POST', '/v1/workspaces', { rootKey: kw.rootKey, body: { name: 'acme' } });
    expect(taken.status).toBe(409);
    const invalid = await raw(kw.url, 'POST', '/v1/workspaces', { rootKey: kw.rootKey, body: { name: 'Not A Name!' } });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toContain('name');
  });
});

async function firstRootKeyId(client: Keyward): Promise<string> {
  for await (const key of client.rootKeys.list()) return key.id;
  throw new Error('no root key');
}
