import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ManagementScope } from '../../schema';
import type { Actor } from '../audit/log';
import { KeywardError } from '../errors';
import { addressRefusedError, type Origin, rateLimitedError, scopeMissingError } from '../http/auth';
import { effectiveStatus, type KeyRecord } from '../keys/record';
import { findKey } from '../keys/repository';
import type { Db } from '../store/database';
import { compileAllowlist } from '../verify/ip';
import type { Verifier } from '../verify/pipeline';
import { compileScopes } from '../verify/scopes';
import { operatorWorkspaceId } from '../workspaces/repository';

/*
 * Web console sessions. A person signs in with a root key; the server keeps a row naming the
 * root key's id, never the key, under the SHA-256 of an opaque random session id, which only the
 * browser's HttpOnly cookie holds. Every request with the cookie re-reads the root key from the
 * store, so revoking, suspending or narrowing it takes effect on the next request, and ends in a
 * 401 or 403 exactly as the key itself would get.
 */

/** A session id: 32 random bytes, base64url. Never logged, never stored; only its hash is. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** The SHA-256 of a session id: the stored form. 256 random bits need no salt or pepper. */
function hashOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

/**
 * The session's CSRF token: an HMAC of a fixed label under the session id. Only a holder of the
 * cookie's value can compute it, and the server derives it again on each request without storing it.
 */
export function csrfTokenOf(sessionId: string): string {
  return createHmac('sha256', sessionId).update('keyward console csrf token').digest('base64url');
}

/** Whether `presented` is the session's CSRF token, compared in constant time. */
export function csrfTokenMatches(sessionId: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(csrfTokenOf(sessionId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Whether a cookie value has the shape of a session id (anything else is not looked up). */
export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

/** How long sessions last. */
export interface SessionLifetimes {
  idleMs: number;
  absoluteMs: number;
}

/** Deletes the sessions that have ended by `now` (idle too long, or past their absolute lifetime). */
export async function deleteEndedSessions(db: Db, now: number, lifetimes: SessionLifetimes): Promise<void> {
  await db
    .deleteFrom('console_sessions')
    .where((eb) =>
      eb.or([eb('expires_at', '<=', new Date(now)), eb('last_seen_at', '<=', new Date(now - lifetimes.idleMs))]),
    )
    .execute();
}

/** A live session and the root key it acts as, as of this request. */
export interface LiveSession {
  sessionId: string;
  record: KeyRecord;
  createdAt: Date;
  expiresAt: Date;
}

/** Console sessions in the store, checked against their root key on every use. */
export class ConsoleSessions {
  readonly #db: Db;
  readonly #lifetimes: SessionLifetimes;
  readonly #clock: () => number;
  /** Spends a root key's rate limit from the budget its bearer requests use (docs/console.md). */
  readonly #verifier: Pick<Verifier, 'spendRateLimit'>;

  constructor(deps: {
    db: Db;
    lifetimes: SessionLifetimes;
    clock: () => number;
    verifier: Pick<Verifier, 'spendRateLimit'>;
  }) {
    this.#db = deps.db;
    this.#lifetimes = deps.lifetimes;
    this.#clock = deps.clock;
    this.#verifier = deps.verifier;
  }

  /** Milliseconds since the epoch, by the server's clock. */
  now(): number {
    return this.#clock();
  }

  /** The idle timeout, in whole seconds. */
  get idleTimeoutSeconds(): number {
    return Math.round(this.#lifetimes.idleMs / 1000);
  }

  /** How long a new session's cookie may live: the absolute lifetime, in seconds. */
  get maxAgeSeconds(): number {
    return Math.round(this.#lifetimes.absoluteMs / 1000);
  }

  /** Opens a session for a root key that has just authenticated; returns its id (for the cookie only). */
  async open(actor: Actor, origin: Origin): Promise<{ sessionId: string; createdAt: Date; expiresAt: Date }> {
    const now = this.#clock();
    const sessionId = randomBytes(32).toString('base64url');
    const createdAt = new Date(now);
    const expiresAt = new Date(now + this.#lifetimes.absoluteMs);
    // Ended sessions are dropped as new ones open, and by the leader's maintenance round.
    await deleteEndedSessions(this.#db, now, this.#lifetimes);
    await this.#db
      .insertInto('console_sessions')
      .values({
        id_hash: hashOf(sessionId),
        workspace_id: actor.workspaceId,
        root_key_id: actor.rootKeyId!,
        created_at: createdAt,
        last_seen_at: createdAt,
        expires_at: expiresAt,
        ip: origin.ip,
        user_agent: origin.userAgent,
      })
      .execute();
    return { sessionId, createdAt, expiresAt };
  }

  /** Ends a session (sign-out). Ending one that has already ended is not an error. */
  async close(sessionId: string): Promise<void> {
    await this.#db.deleteFrom('console_sessions').where('id_hash', '=', hashOf(sessionId)).execute();
  }

  /**
   * The live session a cookie names, touched (its idle timer starts again), with its root key read
   * afresh; or the error to answer: the session has ended (idle, absolute, signed out), or its root
   * key no longer works. A root key that no longer works ends all of its sessions.
   */
  async resume(sessionId: string): Promise<LiveSession | KeywardError> {
    const now = this.#clock();
    const ended = new KeywardError('KW_ERR_UNAUTHENTICATED', 'the console session has ended; sign in again');
    if (!isSessionId(sessionId)) return ended;
    // One statement finds the session, checks both expiries and restarts the idle timer.
    const row = await this.#db
      .updateTable('console_sessions')
      .set({ last_seen_at: new Date(now) })
      .where('id_hash', '=', hashOf(sessionId))
      .where('expires_at', '>', new Date(now))
      .where('last_seen_at', '>', new Date(now - this.#lifetimes.idleMs))
      .returning(['workspace_id', 'root_key_id', 'created_at', 'expires_at'])
      .executeTakeFirst();
    if (!row) {
      // Missing, or past an expiry: either way it is over for good, whatever the clock says later.
      await this.#db.deleteFrom('console_sessions').where('id_hash', '=', hashOf(sessionId)).execute();
      return ended;
    }
    const record = await findKey(this.#db, { workspaceId: row.workspace_id, kind: 'root', id: row.root_key_id });
    const status = record ? effectiveStatus(record, now) : 'revoked';
    if (!record || (status !== 'active' && status !== 'retiring')) {
      await this.#db.deleteFrom('console_sessions').where('root_key_id', '=', row.root_key_id).execute();
      return new KeywardError('KW_ERR_UNAUTHENTICATED', `the root key is ${status}; the console session has ended`);
    }
    return { sessionId, record, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  /** The workspace a session acts in: its name, and whether it is the operator's. */
  async workspace(workspaceId: string): Promise<{ id: string; name: string; operator: boolean }> {
    const row = await this.#db
      .selectFrom('workspaces')
      .select('name')
      .where('id', '=', workspaceId)
      .executeTakeFirstOrThrow();
    return { id: workspaceId, name: row.name, operator: workspaceId === (await operatorWorkspaceId(this.#db)) };
  }

  /**
   * What the root-key guard would decide for this key and request, given that the key is usable:
   * its IP allowlist, the scope (null: any), and its rate limit. The actor, or the error to answer.
   */
  async admit(session: LiveSession, origin: Origin, scope: ManagementScope | null): Promise<Actor | KeywardError> {
    const { record } = session;
    if (!compileAllowlist(record.ipAllowlist).allows(origin.ip ?? undefined)) return addressRefusedError();
    if (scope !== null && !compileScopes(record.scopes).allows([scope])) return scopeMissingError(scope);
    if (record.rateLimit) {
      const now = this.#clock();
      const spent = await this.#verifier.spendRateLimit(record, now);
      if (spent.code === 'RATE_LIMITED') return rateLimitedError(spent, now);
    }
    return {
      workspaceId: record.workspaceId,
      rootKeyId: record.id,
      scopes: record.scopes,
      ip: origin.ip,
      userAgent: origin.userAgent,
      requestId: origin.requestId,
    };
  }
}
