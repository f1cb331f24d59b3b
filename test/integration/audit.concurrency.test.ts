import { sql } from 'kysely';
import { type Actor, appendAudit } from '../../server/audit/log';
import { startTestServer, TEST_STORE, type TestServer } from '../support/harness';

/*
 * A platform team's pipeline creates many keys in one workspace at once. Every create is a
 * transaction that inserts the key (which locks the workspace row FOR KEY SHARE, through the
 * foreign key) and then appends to the workspace's audit chain (which locks the chain head).
 * Neither may deadlock, every create must succeed, and the chain must stay whole.
 */
describe('concurrent writes to one workspace', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  it('creates 24 keys at once, all acknowledged, with an intact audit chain', async () => {
    const created = await Promise.all(
      Array.from({ length: 24 }, (_, i) => t.client.keys.create({ name: `burst-${i}`, scopes: ['contacts:read'] })),
    );
    expect(new Set(created.map((key) => key.id)).size).toBe(24);
    const report = await t.client.audit.verify();
    expect(report).toMatchObject({ ok: true });
  });

  // Two open transactions at once need a server with a connection pool: Postgres, not PGlite.
  (TEST_STORE === 'postgres' ? it : it.skip)(
    'appends from two transactions that both hold the workspace FOR KEY SHARE, without a deadlock',
    async () => {
      const db = t.server.store.db;
      const { id: workspaceId } = await db
        .selectFrom('workspaces')
        .select('id')
        .where('name', '=', 'default')
        .executeTakeFirstOrThrow();
      const actor: Actor = {
        workspaceId,
        rootKeyId: null,
        scopes: ['*'],
        ip: null,
        userAgent: null,
        requestId: 'req_concurrency',
      };
      let bothLocked!: () => void;
      const locked = new Promise<void>((resolve) => (bothLocked = resolve));
      let holding = 0;
      const writer = (n: number) =>
        db.transaction().execute(async (trx) => {
          // What inserting a key into the workspace takes, before the audit append.
          await sql`select 1 from workspaces where id = ${workspaceId} for key share`.execute(trx);
          holding += 1;
          if (holding === 2) bothLocked();
          await locked;
          return appendAudit(trx, actor, { action: 'key.update', targetKeyId: null, changes: { writer: n } });
        });
      const entries = await Promise.all([writer(1), writer(2)]);
      expect(Math.abs(entries[0]!.seq - entries[1]!.seq)).toBe(1);
      expect(await t.client.audit.verify()).toMatchObject({ ok: true });
    },
  );
});
