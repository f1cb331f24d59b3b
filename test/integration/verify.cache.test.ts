import { raw, startTestServer, type TestServer } from '../support/harness';

/** A gauge's or counter's value on a server's /metrics. */
async function metric(server: TestServer, name: string): Promise<number> {
  const metrics = (await raw(server.url, 'GET', '/metrics')).body as string;
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
}

/** keyward_verify_store_reads_total: the keys a server has read from the store for verifications. */
function storeReads(server: TestServer): Promise<number> {
  return metric(server, 'keyward_verify_store_reads_total');
}

/*
 * A gateway verifies many requests for one key at the same moment: the key's first use, or the
 * moment its cache entry expires under load. The server reads the key from the store once for
 * all of them, and every request gets the same answer.
 */
describe('verify: concurrent requests for a key the cache does not hold', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  it('share one read of the store, and all answer as one request would', async () => {
    // Forty connections opened and kept alive first, so the forty requests below arrive together.
    const warm = await t.client.keys.create({ name: 'warm' });
    await Promise.all(Array.from({ length: 40 }, () => t.client.verify({ key: warm.key })));

    const key = await t.client.keys.create({ name: 'burst', scopes: ['contacts:read'] });
    const before = await storeReads(t);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => t.client.verify({ key: key.key, scopes: ['contacts:read'] })),
    );
    expect(await storeReads(t)).toBe(before + 1);
    for (const answer of answers) expect(answer).toMatchObject({ valid: true, code: 'VALID', keyId: key.id });
  });

  it('read an unknown key once too, and answer NOT_FOUND to each', async () => {
    const other = await startTestServer();
    const foreign = await other.client.keys.create({ name: 'elsewhere' });
    await other.close();
    const before = await storeReads(t);
    const answers = await Promise.all(Array.from({ length: 40 }, () => t.client.verify({ key: foreign.key })));
    expect(await storeReads(t)).toBe(before + 1);
    for (const answer of answers) expect(answer).toMatchObject({ valid: false, code: 'NOT_FOUND' });
  });

  it('see a change to the key at once, right after a burst of first reads', async () => {
    const key = await t.client.keys.create({ name: 'suspended-mid-burst' });
    const burst = Promise.all(Array.from({ length: 20 }, () => t.client.verify({ key: key.key })));
    await t.client.keys.suspend(key.id);
    // Whatever the burst saw, every verification sent after the suspension was acknowledged sees
    // it, even while reads the burst started may still be under way.
    const after = await Promise.all(Array.from({ length: 20 }, () => t.client.verify({ key: key.key })));
    await burst;
    for (const answer of after) expect(answer).toMatchObject({ valid: false, code: 'SUSPENDED' });
  });
});

describe('verify: a cache TTL of 0', () => {
  it('turns the cache off: every verification reads the store', async () => {
    const t = await startTestServer({ verifyCacheTtlMs: 0 });
    try {
      const key = await t.client.keys.create({ name: 'uncached' });
      const before = await storeReads(t);
      for (let round = 0; round < 3; round += 1) expect((await t.client.verify({ key: key.key })).code).toBe('VALID');
      // Each verification reads the API key, and its root key's authentication reads that too.
      expect(await storeReads(t)).toBe(before + 6);
    } finally {
      await t.close();
    }
  });
});

describe('verify: a cache bounded by KEYWARD_VERIFY_CACHE_MAX_KEYS', () => {
  it('holds that many keys and reads the least recently used one again', async () => {
    const t = await startTestServer({ verifyCacheMaxKeys: 3 });
    try {
      // The root key's own authentication is cached too: it is used between every two verifications below.
      const first = await t.client.keys.create({ name: 'first' });
      const second = await t.client.keys.create({ name: 'second' });
      const third = await t.client.keys.create({ name: 'third' });
      const reads = async (key: string) => {
        const before = await storeReads(t);
        expect((await t.client.verify({ key })).code).toBe('VALID');
        return (await storeReads(t)) - before;
      };
      expect(await reads(first.key)).toBe(1);
      expect(await reads(second.key)).toBe(1);
      // Root key, first, second: full. Both keys are answered from memory now.
      expect(await reads(first.key)).toBe(0);
      expect(await reads(second.key)).toBe(0);
      // A third key pushes out the least recently used entry: the first key (the root key was used last).
      expect(await reads(third.key)).toBe(1);
      expect(await reads(first.key)).toBe(1);
    } finally {
      await t.close();
    }
  });
});

describe('verify: cache entries past their TTL', () => {
  it('leave memory at the next maintenance round, and the key is read again when next used', async () => {
    let now = Date.now();
    const t = await startTestServer({ maintenanceIntervalMs: 86_400_000 }, { clock: () => now });
    try {
      const keys = await Promise.all(['a', 'b', 'c'].map((name) => t.client.keys.create({ name })));
      for (const key of keys) expect((await t.client.verify({ key: key.key })).code).toBe('VALID');
      // The three keys and the root key that asked for them.
      expect(await metric(t, 'keyward_verify_cache_keys')).toBe(4);

      now += 29_000;
      await t.server.maintain();
      expect(await metric(t, 'keyward_verify_cache_keys')).toBe(4);

      now += 2_000;
      await t.server.maintain();
      expect(await metric(t, 'keyward_verify_cache_keys')).toBe(0);
      const before = await storeReads(t);
      expect((await t.client.verify({ key: keys[0]!.key })).code).toBe('VALID');
      // The key and the root key, both read from the store again.
      expect(await storeReads(t)).toBe(before + 2);
    } finally {
      await t.close();
    }
  });
});
