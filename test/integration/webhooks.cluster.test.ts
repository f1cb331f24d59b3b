import pg from 'pg';
import { type Cluster, metricValue, startCluster, within } from '../support/cluster';
import { raw, TEST_STORE } from '../support/harness';
import { type Receiver, startReceiver } from '../support/receiver';

/*
 * Three replicas, separate processes, on one Postgres, all delivering every 20 ms. Changes made
 * through any of them reach a healthy receiver once each: every event id exactly once, and the
 * replicas' delivery counters add up to the number of events, so no attempt was doubled. A
 * guessing source blocked through the cluster's shared count is reported once, not once per
 * replica. (PGlite is one process: this needs Postgres, KEYWARD_TEST_STORE=postgres.)
 */
const onPostgres = TEST_STORE === 'postgres' ? describe : describe.skip;

onPostgres('webhook delivery with three replicas on one Postgres', () => {
  let cluster: Cluster;
  let receiver: Receiver;
  let db: pg.Client;
  beforeAll(async () => {
    receiver = await startReceiver();
    cluster = await startCluster(3, {
      KEYWARD_WEBHOOK_ALLOW_PRIVATE: 'true',
      KEYWARD_WEBHOOK_ALLOW_HTTP: 'true',
      KEYWARD_WEBHOOK_DISPATCH_INTERVAL_MS: '20',
      KEYWARD_VERIFY_FAILURES_PER_IP: '12/60',
    });
    db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
  }, 90_000);
  afterAll(async () => {
    await db.end();
    await cluster.close();
    await receiver.close();
  });

  const count = async (query: string, values: unknown[] = []) =>
    Number((await db.query<{ count: string }>(query, values)).rows[0]!.count);
  /** Waits until no delivery is pending: a settled delivery is never claimed again, so what arrived is final. */
  const settled = () =>
    within(30_000, async () => (await count(`select count(*) from webhook_deliveries where status = 'pending'`)) === 0);
  const deliveredBy = async () =>
    Promise.all(
      cluster.replicas.map(
        async (replica) =>
          (await metricValue(replica.url, 'keyward_webhook_deliveries_total{result="succeeded"}')) ?? 0,
      ),
    );

  it('delivers every event of changes made through any replica exactly once', async () => {
    const [a] = cluster.replicas;
    const hook = await raw(a!.url, 'POST', '/v1/webhooks', {
      rootKey: cluster.rootKey,
      body: { url: `${receiver.url}/keys`, eventTypes: ['key.created', 'key.updated', 'key.revoked'] },
    });
    expect(hook.status).toBe(201);
    const before = (await deliveredBy()).reduce((sum, value) => sum + value, 0);

    // 60 keys, each created, renamed and revoked through a different replica, 6 at a time.
    const ids: string[] = [];
    for (let start = 0; start < 60; start += 6) {
      await Promise.all(
        Array.from({ length: 6 }, async (_, offset) => {
          const index = start + offset;
          const replica = (shift: number) => cluster.replicas[(index + shift) % cluster.replicas.length]!.client;
          const key = await replica(0).keys.create({ name: `clustered ${index}`, scopes: ['a:b'] });
          await replica(1).keys.update(key.id, { name: `clustered ${index} renamed` });
          await replica(2).keys.revoke(key.id);
          ids.push(key.id);
        }),
      );
    }
    await settled();

    const requests = receiver.received.filter((request) => request.path === '/keys');
    const eventIds = requests.map((request) => String(request.headers['webhook-id']));
    expect(new Set(eventIds).size).toBe(180);
    expect(eventIds).toHaveLength(180);
    const stored = await db.query<{ id: string }>(
      `select id from events where type in ('key.created', 'key.updated', 'key.revoked')`,
    );
    expect(new Set(eventIds)).toEqual(new Set(stored.rows.map((row) => row.id)));
    const perKey = new Map<string, string[]>();
    for (const request of requests) {
      const event = JSON.parse(request.body);
      perKey.set(event.data.key.id, [...(perKey.get(event.data.key.id) ?? []), event.type]);
    }
    for (const id of ids) expect(perKey.get(id)?.sort()).toEqual(['key.created', 'key.revoked', 'key.updated']);

    // Each attempt counted by the replica that made it: together, one per event, and shared out.
    const after = await deliveredBy();
    expect(after.reduce((sum, value) => sum + value, 0) - before).toBe(180);
    expect(after.filter((value) => value > 0).length).toBeGreaterThanOrEqual(2);
    expect(await count(`select count(*) from webhook_deliveries where attempt_count <> 1`)).toBe(0);
  }, 120_000);

  it('reports a source blocked through the cluster once, however many replicas it guessed on', async () => {
    const hook = await raw(cluster.replicas[0]!.url, 'POST', '/v1/webhooks', {
      rootKey: cluster.rootKey,
      body: { url: `${receiver.url}/blocked`, eventTypes: ['security.blocked'] },
    });
    expect(hook.status).toBe(201);
    // A new prefix each time: only the address is being blocked, not a prefix.
    let guesses = 0;
    const guess = (replica: number, ip: string) => {
      guesses += 1;
      const key = `kw_live_${String(guesses).padStart(4, '0')}${'q'.repeat(45)}`;
      return cluster.replicas[replica % cluster.replicas.length]!.client.verify({ key, ip });
    };

    // Spread over the replicas: none sees the limit alone; the cluster's count does, once.
    for (let index = 0; index < 12; index += 1) await guess(index, '203.0.113.70');
    for (let index = 0; index < 3; index += 1)
      await within(2_000, async () => (await guess(index, '203.0.113.70')).code === 'BLOCKED');
    // On one replica only: it blocks on its own count, and its batch also takes the cluster over.
    for (let index = 0; index < 14; index += 1) await guess(0, '203.0.113.71');
    for (let index = 0; index < 3; index += 1)
      await within(2_000, async () => (await guess(index, '203.0.113.71')).code === 'BLOCKED');

    await within(5_000, async () => (await count(`select count(*) from events where type = 'security.blocked'`)) >= 2);
    // The reports are written off the request path: give a late duplicate time to appear.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await settled();
    const reported = receiver.received
      .filter((request) => request.path === '/blocked')
      .map((request) => JSON.parse(request.body).data);
    expect(reported.map((data) => data.ip).sort()).toEqual(['203.0.113.70', '203.0.113.71']);
    for (const data of reported) expect(data).toMatchObject({ reason: 'brute_force', keyPrefix: null });
    const audited = await count(`select count(*) from audit_log where action = 'security.verify_throttled'`);
    expect(audited).toBe(2);
  }, 60_000);
});
