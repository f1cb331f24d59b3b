import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from '../store/database';

/** The channel every change that can alter a verification is announced on. */
export const KEY_CHANGES_CHANNEL = 'keyward_key_changes';
/** The channel a source blocked for repeated failures is announced on (server/cluster/shared-failures.ts). */
export const BLOCKS_CHANNEL = 'keyward_blocks';

/**
 * Announces that a key changed, inside the transaction that changes it: Postgres delivers the
 * notification only if, and when, that transaction commits, so no replica hears of a change that
 * was rolled back, and none misses one that committed while it listened. The payload is the key's
 * stored hash (HMAC under the pepper), which the store already holds and which proves nothing.
 */
export async function announceKeyChange(trx: Db, secretHash: string): Promise<void> {
  await sql`select pg_notify(${KEY_CHANGES_CHANNEL}, ${secretHash})`.execute(trx);
}

/** How often the listening connection is proved alive. */
const HEARTBEAT_MS = 5_000;

/** What a replica does with what it hears. */
export interface KeyChangeHandlers {
  /** One key changed: drop it from the verify cache. */
  forget(secretHash: string): void;
  /** The listener was away and cannot know what it missed: drop the whole cache. */
  forgetAll(): void;
  /** Another replica blocked a source (the JSON payload of BLOCKS_CHANNEL). */
  blocked(payload: string): void;
  onError(error: unknown): void;
}

/**
 * Listens for key changes (and blocked sources) on a dedicated connection (LISTEN does not survive a transaction-mode
 * pooler such as PgBouncer: give it KEYWARD_LISTEN_DATABASE_URL, a direct connection). After any
 * reconnect it clears the whole cache, since notifications sent while it was away are lost.
 */
export class ClusterListener {
  readonly #url: string;
  readonly #handlers: KeyChangeHandlers;
  #client: pg.Client | null = null;
  #stopped = false;
  #retry: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout;
  #connected: Promise<void>;

  constructor(url: string, handlers: KeyChangeHandlers) {
    this.#url = url;
    this.#handlers = handlers;
    this.#connected = this.#connect(false);
    // A connection that died without a word (a network cut) is found within one heartbeat.
    this.#heartbeat = setInterval(() => {
      const client = this.#client;
      client?.query('select 1').catch((error: unknown) => this.#lost(client, error));
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Resolves once the first LISTEN is in place (or failed and a retry is scheduled). */
  ready(): Promise<void> {
    return this.#connected;
  }

  async #connect(reconnecting: boolean): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({
      connectionString: this.#url,
      application_name: 'keyward cache invalidation',
      keepAlive: true,
    });
    client.on('notification', (message) => {
      if (!message.payload) return;
      if (message.channel === KEY_CHANGES_CHANNEL) this.#handlers.forget(message.payload);
      else if (message.channel === BLOCKS_CHANNEL) this.#handlers.blocked(message.payload);
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, null));
    try {
      await client.connect();
      await client.query(`listen ${KEY_CHANGES_CHANNEL}; listen ${BLOCKS_CHANNEL}`);
      this.#client = client;
      // Anything sent while no LISTEN was in place is lost: start from an empty cache.
      if (reconnecting) this.#handlers.forgetAll();
    } catch (error) {
      this.#handlers.onError(error);
      await client.end().catch(() => undefined);
      this.#schedule();
    }
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#client !== client) return;
    this.#client = null;
    if (error) this.#handlers.onError(error);
    client.end().catch(() => undefined);
    // Until the listener is back, changes from other replicas go unheard: drop the cache now too.
    this.#handlers.forgetAll();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.#connect(true);
    }, 500);
    this.#retry.unref();
  }

  /** Stops listening. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }
}
