import type { CreateKeyInput } from '../../schema';
import { Keyward, verifyWebhook, type WebhookEvent } from '../../sdk';
import type { RunningServer } from '../../server';
import { sendDueReminders } from '../../server/keys/reminders';
import { raw, startTestServer, TEST_STORE, type TestServer } from '../support/harness';
import { LOCAL_RECEIVER_SETTINGS, type Receiver, startReceiver } from '../support/receiver';

/*
 * Time-driven key events, with an injected clock moved forward instead of sleeping: key.expired
 * when a grace period ends or expiresAt passes, and the reminders key.rotation_due and key.expiring
 * on the days the workspace's thresholds name, each sent once, delivered to a real receiver.
 */

const DAY = 86_400_000;
const REMINDER_TYPES = ['key.rotation_due', 'key.expiring', 'key.expired'] as const;

/** 00:00 UTC of the day `instant` falls on. */
const utcDay = (instant: string | number) => Math.floor(new Date(instant).getTime() / DAY) * DAY;

describe('reminders and expiry events', () => {
  let t: TestServer;
  let receiver: Receiver;
  let secret: string;
  let now = Date.now();
  const clock = () => now;
  const delivered: WebhookEvent[] = [];

  beforeAll(async () => {
    receiver = await startReceiver();
    // Maintenance runs only when a test calls maintain(), at the clock the test set.
    t = await startTestServer({ ...LOCAL_RECEIVER_SETTINGS, maintenanceIntervalMs: 86_400_000 }, { clock });
    const hook = await t.client.webhooks.create({ url: `${receiver.url}/reminders`, eventTypes: [...REMINDER_TYPES] });
    secret = hook.secret;
    // The round the server runs as it starts is over before any key exists: rounds run when a test says.
    await t.server.maintain();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  /** Moves the clock forward to `instant`, runs one maintenance round, delivers what it emitted. */
  async function at(instant: number | string): Promise<void> {
    const ms = typeof instant === 'string' ? Date.parse(instant) : instant;
    // Monotonic on purpose: a clock going back would be a different story (thresholds reached again).
    expect(ms).toBeGreaterThanOrEqual(now);
    now = ms;
    await t.server.maintain();
    const before = receiver.received.length;
    await t.server.dispatch();
    for (const request of receiver.received.slice(before).filter((r) => r.path === '/reminders'))
      delivered.push(verifyWebhook(request.body, request.headers, secret, { now: new Date(now) }));
  }

  /**
   * A key whose rotation reminders stay out of the way (maxAgeDays 3650) unless the test sets its
   * maxAgeDays: the clock runs months ahead of the wall clock the keys are created by.
   */
  const createKey = (spec: Partial<CreateKeyInput> & { name: string }, client: Keyward = t.client) =>
    client.keys.create({ scopes: ['a:read'], maxAgeDays: 3650, ...spec });

  /** What was delivered about one key, as `type:daysBefore` (or `type:reason`), in order. */
  const deliveredAbout = (keyId: string) =>
    delivered
      .filter((event) => 'key' in event.data && event.data.key.id === keyId)
      .map((event) =>
        event.type === 'key.expired'
          ? `expired:${event.data.reason}`
          : event.type === 'key.rotation_due' || event.type === 'key.expiring'
            ? `${event.type.slice(4)}:${event.data.daysBefore}`
            : event.type,
      );

  /** The delivered events of one type about one key, in order. */
  const deliveredOfType = <T extends (typeof REMINDER_TYPES)[number]>(type: T, keyId: string) =>
    delivered.filter(
      (event): event is Extract<WebhookEvent, { type: T }> => event.type === type && event.data.key.id === keyId,
    );

  /**
   * The time-driven events stored about one key (the outbox: one row per event, whatever deliveries
   * do). Events the key's requests made are pruned by then: the clock runs months ahead.
   */
  async function storedAbout(from: TestServer | RunningServer, keyId: string) {
    const server = 'server' in from ? from.server : from;
    const rows = await server.store.db
      .selectFrom('events')
      .select(['type', 'payload'])
      .orderBy('occurred_at')
      .execute();
    return rows
      .map((row) => JSON.parse(row.payload) as WebhookEvent)
      .filter((event) => (REMINDER_TYPES as readonly string[]).includes(event.type))
      .filter((event) => 'key' in event.data && event.data.key.id === keyId);
  }

  it('sends key.rotation_due 14 days, 1 day and 0 days before maxAgeDays, once each, day by day', async () => {
    const key = await createKey({ name: 'due in 20 days', maxAgeDays: 20 });
    const createdAt = Date.parse(key.createdAt);
    const seen: Record<number, string[]> = {};
    for (let day = 0; day <= 23; day += 1) {
      const before = deliveredAbout(key.id).length;
      await at(createdAt + day * DAY);
      const fresh = deliveredAbout(key.id).slice(before);
      if (fresh.length > 0) seen[day] = fresh;
    }
    // Day 6 is the UTC day 14 days before the due day (day 20): 00:00 of it passed by then, not a day earlier.
    expect(seen).toEqual({ 6: ['rotation_due:14'], 19: ['rotation_due:1'], 20: ['rotation_due:0'] });
    const events = deliveredOfType('key.rotation_due', key.id);
    for (const event of events) {
      expect(event.data).toMatchObject({
        key: { id: key.id, kind: 'api', status: 'active' },
        dueAt: key.rotationDueAt,
        maxAgeDays: 20,
        actor: { rootKeyId: null, requestId: null },
      });
      expect(JSON.stringify(event)).not.toContain(key.key);
    }
    expect((await storedAbout(t, key.id)).filter((e) => e.type === 'key.rotation_due')).toHaveLength(3);
  });

  it('sends key.expired, by keyward itself, when a grace period ends', async () => {
    const key = await createKey({ name: 'old integration' });
    // A grace longer than the clock is ahead of the wall clock (the previous test moved it 23 days).
    const next = await t.client.keys.rotate(key.id, { gracePeriodSeconds: 30 * 86_400 });
    const { graceUntil } = await t.client.keys.get(key.id);
    await at(Date.parse(graceUntil!) - 1000);
    expect(deliveredAbout(key.id)).toEqual([]);
    await at(graceUntil!);
    expect(deliveredAbout(key.id)).toEqual(['expired:grace_ended']);
    const [event] = deliveredOfType('key.expired', key.id);
    expect(event).toMatchObject({
      type: 'key.expired',
      timestamp: new Date(graceUntil!).toISOString(),
      workspaceId: 'ws_default',
      data: {
        key: { id: key.id, status: 'expired', start: key.start, name: 'old integration' },
        previousStatus: 'retiring',
        graceUntil,
        reason: 'grace_ended',
        actor: { rootKeyId: null, requestId: null },
      },
    });
    expect(JSON.stringify(event)).not.toContain(key.key);
    expect((await t.client.keys.get(key.id)).status).toBe('expired');
    // The key stops verifying, and its successor (not lapsed) is untouched.
    expect((await t.client.verify({ key: key.key, scopes: ['a:read'] })).code).toBe('EXPIRED');
    expect(deliveredAbout(next.id)).toEqual([]);
    // Persisted once: the next round finds nothing more to expire.
    await at(now + 60_000);
    expect(deliveredAbout(key.id)).toEqual(['expired:grace_ended']);
  });

  it('reminds about root keys and suspended keys, not about retiring ones', async () => {
    const expiresAt = new Date(utcDay(now) + 15 * DAY + 3_600_000).toISOString();
    const root = await t.client.rootKeys.create({ name: 'ops', scopes: ['keys:read'], expiresAt, maxAgeDays: 3650 });
    const suspended = await createKey({ name: 'paused', expiresAt });
    await t.client.keys.suspend(suspended.id);
    const rotated = await createKey({ name: 'rotated', expiresAt });
    const successor = await t.client.keys.rotate(rotated.id, { gracePeriodSeconds: 90 * 86_400 });
    expect(Date.parse((await t.client.keys.get(rotated.id)).graceUntil!)).toBeGreaterThan(Date.parse(expiresAt));
    await at(utcDay(expiresAt) - 14 * DAY);
    expect(deliveredAbout(root.id)).toEqual(['expiring:14']);
    const rootEvent = deliveredOfType('key.expiring', root.id)[0];
    expect(rootEvent?.data).toMatchObject({ key: { kind: 'root', start: root.start } });
    expect(deliveredAbout(suspended.id)).toEqual(['expiring:14']);
    expect(deliveredAbout(successor.id)).toEqual(['expiring:14']);
    // A retiring key was already replaced; its end (here expiresAt, before its grace ends) is told by key.expired.
    expect(deliveredAbout(rotated.id)).toEqual([]);
    await at(utcDay(expiresAt));
    expect(deliveredAbout(rotated.id)).toEqual([]);
    await at(expiresAt);
    expect(deliveredAbout(rotated.id)).toEqual(['expired:expires_at']);
    // The clock skipped the 1-day threshold: the latest reached (day 0) is sent, not both.
    expect(deliveredAbout(suspended.id)).toEqual(['expiring:14', 'expiring:0', 'expired:expires_at']);
    expect(deliveredAbout(root.id)).toEqual(['expiring:14', 'expiring:0', 'expired:expires_at']);
  });

  it('sends key.expiring from 00:00 UTC of each threshold day, then key.expired when expiresAt passes', async () => {
    const expiresAt = new Date(utcDay(now) + 16 * DAY + 15 * 3_600_000).toISOString();
    const day = utcDay(expiresAt);
    const key = await createKey({ name: 'expiring', expiresAt });
    await at(day - 14 * DAY - 1000);
    expect(deliveredAbout(key.id)).toEqual([]);
    await at(day - 14 * DAY);
    expect(deliveredAbout(key.id)).toEqual(['expiring:14']);
    await at(day - DAY - 3_600_000);
    expect(deliveredAbout(key.id)).toEqual(['expiring:14']);
    await at(day - DAY);
    await at(day - DAY / 2);
    await at(day + 1000);
    await at(Date.parse(expiresAt) - 1);
    expect(deliveredAbout(key.id)).toEqual(['expiring:14', 'expiring:1', 'expiring:0']);
    await at(expiresAt);
    expect(deliveredAbout(key.id)).toEqual(['expiring:14', 'expiring:1', 'expiring:0', 'expired:expires_at']);
    const expiring = deliveredOfType('key.expiring', key.id);
    expect(expiring.map((e) => e.data.dueAt)).toEqual([expiresAt, expiresAt, expiresAt]);
    expect(expiring.map((e) => Date.parse(e.timestamp))).toEqual([day - 14 * DAY, day - DAY, day + 1000]);
    const expired = deliveredOfType('key.expired', key.id)[0];
    expect(expired?.data).toMatchObject({ previousStatus: 'active', graceUntil: null, reason: 'expires_at' });
    expect((await t.client.keys.get(key.id)).status).toBe('expired');
  });

  it('catches up with one reminder, the latest threshold reached, never a storm', async () => {
    // Created with 5 days left: the 14-day threshold is already behind it.
    const soon = await createKey({ name: 'late', expiresAt: new Date(now + 5 * DAY).toISOString() });
    // Created by the wall clock, which the test clock is weeks ahead of: already past its maxAgeDays.
    const overdue = await createKey({ name: 'overdue', maxAgeDays: 30 });
    expect(now).toBeGreaterThan(Date.parse(overdue.rotationDueAt));
    await at(now + 60_000);
    expect(deliveredAbout(soon.id)).toEqual(['expiring:14']);
    expect(deliveredAbout(overdue.id)).toEqual(['rotation_due:0']);
    // The server was down over both the 1-day and the 0-day thresholds: one reminder, for day 0.
    await at(utcDay(soon.expiresAt!) + 60_000);
    expect(deliveredAbout(soon.id)).toEqual(['expiring:14', 'expiring:0']);
    await at(now + 60_000);
    expect(deliveredAbout(soon.id)).toEqual(['expiring:14', 'expiring:0']);
    expect(deliveredAbout(overdue.id)).toEqual(['rotation_due:0']);
  });

  it('re-arms the expiry reminders when expiresAt changes', async () => {
    const first = new Date(utcDay(now) + 10 * DAY + 12 * 3_600_000).toISOString();
    const key = await createKey({ name: 're-armed', expiresAt: first });
    await at(now + 60_000);
    expect(deliveredAbout(key.id)).toEqual(['expiring:14']);
    const later = new Date(Date.parse(first) + 20 * DAY).toISOString();
    await t.client.keys.update(key.id, { expiresAt: later });
    await at(now + 60_000);
    expect(deliveredAbout(key.id)).toEqual(['expiring:14']);
    await at(utcDay(later) - 14 * DAY);
    expect(deliveredAbout(key.id)).toEqual(['expiring:14', 'expiring:14']);
    const dueAts = deliveredOfType('key.expiring', key.id).map((e) => e.data.dueAt);
    expect(dueAts).toEqual([first, later]);
  });

  it('follows the thresholds set with PATCH /v1/settings, per workspace', async () => {
    const patched = await raw(t.url, 'PATCH', '/v1/settings', {
      rootKey: t.rootKey,
      body: { expiryReminderDays: [3, 0], rotationReminderDays: [] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ rotationReminderDays: [], expiryReminderDays: [3, 0], leakPolicy: 'suspend' });
    // Another workspace keeps the defaults, and has an endpoint of its own.
    const other = await t.client.workspaces.create('reminders-other');
    const otherClient = new Keyward({ baseUrl: t.url, rootKey: other.rootKey.key, retries: 0 });
    await otherClient.webhooks.create({ url: `${receiver.url}/other`, eventTypes: ['key.expiring'] });

    const expiresAt = new Date(utcDay(now) + 15 * DAY + 6 * 3_600_000).toISOString();
    // Past its maxAgeDays from the start: an empty rotationReminderDays means no rotation reminder.
    const mine = await createKey({ name: 'custom', expiresAt, maxAgeDays: 1 });
    const theirs = await createKey({ name: 'defaults', expiresAt }, otherClient);
    await at(utcDay(expiresAt) - 14 * DAY);
    expect(deliveredAbout(mine.id)).toEqual([]);
    await at(utcDay(expiresAt) - 3 * DAY);
    expect(deliveredAbout(mine.id)).toEqual(['expiring:3']);
    await at(utcDay(expiresAt) - DAY);
    expect(deliveredAbout(mine.id)).toEqual(['expiring:3']);
    await at(utcDay(expiresAt));
    expect(deliveredAbout(mine.id)).toEqual(['expiring:3', 'expiring:0']);
    expect((await storedAbout(t, mine.id)).map((e) => e.type)).toEqual(['key.expiring', 'key.expiring']);
    // The other workspace's key followed 14/1/0, and its events went to its own endpoint only.
    const theirsStored = await storedAbout(t, theirs.id);
    expect(theirsStored.map((e) => e.type === 'key.expiring' && e.data.daysBefore)).toEqual([14, 1, 0]);
    expect(theirsStored.every((e) => e.workspaceId === other.workspace.id)).toBe(true);
    expect(deliveredAbout(theirs.id)).toEqual([]);
    expect(receiver.received.filter((request) => request.path === '/other')).toHaveLength(3);

    const restored = await t.client.settings.update({
      expiryReminderDays: [14, 1, 0],
      rotationReminderDays: [14, 1, 0],
    });
    expect(restored).toEqual({
      rotationReminderDays: [14, 1, 0],
      expiryReminderDays: [14, 1, 0],
      leakPolicy: 'suspend',
    });
  });

  it('sends each reminder once across a restart on the same store', async () => {
    const expiresAt = new Date(utcDay(now) + 15 * DAY + 3_600_000).toISOString();
    const key = await createKey({ name: 'restarted', expiresAt });
    await at(utcDay(expiresAt) - 14 * DAY);
    expect(deliveredAbout(key.id)).toEqual(['expiring:14']);
    await t.restart();
    // The restarted server runs a round as it starts, and here two more, at the same clock and later.
    await at(now);
    await at(now + 3_600_000);
    expect((await storedAbout(t, key.id)).map((e) => e.type)).toEqual(['key.expiring']);
    expect(deliveredAbout(key.id)).toEqual(['expiring:14']);
    await at(utcDay(expiresAt) - DAY);
    expect(deliveredAbout(key.id)).toEqual(['expiring:14', 'expiring:1']);
  });

  it('forgets the reminders of a key once it can get no more (revoked), and only then', async () => {
    const expiresAt = new Date(utcDay(now) + 20 * DAY + 3_600_000).toISOString();
    const kept = await createKey({ name: 'kept', expiresAt });
    const ended = await createKey({ name: 'ended', expiresAt });
    await at(utcDay(expiresAt) - 14 * DAY);
    const sentFor = async (keyId: string) =>
      (await t.server.store.db.selectFrom('reminders_sent').select('days_before').where('key_id', '=', keyId).execute())
        .length;
    expect(await sentFor(kept.id)).toBe(1);
    expect(await sentFor(ended.id)).toBe(1);
    await t.client.keys.revoke(ended.id);
    await at(now + 60_000);
    expect(await sentFor(ended.id)).toBe(0);
    expect(await sentFor(kept.id)).toBe(1);
    // The kept key's reminder is still sent once, not again.
    await at(now + 60_000);
    expect(deliveredAbout(kept.id)).toEqual(['expiring:14']);
  });

  (TEST_STORE === 'postgres' ? it : it.skip)(
    'sends each reminder once with two replicas on one Postgres, both running maintenance',
    async () => {
      const replica = await t.replica({ clock });
      try {
        const expiresAt = new Date(utcDay(now) + 15 * DAY + 3_600_000).toISOString();
        const keys = await Promise.all(
          Array.from({ length: 20 }, (_, index) => createKey({ name: `replicated ${index}`, expiresAt })),
        );
        now = utcDay(expiresAt) - 14 * DAY;
        // Each replica's round, twice over, at once: the leader sends, the other skips store-wide work.
        await Promise.all([t.server.maintain(), replica.maintain(), t.server.maintain(), replica.maintain()]);
        // And with no leadership in the way: both stores' connections claim the same reminders at once.
        now = utcDay(expiresAt) - DAY;
        await Promise.all([
          sendDueReminders(t.server.store.db, new Date(now)),
          sendDueReminders(replica.store.db, new Date(now)),
          sendDueReminders(replica.store.db, new Date(now)),
        ]);
        for (const key of keys) {
          const stored = (await storedAbout(replica, key.id)).filter((e) => e.type === 'key.expiring');
          expect(stored.map((e) => e.type === 'key.expiring' && e.data.daysBefore)).toEqual([14, 1]);
        }
        await at(now);
        for (const key of keys) expect(deliveredAbout(key.id)).toEqual(['expiring:14', 'expiring:1']);
      } finally {
        await replica.close();
      }
    },
  );
});
