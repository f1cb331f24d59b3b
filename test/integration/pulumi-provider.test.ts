import { apiKeyProvider as provider } from '../../provider/pulumi';
import { startTestServer, type TestServer } from '../support/harness';

/*
 * The ApiKey provider's contract with the engine, method by method, against the real server.
 * (The same provider under the real engine and dynamic-provider host: test/e2e/pulumi-gitops.)
 */
describe('keyward/pulumi ApiKey provider methods', () => {
  let kw: TestServer;
  let settings: { url: string; rootKey: string };
  beforeAll(async () => {
    kw = await startTestServer();
    settings = { url: kw.url, rootKey: kw.rootKey };
  });
  afterAll(() => kw.close());

  it('check copes with empty olds, and names each bad property', async () => {
    const fresh = await provider.check!({} as never, { name: 'crm', scopes: ['contacts:read'] });
    expect(fresh.failures).toEqual([]);
    expect(fresh.inputs.__idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);

    const bad = await provider.check!({} as never, {
      name: 'crm',
      scopes: ['Contacts Read!'],
      ipAllowlist: ['10.0.0.0/33'],
      rotation: { gracePeriod: 'soon', rotateAfter: 'someday' },
    });
    const properties = bad.failures!.map((failure) => failure.property);
    expect(properties).toEqual(expect.arrayContaining(['scopes', 'ipAllowlist', 'rotation']));
    expect(bad.failures!.find((failure) => failure.property === 'scopes')!.reason).toMatch(/^scopes\.0: /);
    expect(bad.failures!.map((failure) => failure.reason).join('\n')).toMatch(/gracePeriod: "soon" is not a duration/);
  });

  it('keeps the Idempotency-Key while the key stays, so an engine retry of create makes one key', async () => {
    const first = await provider.check!({} as never, { ...settings, name: 'retried create' });
    const again = await provider.check!(first.inputs, { ...settings, name: 'retried create' });
    expect(again.inputs.__idempotencyKey).toBe(first.inputs.__idempotencyKey);
    const created = await provider.create!(first.inputs);
    const retried = await provider.create!(first.inputs);
    expect(retried.id).toBe(created.id);
    const named: string[] = [];
    for await (const key of kw.client.keys.list()) if (key.name === 'retried create') named.push(key.id);
    expect(named).toEqual([created.id]);
    // A rotation is a new key: a new Idempotency-Key.
    const rotated = await provider.check!(first.inputs, {
      ...settings,
      name: 'retried create',
      rotation: { rotateAfter: '2026-12-01' },
    });
    expect(rotated.inputs.__idempotencyKey).not.toBe(first.inputs.__idempotencyKey);
  });

  it('diff replaces create-before-delete on rotation triggers and updates policy in place', async () => {
    const olds = {
      name: 'crm',
      scopes: ['a:read'],
      rotation: { rotateAfter: '2026-11-01' },
      createdAt: new Date().toISOString(),
    };
    expect(await provider.diff!('key_1', olds, { ...olds, rotation: { rotateAfter: '2026-11-20' } })).toMatchObject({
      changes: true,
      replaces: ['rotation'],
      deleteBeforeReplace: false,
    });
    const inPlace = await provider.diff!('key_1', olds, { ...olds, scopes: ['a:read', 'b:write'] });
    expect(inPlace).toMatchObject({ changes: true, replaces: [] });
    expect(inPlace.stables).toEqual(expect.arrayContaining(['keyId', 'key']));
    const aged = { ...olds, createdAt: new Date(Date.now() - 40 * 86_400_000).toISOString() };
    expect(
      (await provider.diff!('key_1', aged, { ...olds, rotation: { rotateAfter: '2026-11-01', rotateEveryDays: 30 } }))
        .replaces,
    ).toEqual(['rotation']);
    // An omitted field equals the server's default: nothing to do.
    expect(
      (await provider.diff!('key_1', { ...olds, metadata: {}, ipAllowlist: [], maxAgeDays: 180 }, olds)).changes,
    ).toBe(false);
  });

  it('adopts an existing key, and a failure after the key is known carries its id and properties', async () => {
    const existing = await kw.client.keys.create({ name: 'legacy', scopes: ['all:*'] });
    const adopted = await provider.create!({
      ...settings,
      name: 'legacy',
      scopes: ['contacts:read'],
      importKeyId: existing.id,
      importKey: existing.key,
    });
    expect(adopted.id).toBe(existing.id);
    expect(adopted.outs).toMatchObject({ keyId: existing.id, key: existing.key, status: 'active' });
    expect((await kw.client.keys.get(existing.id)).scopes).toEqual(['contacts:read']);

    const other = await kw.client.keys.create({ name: 'other' });
    await expect(
      provider.create!({ ...settings, name: 'legacy', importKeyId: existing.id, importKey: other.key }),
    ).rejects.toThrow(`importKey: is not the secret of key ${existing.id}`);
    await expect(provider.create!({ ...settings, name: 'x', importKeyId: 'key_doesnotexist' })).rejects.toThrow(
      /importKeyId: no key key_doesnotexist/,
    );

    // The server refuses the policy (check would have caught it; the engine skips nothing here):
    // the error tells the engine the key exists, so it is recorded, not orphaned.
    const failure = await provider.create!({
      ...settings,
      name: 'legacy',
      scopes: ['Not A Scope'],
      importKeyId: existing.id,
    }).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      id: existing.id,
      properties: { keyId: existing.id, status: 'active' },
      reasons: [expect.stringMatching(/scopes/)],
    });
    expect(String((failure as Error).message)).not.toContain(existing.key);
  });

  it('read reports a key revoked out of band as gone, and returns the server policy as inputs', async () => {
    const created = await provider.create!({ ...settings, name: 'to refresh', scopes: ['a:read'] });
    await kw.client.keys.update(created.id, { scopes: ['a:read', 'a:write'] });
    const read = await provider.read!(created.id, created.outs);
    expect(read.inputs).toMatchObject({ scopes: ['a:read', 'a:write'] });
    expect(read.props).toMatchObject({ key: created.outs.key, keyId: created.id });
    await kw.client.keys.revoke(created.id);
    expect((await provider.read!(created.id, created.outs)).id).toBeUndefined();
  });
});
