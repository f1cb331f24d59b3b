import { Writable } from 'node:stream';
import { Keyward } from '../../sdk';
import { type RunningServer, startServer } from '../../server';
import { within } from '../support/cluster';
import { githubSigner, keysDocument, match, sendAlert } from '../support/github';
import { raw, startTestServer, TEST_STORE, type TestServer } from '../support/harness';

/*
 * Two replicas on one Postgres, each caching keys for ten minutes. GitHub's alert lands on one;
 * the other refuses the key within a second, as for any other change: the leak is announced in
 * the transaction that applies it. (PGlite is one process: this needs KEYWARD_TEST_STORE=postgres.)
 */
const onPostgres = TEST_STORE === 'postgres' ? describe : describe.skip;

onPostgres('a leak reaches every replica', () => {
  const github = githubSigner('cluster-key');
  const settings = { githubScanningKeys: keysDocument(github), verifyCacheTtlMs: 600_000 };
  let a: TestServer;
  let b: RunningServer;
  let clientB: Keyward;
  beforeAll(async () => {
    a = await startTestServer(settings);
    // The second replica shares the store and the data dir's pepper and master key, as replicas share secrets.
    const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
    b = await startServer(
      { ...settings, port: 0, host: '127.0.0.1', dataDir: a.dataDir, databaseUrl: a.databaseUrl, logLevel: 'warn' },
      { env: {}, logDestination: quiet },
    );
    clientB = new Keyward({ baseUrl: b.url, rootKey: a.rootKey, retries: 0 });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('refuses a key on the other replica within a second of GitHub reporting it to one', async () => {
    const key = await a.client.keys.create({ name: 'seen on both' });
    for (const client of [a.client, clientB]) expect((await client.verify({ key: key.key })).code).toBe('VALID');
    const answer = await sendAlert(a.url, JSON.stringify([match(key.key)]), github);
    expect(answer.body[0].label).toBe('true_positive');
    const took = await within(1000, async () => (await clientB.verify({ key: key.key })).code === 'SUSPENDED');
    expect(took).toBeLessThan(1000);
  });

  it('revokes on every replica a key reported through the other one', async () => {
    await raw(b.url, 'PATCH', '/v1/settings', { rootKey: a.rootKey, body: { leakPolicy: 'revoke' } });
    const key = await a.client.keys.create({ name: 'reported on b' });
    expect((await a.client.verify({ key: key.key })).code).toBe('VALID');
    expect((await clientB.keys.reportLeak({ keyId: key.id })).key.status).toBe('revoked');
    await within(1000, async () => (await a.client.verify({ key: key.key })).code === 'REVOKED');
  });
});
