import { raw, startTestServer, type TestServer } from '../support/harness';

/*
 * Bad settings get a 400 naming the field and the reason, never a 500, and change nothing; a root
 * key without settings:manage cannot change them.
 */
describe('settings API: bad input and missing scopes', () => {
  let t: TestServer;
  const DEFAULTS = { rotationReminderDays: [14, 1, 0], expiryReminderDays: [14, 1, 0], leakPolicy: 'suspend' };
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());
  afterEach(async () => {
    // Whatever the bad request was, the settings are as they were.
    expect(await t.client.settings.get()).toEqual(DEFAULTS);
  });

  const patch = (body: unknown, rootKey = t.rootKey) => raw(t.url, 'PATCH', '/v1/settings', { rootKey, body });

  it.each([
    ['body.rotationReminderDays.0', 'negative', { rotationReminderDays: [-1] }, />=0/],
    ['body.expiryReminderDays.1', 'more than a year', { expiryReminderDays: [14, 366] }, /<=365/],
    ['body.expiryReminderDays.0', 'not whole', { expiryReminderDays: [1.5] }, /expected int/],
    ['body.rotationReminderDays.0', 'not a number', { rotationReminderDays: ['14'] }, /number/],
    ['body.rotationReminderDays', 'repeated', { rotationReminderDays: [1, 14, 1] }, /must not repeat a day/],
    ['body.expiryReminderDays', 'too many', { expiryReminderDays: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }, /<=10/],
    ['body.rotationReminderDays', 'not a list', { rotationReminderDays: 14 }, /array/],
    ['body.rotationReminderDays', 'null', { rotationReminderDays: null }, /array/],
    ['body.leakPolicy', 'unknown', { leakPolicy: 'ignore' }, /suspend|revoke|notify/],
  ])('rejects %s (%s)', async (field, _why, body, reason) => {
    const response = await patch(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('KW_ERR_VALIDATION');
    const issue = response.body.error.issues.find((candidate: { path: string }) => candidate.path === field);
    expect(issue?.message).toMatch(reason);
  });

  it('rejects an unknown field by name, and changes none of the valid ones sent with it', async () => {
    const response = await patch({ expiryReminderDays: [7], reminderDays: [1] });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body.error.issues)).toContain('reminderDays');
  });

  it('rejects a body that is not an object, and malformed JSON', async () => {
    expect((await patch([14, 1, 0])).status).toBe(400);
    const bad = await raw(t.url, 'PATCH', '/v1/settings', {
      rootKey: t.rootKey,
      rawBody: '{"leakPolicy":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('KW_ERR_BAD_JSON');
  });

  it('a root key without settings:manage reads the settings but cannot change them', async () => {
    const reader = await t.client.rootKeys.create({ name: 'reader', scopes: ['keys:read'] });
    expect((await raw(t.url, 'GET', '/v1/settings', { rootKey: reader.key })).body).toEqual(DEFAULTS);
    const refused = await patch({ leakPolicy: 'notify' }, reader.key);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('settings:manage');

    const writer = await t.client.rootKeys.create({ name: 'writer', scopes: ['keys:write'] });
    expect((await raw(t.url, 'GET', '/v1/settings', { rootKey: writer.key })).status).toBe(403);
    expect((await patch({ leakPolicy: 'notify' }, writer.key)).status).toBe(403);
    expect((await raw(t.url, 'PATCH', '/v1/settings', { body: { leakPolicy: 'notify' } })).status).toBe(401);
  });

  it('stores only what differs from the defaults, so a setting put back follows its default again', async () => {
    const stored = async () =>
      (
        await t.server.store.db
          .selectFrom('workspaces')
          .select('settings')
          .where('name', '=', 'default')
          .executeTakeFirstOrThrow()
      ).settings;
    expect((await patch({ leakPolicy: 'revoke', expiryReminderDays: [7] })).status).toBe(200);
    expect(await stored()).toEqual({ leakPolicy: 'revoke', expiryReminderDays: [7] });
    expect((await patch({ leakPolicy: 'suspend', expiryReminderDays: [14, 1, 0] })).status).toBe(200);
    expect(await stored()).toEqual({});
  });
});
