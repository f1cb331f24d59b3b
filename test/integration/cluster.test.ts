import { type Cluster, metricValue, startCluster, within } from '../support/cluster';
import { signInOverHttp } from '../support/console';
import { raw, sleep, TEST_STORE } from '../support/harness';

/*
 * A platform team runs three replicas on one Postgres behind a load balancer. A change made
 * through any replica reaches the others in well under a second; one replica at a time runs the
 * store-wide maintenance, and another takes over when it dies; a replica that is stopped drains,
 * and one that is killed loses nothing it acknowledged. Replicas are separate processes.
 * (PGlite is one process: this story needs Postgres, KEYWARD_TEST_STORE=postgres.)
 */
const onPostgres = TEST_STORE === 'postgres' ? describe : describe.skip;

onPostgres('cluster mode: three replicas on one Postgres', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(3, { KEYWARD_MAINTENANCE_INTERVAL_MS: '300' });
  }, 60_000);
  afterAll(() => cluster.close());

  const replica = (index: number) => cluster.replicas[index]!;

  it('refuses a key revoked, suspended or narrowed through one replica on the others within a second', async () => {
    const [a, b, c] = [replica(0), replica(1), replica(2)];
    const key = await a.client.keys.create({ name: 'propagation', scopes: ['contacts:read', 'contacts:write'] });
    // Every replica has the key in its cache.
    for (const r of [a, b, c])
      expect((await r.client.verify({ key: key.key, scopes: ['contacts:write'] })).code).toBe('VALID');

    await a.client.keys.update(key.id, { scopes: ['contacts:read'] });
    for (const r of [b, c]) {
      const took = await within(
        1000,
        async () => (await r.client.verify({ key: key.key, scopes: ['contacts:write'] })).code === 'INSUFFICIENT_SCOPE',
      );
      expect(took).toBeLessThan(1000);
    }
    await b.client.keys.suspend(key.id);
    for (const r of [a, c])
      await within(1000, async () => (await r.client.verify({ key: key.key })).code === 'SUSPENDED');
    await c.client.keys.resume(key.id);
    for (const r of [a, b]) await within(1000, async () => (await r.client.verify({ key: key.key })).code === 'VALID');
    await a.client.keys.revoke(key.id);
    for (const r of [b, c])
      await within(1000, async () => (await r.client.verify({ key: key.key })).code === 'REVOKED');
  });

  it('stops the old key at once on every replica when a rotation has no grace period', async () => {
    const [a, b, c] = [replica(0), replica(1), replica(2)];
    const key = await b.client.keys.create({ name: 'rotated' });
    for (const r of [a, b, c]) expect((await r.client.verify({ key: key.key })).code).toBe('VALID');
    const successor = await b.client.keys.rotate(key.id, { gracePeriodSeconds: 0 });
    for (const r of [a, c]) {
      await within(1000, async () => (await r.client.verify({ key: key.key })).code === 'EXPIRED');
      expect((await r.client.verify({ key: successor.key })).code).toBe('VALID');
    }
  });

  it('ends a root key on every replica when it is revoked through one', async () => {
    const [a, b] = [replica(0), replica(1)];
    const admin = await a.client.rootKeys.create({ name: 'admin', scopes: ['keys:read'] });
    expect((await raw(b.url, 'GET', '/v1/keys', { rootKey: admin.key })).status).toBe(200);
    await a.client.rootKeys.revoke(admin.id);
    await within(1000, async () => (await raw(b.url, 'GET', '/v1/keys', { rootKey: admin.key })).status === 401);
  });

  it('runs maintenance on one replica at a time, and another takes over when the leader dies', async () => {
    const leaders = async () => {
      const values = await Promise.all(cluster.replicas.map((r) => metricValue(r.url, 'keyward_cluster_leader')));
      return cluster.replicas.filter((_r, index) => values[index] === 1);
    };
    await within(3000, async () => (await leaders()).length === 1);
    const [leader] = await leaders();
    await leader!.process.stop('SIGKILL');
    cluster.replicas.splice(cluster.replicas.indexOf(leader!), 1);
    // Within one maintenance period (300 ms) of the lock's release, plus Postgres noticing the dead session.
    const took = await within(5000, async () => (await leaders()).length === 1);
    expect(took).toBeLessThan(5000);
    // A replica takes the place of the dead one, as an orchestrator would start it.
    await cluster.add('d');
    await sleep(1000);
    expect(await leaders()).toHaveLength(1);
  }, 30_000);

  it('holds a rate limit across the replicas under concurrent load, refusing early only within the bound', async () => {
    const key = await replica(0).client.keys.create({ name: 'limited', rateLimit: { limit: 40, windowSeconds: 60 } });
    // Verifications spread over every replica, 8 at a time, well past the limit.
    const codes: string[] = [];
    const requests = Array.from({ length: 120 }, (_, index) => index);
    for (let start = 0; start < requests.length; start += 8) {
      const batch = requests.slice(start, start + 8).map(async (index) => {
        const r = cluster.replicas[index % cluster.replicas.length]!;
        return (await r.client.verify({ key: key.key })).code;
      });
      codes.push(...(await Promise.all(batch)));
    }
    const valid = codes.filter((code) => code === 'VALID').length;
    expect(codes.filter((code) => code !== 'VALID' && code !== 'RATE_LIMITED')).toEqual([]);
    // Never above the limit; below it by at most (replicas - 1) x limit / 8 (docs/operations.md).
    expect(valid).toBeLessThanOrEqual(40);
    expect(valid).toBeGreaterThanOrEqual(40 - (cluster.replicas.length - 1) * Math.floor(40 / 8));
  });

  it("holds a root key's rate limit across replicas for its console session and its bearer calls alike", async () => {
    const [a, b] = [replica(0), replica(1)];
    const limited = await a.client.rootKeys.create({
      name: 'limited console',
      scopes: ['keys:read'],
      rateLimit: { limit: 16, windowSeconds: 60 },
    });
    const browser = await signInOverHttp(a.url, limited.key);
    const statuses: number[] = [];
    for (let request = 0; request < 20; request += 1) {
      statuses.push((await browser.request('GET', '/v1/keys')).status);
      statuses.push((await raw(b.url, 'GET', '/v1/keys', { rootKey: limited.key })).status);
    }
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    // The sign-in took one; never above the limit, below it only within the leasing bound.
    const admitted = statuses.filter((status) => status === 200).length + 1;
    expect(admitted).toBeLessThanOrEqual(16);
    expect(admitted).toBeGreaterThanOrEqual(16 - (cluster.replicas.length - 1) * Math.floor(16 / 8));
  });

  it('blocks a guessing source on every replica once the cluster has seen its limit of failures', async () => {
    const fresh = await startCluster(3, { KEYWARD_VERIFY_FAILURES_PER_IP: '12/60' });
    try {
      const guess = (index: number) =>
        fresh.replicas[index % 3]!.client.verify({ key: `kw_live_${'x'.repeat(49)}`, ip: '203.0.113.66' });
      // 12 failures spread over three replicas: no replica alone has seen its limit.
      for (let index = 0; index < 12; index += 1) await guess(index);
      for (let index = 0; index < 3; index += 1) {
        await within(2000, async () => (await guess(index)).code === 'BLOCKED');
      }
      // Another source is unaffected.
      const other = await fresh.replicas[0]!.client.verify({ key: `kw_live_${'y'.repeat(49)}`, ip: '203.0.113.67' });
      expect(other.code).not.toBe('BLOCKED');
    } finally {
      await fresh.close();
    }
  }, 60_000);
});
