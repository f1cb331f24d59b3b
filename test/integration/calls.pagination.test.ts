import type { Call } from '../../schema';
import { appendCalls, type CallRecord } from '../../server/calls/repository';
import { startTestServer, type TestServer } from '../support/harness';

/*
 * An operator pages through a long call log. The log is stored in segments of up to 1,000 calls
 * whose time ranges overlap (several server processes, out-of-order completions), so every page
 * must still come out newest first, with no call missing or repeated, under every filter.
 */
describe('paging through a call log stored in overlapping segments', () => {
  let t: TestServer;
  const written: CallRecord[] = [];
  const now = Date.now();
  const keyIds: string[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    const { id: workspaceId } = await t.server.store.db
      .selectFrom('workspaces')
      .select('id')
      .where('name', '=', 'default')
      .executeTakeFirstOrThrow();
    for (const name of ['a', 'b', 'idle']) keyIds.push((await t.client.keys.create({ name })).id);
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    // Segments of 1,000, 1 and 400 calls, interleaved in time, plus calls sharing one millisecond.
    // The first two are written by one call, as two segments in one statement.
    let held: CallRecord[] = [];
    for (const size of [1000, 1, 400, 250]) {
      const batch: CallRecord[] = [];
      for (let i = 0; i < size; i += 1) {
        batch.push({
          workspaceId,
          at: now - 60_000 + random(size === 250 ? 3 : 60_000),
          keyId: [keyIds[0]!, keyIds[1]!, null][random(3)]!,
          keyStart: 'kw_live_abcd',
          ip: `198.51.100.${random(5)}`,
          scopes: ['contacts:read'],
          method: 'GET',
          path: `/contacts/${i}`,
          code: (['VALID', 'INSUFFICIENT_SCOPE'] as const)[random(2)]!,
          latencyMs: 0.25,
        });
      }
      written.push(...batch);
      if (size === 1000) held = batch;
      else {
        await appendCalls(t.server.store.db, [...held, ...batch]);
        held = [];
      }
    }
  });
  afterAll(async () => t.close());

  async function listAll(filters: Parameters<TestServer['client']['calls']['list']>[0]): Promise<Call[]> {
    const calls: Call[] = [];
    for await (const call of t.client.calls.list(filters)) calls.push(call);
    return calls;
  }

  function expectNewestFirstAndComplete(calls: Call[], expected: CallRecord[]): void {
    expect(new Set(calls.map((call) => call.id)).size).toBe(calls.length);
    for (let i = 1; i < calls.length; i += 1) {
      const [newer, older] = [calls[i - 1]!, calls[i]!];
      const order = Date.parse(newer.at) - Date.parse(older.at) || Number(newer.id) - Number(older.id);
      expect(order).toBeGreaterThan(0);
    }
    const signature = (at: number, path: string | null, ip: string | null, code: string) =>
      `${at} ${path} ${ip} ${code}`;
    expect(calls.map((call) => signature(Date.parse(call.at), call.path, call.ip, call.code)).sort()).toEqual(
      expected.map((call) => signature(call.at, call.path, call.ip, call.code)).sort(),
    );
  }

  it('lists every call once, newest first, in pages of 37', async () => {
    expectNewestFirstAndComplete(await listAll({ pageSize: 37 }), written);
  });

  it('filters by key, by code, by IP and by time, across segments', async () => {
    expectNewestFirstAndComplete(
      await listAll({ keyId: keyIds[1]!, pageSize: 100 }),
      written.filter((call) => call.keyId === keyIds[1]),
    );
    expectNewestFirstAndComplete(
      await listAll({ code: 'INSUFFICIENT_SCOPE', pageSize: 500 }),
      written.filter((call) => call.code === 'INSUFFICIENT_SCOPE'),
    );
    expectNewestFirstAndComplete(
      await listAll({ ip: '198.51.100.3', pageSize: 60 }),
      written.filter((call) => call.ip === '198.51.100.3'),
    );
    const since = new Date(now - 30_000);
    expectNewestFirstAndComplete(
      await listAll({ since: since.toISOString(), pageSize: 90 }),
      written.filter((call) => call.at >= since.getTime()),
    );
  });

  it('finds nothing for a key with no calls, without an error', async () => {
    expect(await listAll({ keyId: keyIds[2]! })).toEqual([]);
  });
});
