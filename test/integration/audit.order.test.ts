import { raw, startTestServer, type TestServer } from '../support/harness';
import { runCli } from '../support/process';

/*
 * A security lead opens the audit log to see what happened last: newest first, page by page, with
 * the same filters as chain order, through the API, the SDK and the CLI.
 */
describe('the audit log, newest first', () => {
  let t: TestServer;
  let keyId: string;
  beforeAll(async () => {
    t = await startTestServer();
    const key = await t.client.keys.create({ name: 'watched', scopes: ['a:b'] });
    keyId = key.id;
    await t.client.keys.suspend(key.id);
    await t.client.keys.resume(key.id);
    await t.client.keys.create({ name: 'other' });
    await t.client.keys.update(key.id, { scopes: ['a:b', 'c:d'] });
    await t.client.keys.revoke(key.id);
  });
  afterAll(async () => t.close());

  const cli = (...args: string[]) => runCli(args, { ...process.env, KEYWARD_URL: t.url, KEYWARD_ROOT_KEY: t.rootKey });

  /** Every seq of GET /v1/audit with `query`, following nextCursor, in the order the pages give. */
  const walk = async (query: string) => {
    const seqs: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await raw(
        t.url,
        'GET',
        `/v1/audit?${query}&limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        { rootKey: t.rootKey },
      );
      expect(page.status).toBe(200);
      seqs.push(...page.body.items.map((entry: { seq: number }) => entry.seq));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    return seqs;
  };

  it('pages newest first with order=desc, every entry once, the reverse of chain order', async () => {
    const oldestFirst = await walk('order=asc');
    expect(oldestFirst).toEqual([...oldestFirst].sort((a, b) => a - b));
    expect(await walk('')).toEqual(oldestFirst);
    const newestFirst = await walk('order=desc');
    expect(newestFirst).toEqual([...oldestFirst].reverse());
    const first = await raw(t.url, 'GET', '/v1/audit?order=desc&limit=1', { rootKey: t.rootKey });
    expect(first.body.items[0]).toMatchObject({ action: 'key.revoke', targetKeyId: keyId });
  });

  it('filters by key and action the same way in either order', async () => {
    const forKey = await walk(`order=desc&keyId=${keyId}`);
    expect(forKey).toEqual((await walk(`keyId=${keyId}`)).reverse());
    expect(forKey).toHaveLength(5);
    const page = await raw(t.url, 'GET', '/v1/audit?order=desc&action=key.create', { rootKey: t.rootKey });
    // Two keys were created: `other` after `watched`, so `other` comes first.
    const targets = page.body.items.map((entry: { action: string; targetKeyId: string }) => [
      entry.action,
      entry.targetKeyId === keyId,
    ]);
    expect(targets).toEqual([
      ['key.create', false],
      ['key.create', true],
    ]);
  });

  it('reads newest first through the SDK and `keyward audit --order desc`', async () => {
    const viaSdk: number[] = [];
    for await (const entry of t.client.audit.list({ order: 'desc', pageSize: 3 })) viaSdk.push(entry.seq);
    expect(viaSdk).toEqual(await walk('order=desc'));
    const { code, out, err } = await cli('audit', '--order', 'desc', '--json');
    expect([code, err]).toEqual([0, '']);
    expect((JSON.parse(out) as { seq: number }[]).map((entry) => entry.seq)).toEqual(viaSdk);
    // The chain is still checked in chain order, whatever order a reader lists it in.
    expect(await t.client.audit.verify()).toMatchObject({ ok: true });
  });

  it('refuses an order it does not know, naming the field, from the API and the CLI', async () => {
    const answer = await raw(t.url, 'GET', '/v1/audit?order=sideways', { rootKey: t.rootKey });
    expect([answer.status, answer.body.error.code]).toEqual([400, 'KW_ERR_VALIDATION']);
    expect(answer.body.error.issues[0].path).toBe('querystring.order');
    const { code, err } = await cli('audit', '--order', 'sideways');
    expect(code).toBe(2);
    expect(err).toContain('--order: must be asc (oldest first) or desc (newest first)');
  });
});
