import { generateKey, Keyward } from '../../sdk';
import { raw, startTestServer, type TestServer } from '../support/harness';
import { withWrongChecksum } from '../support/keys';

/* A supplied key keyward would not have made, or one already in use, is refused and nothing is stored. */
describe('caller-supplied keys: refused input', () => {
  let t: TestServer;
  let other: Keyward;
  beforeAll(async () => {
    t = await startTestServer();
    const workspace = await raw(t.url, 'POST', '/v1/workspaces', { rootKey: t.rootKey, body: { name: 'tenant-b' } });
    other = new Keyward({
      baseUrl: t.url,
      rootKey: workspace.body.rootKey.key,
      retries: 0,
    });
  });
  afterAll(async () => t.close());

  const create = (body: Record<string, unknown>) =>
    raw(t.url, 'POST', '/v1/keys', { rootKey: t.rootKey, body: { name: 'x', scopes: [], ...body } });
  const keyCount = async () => {
    let count = 0;
    for await (const _ of t.client.keys.list()) count += 1;
    return count;
  };

  /** A well-formed key whose checksum is recomputed after the body is changed is still checked for 256 bits. */
  const withBody = (tag: string, body: string) => {
    const good = generateKey({ environment: tag as 'live' });
    return `kw_${tag}_${body}${good.slice(-6)}`;
  };

  it.each([
    ['not a key', 'hello', /must be a keyward key/],
    ['a root-key prefix', generateKey().replace('kw_live_', 'kw_root_'), /must start with kw_live_/],
    ['the other environment', generateKey({ environment: 'test' }), /must start with kw_live_/],
    ['a wrong checksum', withWrongChecksum(generateKey()), /checksum/],
    ['a body of 43 z (above 256 bits)', withBody('live', 'z'.repeat(43)), /checksum|256 bits/],
    ['an over-long value', 'k'.repeat(101), /100/],
  ])('refuses %s with a 400 naming body.key, and stores nothing', async (_label, key, reason) => {
    const before = await keyCount();
    const response = await create({ key });
    expect(response.status).toBe(400);
    expect(response.body.error.issues[0].path).toBe('body.key');
    expect(response.body.error.issues[0].message).toMatch(reason);
    if (key.length > 40) expect(JSON.stringify(response.body)).not.toContain(key.slice(8, 40));
    expect(await keyCount()).toBe(before);
  });

  it('refuses a key already in use, in this workspace or another, with a 409 that says nothing of where', async () => {
    const key = generateKey();
    await t.client.keys.create({ name: 'first', scopes: [], key });
    const again = await create({ key });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('KW_ERR_CONFLICT');
    await expect(other.keys.create({ name: 'theirs', scopes: [], key })).rejects.toMatchObject({
      code: 'KW_ERR_CONFLICT',
    });
    const refused = JSON.stringify(again.body);
    expect(refused).not.toMatch(/key_[A-Za-z0-9]{6,}|first|ws_/);
  });

  it('refuses a supplied successor that is malformed, of the wrong environment, or in use; the key stays active', async () => {
    const first = await t.client.keys.create({ name: 'stays', scopes: [] });
    const used = generateKey();
    await t.client.keys.create({ name: 'taken', scopes: [], key: used });
    for (const [key, status] of [
      ['nope', 400],
      [generateKey({ environment: 'test' }), 400],
      [used, 409],
    ] as const) {
      const response = await raw(t.url, 'POST', `/v1/keys/${first.id}/rotate`, { rootKey: t.rootKey, body: { key } });
      expect(response.status).toBe(status);
    }
    expect((await t.client.keys.get(first.id)).status).toBe('active');
    expect((await t.client.verify({ key: first.key })).code).toBe('VALID');
  });

  it('refuses a supplied key for a root key', async () => {
    const response = await raw(t.url, 'POST', '/v1/root-keys', {
      rootKey: t.rootKey,
      body: { name: 'r', scopes: ['keys:read'], key: generateKey() },
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain('key');
  });

  it('never writes a supplied key to the log', async () => {
    const key = generateKey();
    await t.client.keys.create({ name: 'quiet', scopes: [], key });
    await create({ key });
    expect(t.logLines.join('')).not.toContain(key);
  });
});
