import { CallRecorder } from '../../server/calls/recorder';
import { startTestServer, type TestServer } from '../support/harness';

/*
 * A key verified thousands of times a second must not cost a row update per flush: the timed flush
 * writes a key's lastUsed at most once a second, while every call still goes to the call log and
 * the exact last use stays readable. The times below are the calls' own (injected), not sleeps.
 */
describe('lastUsed is written at most once per key per second', () => {
  let t: TestServer;
  let recorder: CallRecorder;
  let key: { id: string; workspaceId: string };
  beforeAll(async () => {
    t = await startTestServer();
    const created = await t.client.keys.create({ name: 'busy', scopes: ['a:b'] });
    key = { id: created.id, workspaceId: created.workspaceId };
    // A recorder of our own on the server's store, flushed only when the test says.
    recorder = new CallRecorder(t.server.store.db, { flushIntervalMs: 3_600_000, onError: (error) => fail(error) });
  });
  afterAll(async () => {
    await recorder.close();
    await t.close();
  });

  const call = (at: number, ip: string) =>
    recorder.record({
      workspaceId: key.workspaceId,
      at,
      keyId: key.id,
      keyStart: 'kw_live_abcd',
      ip,
      scopes: ['a:b'],
      method: 'GET',
      path: '/x',
      code: 'VALID',
      latencyMs: 0.1,
    });
  const stored = async () => {
    const row = await t.server.store.db
      .selectFrom('keys')
      .select(['last_used_at', 'last_used_ip'])
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow();
    return { at: row.last_used_at?.getTime() ?? null, ip: row.last_used_ip };
  };
  const loggedCalls = async () => {
    let count = 0;
    for await (const _ of t.client.calls.list({ keyId: key.id })) count += 1;
    return count;
  };

  it('writes the first use, holds uses within the second, writes the latest once the second has passed', async () => {
    const start = Date.now();
    call(start, '10.0.0.1');
    await recorder.flushDue();
    expect(await stored()).toEqual({ at: start, ip: '10.0.0.1' });

    for (let ms = 100; ms <= 900; ms += 100) call(start + ms, `10.0.0.${2 + ms / 100}`);
    await recorder.flushDue();
    // Held: the stored time is still the first; the exact one is in memory.
    expect(await stored()).toEqual({ at: start, ip: '10.0.0.1' });
    expect(recorder.pendingLastUse(key.id)).toEqual({ at: new Date(start + 900), ip: '10.0.0.11' });

    call(start + 1000, '10.0.0.12');
    await recorder.flushDue();
    expect(await stored()).toEqual({ at: start + 1000, ip: '10.0.0.12' });
    // Every call is in the call log, held last uses or not.
    expect(await loggedCalls()).toBe(11);
  });

  it('a forced flush (drain, shutdown, a read of the call log) writes every last use', async () => {
    const start = Date.now() + 5000;
    call(start, '10.0.1.1');
    await recorder.flushDue();
    call(start + 10, '10.0.1.2');
    await recorder.flush();
    expect(await stored()).toEqual({ at: start + 10, ip: '10.0.1.2' });
    expect(recorder.pendingLastUse(key.id)).toBeUndefined();
  });
});
