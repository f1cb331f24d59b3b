import { Keyward, KeywardPermissionError, KeywardValidationError } from '../../sdk';
import { startTestServer, type TestServer } from '../support/harness';
import { cliEnv, cliJson, runCli } from '../support/process';

/*
 * An owner reads and changes the workspace's reminder days and leak policy, from the SDK and from
 * the command line, against the real server.
 */
describe('workspace settings from the SDK and the CLI', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t);
  });
  afterAll(() => t.close());

  const cli = (...args: string[]) => cliJson(env, ...args);

  it('kw.settings reads the defaults and changes a subset; a read-only root key cannot', async () => {
    expect(await t.client.settings.get()).toEqual({
      rotationReminderDays: [14, 1, 0],
      expiryReminderDays: [14, 1, 0],
      leakPolicy: 'suspend',
    });
    expect(await t.client.settings.update({ expiryReminderDays: [30, 7, 0] })).toEqual({
      rotationReminderDays: [14, 1, 0],
      expiryReminderDays: [30, 7, 0],
      leakPolicy: 'suspend',
    });
    expect((await t.client.settings.get()).expiryReminderDays).toEqual([30, 7, 0]);
    await expect(t.client.settings.update({ rotationReminderDays: [-1] })).rejects.toThrow(KeywardValidationError);

    const reader = await t.client.rootKeys.create({ name: 'reader', scopes: ['keys:read'] });
    const readOnly = new Keyward({ baseUrl: t.url, rootKey: reader.key, retries: 0 });
    expect((await readOnly.settings.get()).expiryReminderDays).toEqual([30, 7, 0]);
    await expect(readOnly.settings.update({ leakPolicy: 'notify' })).rejects.toThrow(KeywardPermissionError);
  });

  it('keyward settings show and update', async () => {
    const updated = await cli(
      'settings',
      'update',
      '--rotation-reminder-days',
      '30,7,1,0',
      '--expiry-reminder-days',
      'none',
      '--leak-policy',
      'revoke',
    );
    expect(updated).toEqual({ rotationReminderDays: [30, 7, 1, 0], expiryReminderDays: [], leakPolicy: 'revoke' });
    expect(await cli('settings', 'show')).toEqual(updated);
    const table = await runCli(['settings', 'show'], env);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^rotationReminderDays\s+30,7,1,0$/m);
    expect(table.out).toMatch(/^expiryReminderDays\s+\(none\)$/m);
    expect(table.out).toMatch(/^leakPolicy\s+revoke$/m);
    // The audit log names what changed.
    let latest: unknown;
    for await (const entry of t.client.audit.list({ action: 'workspace.update_settings' })) latest = entry;
    expect((latest as { changes: unknown }).changes).toMatchObject({ leakPolicy: { from: 'suspend', to: 'revoke' } });
  });

  it.each([
    [['--rotation-reminder-days', '14,x'], '--rotation-reminder-days must be whole days separated by commas'],
    [['--rotation-reminder-days=-1'], '--rotation-reminder-days must be whole days'],
    [['--expiry-reminder-days', '14,400'], '--expiry-reminder-days 14,400 (400): '],
    [['--expiry-reminder-days', '1,1'], '--expiry-reminder-days 1,1: must not repeat a day'],
    [['--expiry-reminder-days', '0,1,2,3,4,5,6,7,8,9,10'], '--expiry-reminder-days 0,1,2,3,4,5,6,7,8,9,10: '],
    [['--leak-policy', 'ignore'], '--leak-policy must be one of suspend, revoke, notify'],
    [[], 'settings update needs --rotation-reminder-days, --expiry-reminder-days or --leak-policy'],
  ])('refuses settings update %j before calling the server, naming the flag', async (flags, message) => {
    const before = await t.client.settings.get();
    const refused = await runCli(['settings', 'update', ...flags], env);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(message);
    expect(await t.client.settings.get()).toEqual(before);
  });
});
