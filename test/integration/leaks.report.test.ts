import { KeywardNotFoundError, KeywardValidationError } from '../../sdk';
import { raw, startTestServer, type TestServer } from '../support/harness';
import { withWrongChecksum } from '../support/keys';
import { cliEnv, runCli } from '../support/process';

/*
 * An owner notices they exposed a key (pasted it in a ticket, pushed it) and reports it with
 * POST /v1/leaks, from the SDK or `keyward keys report-leak`: the workspace's leak policy acts
 * on it at once, exactly as on a GitHub alert. A workspace can report only its own keys.
 */
describe('POST /v1/leaks: an owner reports a key they exposed', () => {
  let t: TestServer;
  let other: { rootKey: string };
  beforeAll(async () => {
    t = await startTestServer();
    const created = await t.client.workspaces.create('elsewhere');
    other = { rootKey: created.rootKey.key };
  });
  afterAll(() => t.close());

  const report = (body: unknown, rootKey = t.rootKey) => raw(t.url, 'POST', '/v1/leaks', { rootKey, body });
  const setPolicy = async (leakPolicy: string) =>
    expect((await raw(t.url, 'PATCH', '/v1/settings', { rootKey: t.rootKey, body: { leakPolicy } })).status).toBe(200);

  it('suspends a key reported by its secret (the default policy), audited with where and the note', async () => {
    const key = await t.client.keys.create({ name: 'pasted in a ticket' });
    expect((await t.client.verify({ key: key.key })).code).toBe('VALID');
    const answer = await report({ key: key.key, url: 'https://tickets.example.com/T-42', note: 'pasted by support' });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      key: { id: key.id, status: 'suspended' },
      action: 'suspend',
      previousStatus: 'active',
      leak: { reporter: 'report', url: 'https://tickets.example.com/T-42', source: null },
    });
    expect(JSON.stringify(answer.body)).not.toContain(key.key);
    expect((await t.client.verify({ key: key.key })).code).toBe('SUSPENDED');
    const [entry] = (await raw(t.url, 'GET', `/v1/audit?keyId=${key.id}&action=key.leak`, { rootKey: t.rootKey })).body
      .items;
    expect(entry).toMatchObject({
      actorKeyId: expect.stringMatching(/^rk_/),
      changes: { leak: { reporter: 'report' }, note: 'pasted by support', policy: 'suspend' },
    });
    expect(JSON.stringify(entry)).not.toContain(key.key);
  });

  it('applies each leak policy to a key reported by id: suspend, revoke, notify', async () => {
    const statuses: Record<string, [string, string]> = {};
    for (const policy of ['suspend', 'revoke', 'notify']) {
      await setPolicy(policy);
      const key = await t.client.keys.create({ name: `reported under ${policy}` });
      const answer = await report({ keyId: key.id });
      expect(answer.body.action).toBe(policy);
      statuses[policy] = [answer.body.key.status, (await t.client.verify({ key: key.key })).code];
    }
    await setPolicy('suspend');
    expect(statuses).toEqual({
      suspend: ['suspended', 'SUSPENDED'],
      revoke: ['revoked', 'REVOKED'],
      notify: ['active', 'VALID'],
    });
  });

  it('reports a root key by its secret with keys:revoke, but by id only with root-keys:manage', async () => {
    const reporter = await t.client.rootKeys.create({ name: 'reporter', scopes: ['keys:revoke'] });
    const exposed = await t.client.rootKeys.create({ name: 'exposed admin', scopes: ['keys:read'] });
    const byId = await report({ keyId: exposed.id }, reporter.key);
    expect([byId.status, byId.body.error.code]).toEqual([403, 'KW_ERR_FORBIDDEN']);
    expect((await t.client.rootKeys.get(exposed.id)).status).toBe('active');
    const bySecret = await report({ key: exposed.key }, reporter.key);
    expect(bySecret.status).toBe(200);
    expect(bySecret.body.key).toMatchObject({ id: exposed.id, kind: 'root', status: 'suspended' });
    expect((await raw(t.url, 'GET', '/v1/keys', { rootKey: exposed.key })).status).toBe(401);
    const [entry] = (
      await raw(t.url, 'GET', `/v1/audit?keyId=${exposed.id}&action=root_key.leak`, { rootKey: t.rootKey })
    ).body.items;
    expect(entry.actorKeyId).toBe(reporter.id);
  });

  it("answers 404 for another workspace's key, by secret or by id, and leaves it alone", async () => {
    const theirs = await raw(t.url, 'POST', '/v1/keys', { rootKey: other.rootKey, body: { name: 'not yours' } });
    const unknown = { status: 404, code: 'KW_ERR_NOT_FOUND' };
    for (const body of [{ key: theirs.body.key }, { keyId: theirs.body.id }, { keyId: 'key_doesnotexist' }]) {
      const answer = await report(body);
      expect({ status: answer.status, code: answer.body.error.code }).toEqual(unknown);
      expect(JSON.stringify(answer.body)).not.toContain(theirs.body.key);
    }
    const still = await raw(t.url, 'GET', `/v1/keys/${theirs.body.id}`, { rootKey: other.rootKey });
    expect(still.body.status).toBe('active');
  });

  it('answers 400 naming the field for a report that is not one key and a place', async () => {
    const key = await t.client.keys.create({ name: 'bad reports' });
    const typo = withWrongChecksum(key.key);
    const cases: [unknown, string][] = [
      [{}, 'body.key'],
      [{ key: key.key, keyId: key.id }, 'body.keyId'],
      [{ key: typo }, 'body.key'],
      [{ keyId: key.id, url: 'not a url' }, 'body.url'],
      [{ keyId: key.id, url: 'javascript:alert(1)' }, 'body.url'],
      [{ keyId: key.id, note: 'x'.repeat(1001) }, 'body.note'],
      [{ keyId: key.id, extra: true }, 'body.extra'],
    ];
    for (const [body, path] of cases) {
      const answer = await report(body);
      expect({
        status: answer.status,
        paths: answer.body.error.issues.map((issue: { path: string }) => issue.path),
      }).toEqual({ status: 400, paths: [path] });
      expect(JSON.stringify(answer.body)).not.toContain(key.key.slice(12));
    }
    expect((await t.client.keys.get(key.id)).status).toBe('active');
  });

  it('needs a root key holding keys:revoke', async () => {
    const key = await t.client.keys.create({ name: 'guarded' });
    const reader = await t.client.rootKeys.create({ name: 'reader', scopes: ['keys:read'] });
    expect((await raw(t.url, 'POST', '/v1/leaks', { body: { keyId: key.id } })).status).toBe(401);
    expect((await report({ keyId: key.id }, reader.key)).status).toBe(403);
    expect((await t.client.keys.get(key.id)).status).toBe('active');
  });

  it('is kw.keys.reportLeak in the SDK, with typed errors', async () => {
    const key = await t.client.keys.create({ name: 'sdk report' });
    const result = await t.client.keys.reportLeak({ key: key.key, note: 'found in a log' });
    expect(result).toMatchObject({ key: { id: key.id, status: 'suspended' }, action: 'suspend' });
    await expect(t.client.keys.reportLeak({ keyId: 'key_nope' })).rejects.toBeInstanceOf(KeywardNotFoundError);
    await expect(t.client.keys.reportLeak({})).rejects.toBeInstanceOf(KeywardValidationError);
  });

  it('is `keyward keys report-leak` on the command line, reading the key from stdin', async () => {
    const env = cliEnv(t);
    const byId = await t.client.keys.create({ name: 'cli by id' });
    const run = await runCli(
      ['keys', 'report-leak', byId.id, '--found-at', 'https://github.com/octo/app/pull/7', '--json'],
      env,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({
      key: { id: byId.id, status: 'suspended' },
      leak: { url: 'https://github.com/octo/app/pull/7' },
    });

    const bySecret = await t.client.keys.create({ name: 'cli by secret' });
    const piped = await runCli(
      ['keys', 'report-leak', '--key-stdin', '--note', 'in a screenshot'],
      env,
      `${bySecret.key}\n`,
    );
    expect(piped.code).toBe(0);
    expect(piped.out).toContain(`${bySecret.id} (cli by secret): active -> suspended (leak policy: suspend)`);
    expect(piped.out + piped.err).not.toContain(bySecret.key);

    const both = await runCli(['keys', 'report-leak', byId.id, '--key-stdin'], env, bySecret.key);
    expect(both.code).toBe(2);
    expect(both.err).toContain('not both');
    const neither = await runCli(['keys', 'report-leak'], env);
    expect(neither.code).toBe(2);
  });
});
