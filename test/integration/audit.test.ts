import { jsonb } from '../../server/store/sql';
import { startTestServer, type TestServer } from '../support/harness';
import { runCli } from '../support/process';

/* The audit log is a hash chain: any edit or deletion of a stored entry is found and named. */
describe('audit chain verification', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    const key = await t.client.keys.create({ name: 'audited', scopes: ['a:b'] });
    await t.client.keys.update(key.id, { scopes: ['a:b', 'c:d'] });
    await t.client.keys.suspend(key.id);
    await t.client.keys.resume(key.id);
    await t.client.keys.rotate(key.id, { gracePeriodSeconds: 10 });
  });
  afterAll(async () => t.close());

  const cli = (...args: string[]) => runCli(args, { ...process.env, KEYWARD_URL: t.url, KEYWARD_ROOT_KEY: t.rootKey });

  it('verifies an untouched chain, through the SDK and `keyward audit verify`', async () => {
    const report = await t.client.audit.verify();
    expect(report).toMatchObject({ ok: true, checked: 8 });
    const { code, out, err } = await cli('audit', 'verify');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('audit chain intact: 8 entries');
  });

  it('names the first entry whose contents were changed', async () => {
    const victim = await t.server.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'key.update')
      .executeTakeFirstOrThrow();
    await t.server.store.db
      .updateTable('audit_log')
      .set({ changes: jsonb({ fields: ['name'] }) })
      .where('id', '=', victim.id)
      .execute();
    const report = await t.client.audit.verify();
    expect(report).toMatchObject({ ok: false, brokenAt: { id: victim.id, seq: victim.seq } });
    const { code, out } = await cli('audit', 'verify', '--json');
    expect(code).toBe(4);
    expect(JSON.parse(out)).toMatchObject({
      ok: false,
      brokenAt: { id: victim.id, reason: 'contents do not match the stored hash' },
    });
    await t.server.store.db
      .updateTable('audit_log')
      .set({ changes: jsonb(victim.changes) })
      .where('id', '=', victim.id)
      .execute();
    expect((await t.client.audit.verify()).ok).toBe(true);
  });

  it('detects a deleted entry', async () => {
    const entries = await t.server.store.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
    const suspend = entries.find((entry) => entry.action === 'key.suspend')!;
    await t.server.store.db.deleteFrom('audit_log').where('id', '=', suspend.id).execute();
    const report = await t.client.audit.verify();
    expect(report.ok).toBe(false);
    if (!report.ok) expect(report.brokenAt.seq).toBe(suspend.seq + 1);
  });
});
