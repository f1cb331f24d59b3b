import { type Cluster, startCluster } from '../support/cluster';
import { raw, sleep, TEST_STORE } from '../support/harness';

/*
 * Replicas go away: an orchestrator stops one with SIGTERM during a deploy, or one is killed.
 * A stopped replica drains (not ready at once, requests in flight answered, buffered call-log rows
 * written, exit 0) while the others serve every request; a killed one loses nothing it
 * acknowledged, and the audit chain still verifies. Needs Postgres (KEYWARD_TEST_STORE=postgres).
 */
const onPostgres = TEST_STORE === 'postgres' ? describe : describe.skip;

/** Verifies `key` on `url` in a loop until `stop` says so; counts answers and failures. */
function verifyLoop(url: string, rootKey: string, key: string, stop: { done: boolean }) {
  const tally = { ok: 0, failed: 0, errors: [] as string[] };
  const run = (async () => {
    while (!stop.done) {
      try {
        const answer = await raw(url, 'POST', '/v1/verify', { rootKey, body: { key } });
        if (answer.status === 200 && answer.body.code === 'VALID') tally.ok += 1;
        else {
          tally.failed += 1;
          tally.errors.push(`${answer.status} ${JSON.stringify(answer.body).slice(0, 120)}`);
        }
      } catch (error) {
        tally.failed += 1;
        tally.errors.push(String(error));
      }
    }
  })();
  return { tally, run };
}

onPostgres('cluster mode: a replica stopped or killed under load', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    // A long flush interval: the call-log rows a draining replica holds are written by the drain alone.
    cluster = await startCluster(3, { KEYWARD_CALL_FLUSH_INTERVAL_MS: '60000' });
  }, 60_000);
  afterAll(() => cluster.close());

  it('drains a replica on SIGTERM with no failed request on the others, and writes its buffered calls', async () => {
    const [a, b, c] = cluster.replicas as [Cluster['replicas'][0], Cluster['replicas'][0], Cluster['replicas'][0]];
    const key = await a.client.keys.create({ name: 'under load' });
    const stop = { done: false };
    const loops = [a, b, c].map((r) => verifyLoop(r.url, cluster.rootKey, key.key, stop));
    await sleep(500);
    const onC = (
      await raw(c.url, 'POST', '/v1/verify', { rootKey: cluster.rootKey, body: { key: key.key, path: '/drained' } })
    ).status;
    expect(onC).toBe(200);

    const exit = c.process.stop('SIGTERM');
    // Once the stopping replica has taken the signal (a probe racing it may still be answered
    // ready), it never reports itself ready again.
    const readiness: number[] = [];
    for (let probe = 0; probe < 50 && readiness.length < 10; probe += 1) {
      const status = await raw(c.url, 'GET', '/readyz').then(
        (answer) => answer.status,
        () => 0,
      );
      if (status !== 200 || readiness.length > 0) readiness.push(status);
      await sleep(20);
    }
    expect(readiness.length).toBeGreaterThan(0);
    expect(await exit).toBe(0);
    await sleep(300);
    stop.done = true;
    await Promise.all(loops.map((loop) => loop.run));
    cluster.replicas.splice(cluster.replicas.indexOf(c), 1);

    expect(readiness.filter((status) => status === 200)).toEqual([]);
    for (const loop of loops.slice(0, 2)) {
      expect(loop.tally.errors).toEqual([]);
      expect(loop.tally.ok).toBeGreaterThan(10);
    }
    // The drained replica wrote the call it held (nobody else had a path /drained).
    const calls = (await raw(a.url, 'GET', `/v1/keys/${key.id}/calls?limit=500`, { rootKey: cluster.rootKey })).body
      .items as Array<{ path: string }>;
    expect(calls.some((call) => call.path === '/drained')).toBe(true);
  }, 60_000);

  it('keeps every key a killed replica acknowledged, and the audit chain whole', async () => {
    const victim = await cluster.add('victim');
    const acknowledged: string[] = [];
    let attempts = 0;
    const writers = Array.from({ length: 4 }, async (_, writer) => {
      for (let index = 0; ; index += 1) {
        attempts += 1;
        try {
          const created = await raw(victim.url, 'POST', '/v1/keys', {
            rootKey: cluster.rootKey,
            body: { name: `kill-${writer}-${index}` },
          });
          if (created.status === 201) acknowledged.push(created.body.id as string);
        } catch {
          return; // the connection died with the replica
        }
      }
    });
    while (acknowledged.length < 20) await sleep(10);
    await victim.process.stop('SIGKILL');
    await Promise.all(writers);
    cluster.replicas.splice(cluster.replicas.indexOf(victim), 1);

    const survivor = cluster.replicas[0]!;
    for (const id of acknowledged) expect((await survivor.client.keys.get(id)).id).toBe(id);
    expect((await survivor.client.audit.verify()).ok).toBe(true);
    expect(attempts).toBeGreaterThanOrEqual(acknowledged.length);
    // The others kept serving throughout.
    const key = await survivor.client.keys.create({ name: 'after the kill' });
    expect((await cluster.replicas[1]!.client.verify({ key: key.key })).code).toBe('VALID');
  }, 60_000);
});
