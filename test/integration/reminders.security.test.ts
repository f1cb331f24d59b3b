import { Keyward } from '../../sdk';
import { raw, startTestServer, type TestServer } from '../support/harness';

/*
 * Time-driven events and the settings behind them stay inside their workspace and carry nothing
 * secret: no key, secret hash or signing secret in a reminder or expiry payload, even when a key
 * was pasted into a key's name; one workspace's settings never touch another's.
 */
describe('reminders and settings: secrets and workspace isolation', () => {
  let t: TestServer;
  let now = Date.now();
  const DAY = 86_400_000;
  beforeAll(async () => {
    t = await startTestServer({ maintenanceIntervalMs: 86_400_000 }, { clock: () => now });
    // The round the server runs as it starts is over before any key exists: rounds run when a test says.
    await t.server.maintain();
  });
  afterAll(async () => t.close());

  it('reminder and expiry payloads carry no key, secret hash or signing secret', async () => {
    const pasted = await t.client.keys.create({ name: 'pasted', scopes: ['a:read'] });
    const key = await t.client.keys.create({
      name: `oops ${pasted.key}`,
      description: `also ${pasted.key}`,
      scopes: ['a:read', 'a:export'],
      signedScopes: ['a:export'],
      expiresAt: new Date(now + 3 * DAY).toISOString(),
      maxAgeDays: 1,
    });
    expect(key.signingSecret).toMatch(/^kw_sig_/);
    now += 2 * DAY;
    await t.server.maintain();
    now += 2 * DAY;
    await t.server.maintain();
    const { secret_hash: secretHash } = await t.server.store.db
      .selectFrom('keys')
      .select('secret_hash')
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow();
    const payloads = (
      await t.server.store.db.selectFrom('events').select(['type', 'payload']).where('type', 'like', 'key.%').execute()
    ).filter((row) => row.payload.includes(key.id));
    expect(payloads.map((row) => row.type).sort()).toEqual([
      'key.created',
      'key.expired',
      'key.expiring',
      'key.rotation_due',
    ]);
    for (const { payload } of payloads) {
      for (const secret of [key.key, pasted.key, key.signingSecret!, secretHash]) expect(payload).not.toContain(secret);
      expect(payload).not.toMatch(/kw_(live|test|root)_[A-Za-z0-9]{20,}/);
      expect(Object.keys(JSON.parse(payload).data.key).sort()).toEqual(
        ['environment', 'id', 'kind', 'name', 'scopes', 'start', 'status'].sort(),
      );
    }
  });

  it("one workspace's settings never change another's, nor its reminders", async () => {
    const other = await t.client.workspaces.create('settings-isolated');
    const otherClient = new Keyward({ baseUrl: t.url, rootKey: other.rootKey.key, retries: 0 });
    const changed = await otherClient.settings.update({ expiryReminderDays: [], leakPolicy: 'revoke' });
    expect(changed).toMatchObject({ expiryReminderDays: [], leakPolicy: 'revoke' });
    expect(await t.client.settings.get()).toEqual({
      rotationReminderDays: [14, 1, 0],
      expiryReminderDays: [14, 1, 0],
      leakPolicy: 'suspend',
    });
    // The change is in the other workspace's audit log, by its root key, and not in this one's.
    const theirs = await raw(t.url, 'GET', '/v1/audit?action=workspace.update_settings', {
      rootKey: other.rootKey.key,
    });
    expect(theirs.body.items).toEqual([
      expect.objectContaining({
        actorKeyId: other.rootKey.id,
        changes: { expiryReminderDays: { from: [14, 1, 0], to: [] }, leakPolicy: { from: 'suspend', to: 'revoke' } },
      }),
    ]);
    const ours = await raw(t.url, 'GET', '/v1/audit?action=workspace.update_settings', { rootKey: t.rootKey });
    expect(ours.body.items).toEqual([]);

    // Same expiry in both workspaces: only ours is reminded, and each event stays in its workspace.
    const expiresAt = new Date(now + 10 * DAY).toISOString();
    const mine = await t.client.keys.create({ name: 'mine', scopes: ['a:read'], expiresAt, maxAgeDays: 3650 });
    const theirsKey = await otherClient.keys.create({
      name: 'theirs',
      scopes: ['a:read'],
      expiresAt,
      maxAgeDays: 3650,
    });
    now += DAY;
    await t.server.maintain();
    const expiring = await t.server.store.db
      .selectFrom('events')
      .select(['workspace_id', 'payload'])
      .where('type', '=', 'key.expiring')
      .execute();
    expect(expiring.filter((row) => row.payload.includes(mine.id)).map((row) => row.workspace_id)).toEqual([
      'ws_default',
    ]);
    expect(expiring.filter((row) => row.payload.includes(theirsKey.id))).toEqual([]);
  });
});
