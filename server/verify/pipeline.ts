import { LRUCache } from 'lru-cache';
import type { VerifyCode } from '../../schema';
import { parseKey } from '../keys/format';
import { effectiveStatus, type KeyRecord } from '../keys/record';
import { findKeyByHash } from '../keys/repository';
import type { Pepper } from '../keys/secrets';
import type { Db } from '../store/database';
import { compileAllowlist, type IpMatcher } from './ip';
import { type RateLimitState, SlidingWindowLimiter } from './rate-limit';
import { compileScopes, type ScopeMatcher } from './scopes';

/** What a verification asks. */
export interface VerifyInput {
  key: string;
  /** API keys are verified through /v1/verify; root keys authenticate the management API. */
  kind: 'api' | 'root';
  /** The workspace the key must belong to; another workspace's key is NOT_FOUND. */
  workspaceId?: string;
  ip?: string | undefined;
  scopes?: readonly string[] | undefined;
}

/** The typed result of a verification. Denials are values, never exceptions. */
export type VerifyOutcome =
  | { valid: true; code: 'VALID'; key: KeyRecord; rateLimit: RateLimitState | null }
  | { valid: false; code: 'MALFORMED' | 'NOT_FOUND'; key: null; rateLimit: null }
  | { valid: false; code: Exclude<VerifyCode, 'VALID' | 'MALFORMED' | 'NOT_FOUND'>; key: KeyRecord; rateLimit: RateLimitState | null };

interface CachedKey {
  record: KeyRecord;
  scopes: ScopeMatcher;
  allowlist: IpMatcher;
}

/** A hash with no key behind it; cached too, so a flood of unknown keys does not reach the store. */
const UNKNOWN = Symbol('unknown');

export interface VerifierOptions {
  cacheTtlMs: number;
  cacheMaxEntries?: number;
}

/**
 * The verification pipeline: format/checksum → lookup → status → expiry → IP → scopes →
 * rate limit, in that order, each check able to end it with its code. A known key is served
 * from memory; the store is read only on a cache miss.
 */
export class Verifier {
  readonly #db: Db;
  readonly #pepper: Pepper;
  readonly #cache: LRUCache<string, CachedKey | typeof UNKNOWN>;
  readonly #limiter = new SlidingWindowLimiter();
  /** Bumped by every forget(): a load that raced with a change must not cache what it read. */
  #epoch = 0;

  constructor(db: Db, pepper: Pepper, options: VerifierOptions) {
    this.#db = db;
    this.#pepper = pepper;
    this.#cache = new LRUCache({ max: options.cacheMaxEntries ?? 100_000, ttl: options.cacheTtlMs });
  }

  /** Runs every check and returns the first failing code, or VALID. */
  async verify(input: VerifyInput, now: number = Date.now()): Promise<VerifyOutcome> {
    const shape = parseKey(input.key);
    if (!shape || (shape.tag === 'root') !== (input.kind === 'root')) {
      return shape ? { valid: false, code: 'NOT_FOUND', key: null, rateLimit: null } : { valid: false, code: 'MALFORMED', key: null, rateLimit: null };
    }

    const secretHash = this.#pepper.hashKey(input.key);
    const cached = this.#cache.get(secretHash) ?? (await this.#load(secretHash));
    if (cached === UNKNOWN || (input.workspaceId !== undefined && cached.record.workspaceId !== input.workspaceId)) {
      return { valid: false, code: 'NOT_FOUND', key: null, rateLimit: null };
    }
    const { record } = cached;

    const status = effectiveStatus(record, now);
    if (status === 'revoked') return { valid: false, code: 'REVOKED', key: record, rateLimit: null };
    if (status === 'suspended') return { valid: false, code: 'SUSPENDED', key: record, rateLimit: null };
    if (status === 'expired') return { valid: false, code: 'EXPIRED', key: record, rateLimit: null };

    if (!cached.allowlist.allows(input.ip)) return { valid: false, code: 'IP_NOT_ALLOWED', key: record, rateLimit: null };
    if (input.scopes && input.scopes.length > 0 && !cached.scopes.allows(input.scopes)) {
      return { valid: false, code: 'INSUFFICIENT_SCOPE', key: record, rateLimit: null };
    }

    if (record.rateLimit) {
      const { allowed, state } = this.#limiter.consume(record.id, record.rateLimit, now);
      if (!allowed) return { valid: false, code: 'RATE_LIMITED', key: record, rateLimit: state };
      return { valid: true, code: 'VALID', key: record, rateLimit: state };
    }
    return { valid: true, code: 'VALID', key: record, rateLimit: null };
  }

  /** Drops a key from the cache at once; key services call it after every change to a key. */
  forget(secretHash: string): void {
    this.#epoch += 1;
    this.#cache.delete(secretHash);
  }

  /** Periodic housekeeping of in-memory state. */
  sweep(now: number = Date.now()): void {
    this.#limiter.sweep(now);
  }

  async #load(secretHash: string): Promise<CachedKey | typeof UNKNOWN> {
    const epoch = this.#epoch;
    const record = await findKeyByHash(this.#db, secretHash);
    const entry = record ? { record, scopes: compileScopes(record.scopes), allowlist: compileAllowlist(record.ipAllowlist) } : UNKNOWN;
    if (epoch === this.#epoch) this.#cache.set(secretHash, entry);
    return entry;
  }
}
