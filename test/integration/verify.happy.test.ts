import { sleepUntil, startTestServer, type TestServer } from '../support/harness';

/* An API owner verifies every incoming request: each check of the pipeline, reached over HTTP. */
describe('verify: every check of the pipeline', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  it('answers VALID with the key’s scopes, metadata and status', async () => {
    const key = await t.client.keys.create({
      name: 'v',
      scopes: ['contacts:read'],
      metadata: { plan: 'pro' },
      environment: 'test',
    });
    expect(key.key.startsWith('kw_test_')).toBe(true);
    const result = await t.client.verify({ key: key.key, scopes: ['contacts:read'] });
    expect(result).toEqual({
      valid: true,
      code: 'VALID',
      keyId: key.id,
      scopes: ['contacts:read'],
      metadata: { plan: 'pro' },
      expiresAt: null,
      status: 'active',
      deprecated: false,
      graceUntil: null,
      successorId: null,
      rateLimit: null,
    });
  });

  it('reaches MALFORMED on a typo, before any lookup, and NOT_FOUND for a well-formed unknown key', async () => {
    const key = await t.client.keys.create({ name: 'typo' });
    const last = key.key.at(-8)!;
    const typo = key.key.slice(0, -8) + (last === 'a' ? 'b' : 'a') + key.key.slice(-7);
    expect((await t.client.verify({ key: typo })).code).toBe('MALFORMED');
    expect((await t.client.verify({ key: 'not-a-key' })).code).toBe('MALFORMED');
    expect((await t.client.verify({ key: `kw_live_${'0'.repeat(49)}` })).code).toBe('MALFORMED');

    // A well-formed key that was never issued: generate one with a valid checksum from another store.
    const other = await startTestServer();
    try {
      const foreign = await other.client.keys.create({ name: 'elsewhere' });
      expect((await t.client.verify({ key: foreign.key })).code).toBe('NOT_FOUND');
    } finally {
      await other.close();
    }
    // A root key is not an API key.
    expect((await t.client.verify({ key: t.rootKey })).code).toBe('NOT_FOUND');
  });

  it('reaches EXPIRED when expiresAt passes', async () => {
    const key = await t.client.keys.create({ name: 'short', expiresAt: new Date(Date.now() + 3000).toISOString() });
    expect((await t.client.verify({ key: key.key })).code).toBe('VALID');
    await sleepUntil(key.expiresAt!);
    expect(await t.client.verify({ key: key.key })).toMatchObject({ valid: false, code: 'EXPIRED', status: 'expired' });
  });

  it('reaches SUSPENDED and REVOKED', async () => {
    const key = await t.client.keys.create({ name: 's' });
    await t.client.keys.suspend(key.id);
    expect((await t.client.verify({ key: key.key })).code).toBe('SUSPENDED');
    await t.client.keys.revoke(key.id);
    expect((await t.client.verify({ key: key.key })).code).toBe('REVOKED');
  });

  it('limits by IPv4, IPv6 and IPv4-mapped IPv6, and fails closed without a caller IP', async () => {
    const key = await t.client.keys.create({
      name: 'ips',
      ipAllowlist: ['192.0.2.0/24', '2001:db8:abcd::/48', '::ffff:198.51.100.0/120'],
    });
    expect(key.ipAllowlist).toEqual(['192.0.2.0/24', '2001:db8:abcd::/48', '198.51.100.0/24']);
    const code = async (ip?: string) => (await t.client.verify({ key: key.key, ...(ip ? { ip } : {}) })).code;
    expect(await code('192.0.2.44')).toBe('VALID');
    expect(await code('::ffff:192.0.2.44')).toBe('VALID');
    expect(await code('198.51.100.9')).toBe('VALID');
    expect(await code('::ffff:c633:6409')).toBe('VALID');
    expect(await code('2001:db8:abcd:12::1')).toBe('VALID');
    expect(await code('192.0.3.1')).toBe('IP_NOT_ALLOWED');
    expect(await code('2001:db8:abce::1')).toBe('IP_NOT_ALLOWED');
    expect(await code('::ffff:10.0.0.1')).toBe('IP_NOT_ALLOWED');
    expect(await code()).toBe('IP_NOT_ALLOWED');
  });

  it('matches wildcard and qualified scopes; every requested scope must be granted', async () => {
    const key = await t.client.keys.create({
      name: 'scopes',
      scopes: ['contacts:*', '*:read', 'deals:write@team/emea'],
    });
    const code = async (...scopes: string[]) => (await t.client.verify({ key: key.key, scopes })).code;
    expect(await code('contacts:export')).toBe('VALID');
    expect(await code('email:read', 'users:read')).toBe('VALID');
    expect(await code('deals:write@team/emea')).toBe('VALID');
    expect(await code('deals:write@team/emea/sales')).toBe('VALID');
    expect(await code('deals:write@team/apac')).toBe('INSUFFICIENT_SCOPE');
    expect(await code('deals:write')).toBe('INSUFFICIENT_SCOPE');
    expect(await code('contacts:read', 'email:send')).toBe('INSUFFICIENT_SCOPE');
    const god = await t.client.keys.create({ name: 'god', scopes: ['*'] });
    expect((await t.client.verify({ key: god.key, scopes: ['users:manage', 'email:send@brand/x'] })).code).toBe(
      'VALID',
    );
  });

  it('reaches RATE_LIMITED past the key’s limit and reports what is left', async () => {
    const key = await t.client.keys.create({ name: 'rl', rateLimit: { limit: 3, windowSeconds: 60 } });
    const results = [];
    for (let i = 0; i < 4; i += 1) results.push(await t.client.verify({ key: key.key }));
    expect(results.map((r) => r.code)).toEqual(['VALID', 'VALID', 'VALID', 'RATE_LIMITED']);
    expect(results[0]!.rateLimit).toMatchObject({ limit: 3, remaining: 2 });
    expect(results[3]!.rateLimit).toMatchObject({ limit: 3, remaining: 0 });
    expect(Date.parse(results[3]!.rateLimit!.resetAt)).toBeGreaterThan(Date.now());
  });

  it('checks in pipeline order: a revoked key outside its allowlist is REVOKED, not IP_NOT_ALLOWED', async () => {
    const key = await t.client.keys.create({ name: 'order', ipAllowlist: ['192.0.2.1'], scopes: ['a:b'] });
    expect((await t.client.verify({ key: key.key, ip: '192.0.2.2', scopes: ['c:d'] })).code).toBe('IP_NOT_ALLOWED');
    await t.client.keys.revoke(key.id);
    expect((await t.client.verify({ key: key.key, ip: '192.0.2.2', scopes: ['c:d'] })).code).toBe('REVOKED');
  });

  it('logs every verification with the caller IP, scopes, method, path, code and latency', async () => {
    const key = await t.client.keys.create({ name: 'logged', scopes: ['contacts:read'] });
    await t.client.verify({
      key: key.key,
      scopes: ['contacts:read'],
      ip: '203.0.113.9',
      method: 'GET',
      path: '/contacts',
    });
    await t.client.verify({ key: key.key, scopes: ['email:send'], ip: '2001:db8::5', method: 'POST', path: '/email' });
    await t.client.verify({ key: 'kw_live_nonsense' });
    const calls = [];
    for await (const call of t.client.calls.list({ keyId: key.id })) calls.push(call);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      keyId: key.id,
      keyStart: key.start,
      ip: '2001:db8::5',
      scopes: ['email:send'],
      method: 'POST',
      path: '/email',
      code: 'INSUFFICIENT_SCOPE',
    });
    expect(calls[1]).toMatchObject({ ip: '203.0.113.9', code: 'VALID', method: 'GET', path: '/contacts' });
    expect(calls[1]!.latencyMs).toBeGreaterThanOrEqual(0);
    const unknown = [];
    for await (const call of t.client.calls.list({ code: 'MALFORMED' })) unknown.push(call);
    expect(unknown[0]).toMatchObject({ keyId: null, keyStart: 'kw_live_nons' });
    const byIp = [];
    for await (const call of t.client.calls.list({ ip: '203.0.113.9' })) byIp.push(call);
    expect(byIp).toHaveLength(1);
  });
});
