import pg from 'pg';

/** Any fixed number, the same on every replica: the advisory lock that makes one of them the leader. */
const LEADER_LOCK = 7_242_002;

/** Whether this replica may run the store-wide periodic work (retention, expiry sweeps, reminders). */
export interface Leadership {
  /** True while this replica holds the leadership; tries to take it when it does not. */
  holds(): Promise<boolean>;
  /** Gives the leadership up (on shutdown), so another replica takes over at its next round. */
  release(): Promise<void>;
}

/** A single process (the embedded store) is always its own leader. */
export const soleLeader: Leadership = { holds: async () => true, release: async () => undefined };

/**
 * Leadership through a session-level Postgres advisory lock, held on a dedicated connection: the
 * lock lives exactly as long as that connection, so a leader that dies (SIGKILL, a lost network)
 * frees it, and another replica takes it at its next round, within one maintenance period.
 */
export function advisoryLeadership(databaseUrl: string, onError: (error: unknown) => void): Leadership {
  let client: pg.Client | null = null;
  let held = false;
  const drop = () => {
    held = false;
    const lost = client;
    client = null;
    lost?.end().catch(() => undefined);
  };
  return {
    async holds() {
      try {
        if (!client) {
          const fresh = new pg.Client({ connectionString: databaseUrl, application_name: 'keyward leader' });
          fresh.on('error', (error) => {
            onError(error);
            if (client === fresh) drop();
          });
          await fresh.connect();
          client = fresh;
        }
        if (held) {
          // The lock is held while the session lives; a cheap round trip proves the session does.
          await client.query('select 1');
          return true;
        }
        const result = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
          LEADER_LOCK,
        ]);
        held = result.rows[0]?.locked === true;
        return held;
      } catch (error) {
        onError(error);
        drop();
        return false;
      }
    },
    async release() {
      const releasing = client;
      client = null;
      held = false;
      await releasing?.end().catch(() => undefined);
    },
  };
}
