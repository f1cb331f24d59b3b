import { eventually, raw, startTestServer, type TestServer } from '../support/harness';

/*
 * An attacker guesses keys and root keys. Failed verifications are throttled per source IP and
 * per key prefix, failed root-key attempts lock the source out, and all of it shows in the call
 * log and the audit log.
 */
describe('brute-force limits', () => {
  let kw: TestServer;
  beforeAll(async () => {
    kw = await startTestServer({
      verifyFailuresPerIp: '5/60',
      verifyFailuresPerPrefix: '3/60',
      rootKeyFailures: '3/60',
      rootKeyLockoutSeconds: 2,
    } as never);
  });
  afterAll(() => kw.close());

  const guess = (prefix: string) => `${prefix}${'x'.repeat(45)}`;

  /** The audit entries of one action, once there is at least one and the count has settled (they are written asynchronously). */
  const auditEntries = async (action: 'security.verify_throttled' | 'security.root_key_lockout') => {
    const read = async () => {
      const entries: { action: string; changes: Record<string, unknown> }[] = [];
      for await (const entry of kw.client.audit.list({ action })) entries.push(entry);
      return entries;
    };
    await eventually(async () => (await read()).length > 0);
    await new Promise((settle) => setTimeout(settle, 300));
    return read();
  };

  it('throttles guesses against one key prefix, whatever the source, without touching real keys', async () => {
    const real = await kw.client.keys.create({ name: 'real', scopes: ['a:read'] });
    const codes: string[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1)
      codes.push((await kw.client.verify({ key: guess('kw_live_AAAA'), ip: `203.0.113.${attempt + 1}` })).code);
    expect(codes).toEqual(['MALFORMED', 'MALFORMED', 'MALFORMED', 'BLOCKED', 'BLOCKED']);
    expect((await kw.client.verify({ key: guess('kw_live_BBBB'), ip: '203.0.113.50' })).code).toBe('MALFORMED');
    expect((await kw.client.verify({ key: real.key, scopes: ['a:read'], ip: '203.0.113.1' })).code).toBe('VALID');

    // Throttles are audited off the request path: wait for the entry, then make sure it is the only one.
    const audit = await auditEntries('security.verify_throttled');
    expect(audit).toEqual([
      expect.objectContaining({ changes: { reason: 'prefix', ip: null, keyPrefix: 'kw_live_AAAA' } }),
    ]);
    const calls: string[] = [];
    for await (const call of kw.client.calls.list({ code: 'BLOCKED' })) calls.push(`${call.keyStart} ${call.ip}`);
    expect(calls.sort()).toEqual(['kw_live_AAAA 203.0.113.4', 'kw_live_AAAA 203.0.113.5']);
  });

  it('throttles a source that keeps failing, even when it then presents a real key', async () => {
    const real = await kw.client.keys.create({ name: 'real too' });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect((await kw.client.verify({ key: guess(`kw_live_C${attempt}CC`), ip: '198.51.100.9' })).code).toBe(
        'MALFORMED',
      );
    }
    expect((await kw.client.verify({ key: real.key, ip: '198.51.100.9' })).code).toBe('BLOCKED');
    expect((await kw.client.verify({ key: real.key, ip: '198.51.100.10' })).code).toBe('VALID');
  });

  it('locks a source out of the management API after repeated bad root keys, then lets it back', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await raw(kw.url, 'GET', '/v1/keys', { rootKey: guess('kw_root_ZZZZ') })).status).toBe(401);
    }
    const locked = await raw(kw.url, 'GET', '/v1/keys', { rootKey: kw.rootKey });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('KW_ERR_LOCKED_OUT');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(locked.body)).not.toContain('kw_root_ZZZZ');
    await new Promise((wait) => setTimeout(wait, 2100));
    const lockouts = await auditEntries('security.root_key_lockout');
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0]!.changes).toMatchObject({ ip: '127.0.0.1', lockedUntil: expect.any(String) });
    expect(kw.logLines.join('\n')).toContain('source locked out of the management API');
  });
});
