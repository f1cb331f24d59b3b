import { createHash, hash as oneShotHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { SignedRequest, VerifyCode } from '../../schema';
import { SIGNATURE_MAX_SKEW_SECONDS } from '../../schema';
import { parseKey } from '../keys/format';
import { effectiveStatus, type KeyRecord } from '../keys/record';
import { claimNonce, findKeyByHash, findKeyById } from '../keys/repository';
import type { MasterKey, Pepper } from '../keys/secrets';
import type { Db } from '../store/database';
import { compileAllowlist, type IpMatcher } from './ip';
import { type RateLimitState, SlidingWindowLimiter } from './rate-limit';
import { compileScopes, type ScopeMatcher } from './scopes';
import { checkSignature, signatureKeyId } from './signature';

/** What a verification asks. */
export interface VerifyInput {
  /** The presented key; a signed request may carry only its key id, in the signature's keyid. */
  key?: string | undefined;
  /** The request as received, for keys that sign. */
  request?: SignedRequest | undefined;
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
  | {
      valid: false;
      code: Exclude<VerifyCode, 'VALID' | 'MALFORMED' | 'NOT_FOUND'>;
      key: KeyRecord;
      rateLimit: RateLimitState | null;
    };

interface CachedKey {
  record: KeyRecord;
  scopes: ScopeMatcher;
  allowlist: IpMatcher;
  /** Scopes that count only on a signed request; null when there are none. */
  signedScopes: ScopeMatcher | null;
  signingSecret: string | null;
  /** The VALID outcome of a key without a rate limit: the same every time, so made once and shared (frozen). */
  valid: VerifyOutcome;
}

/** A hash with no key behind it; cached too, so a flood of unknown keys does not reach the store. */
const UNKNOWN = Symbol('unknown');

/**
 * The cache key of a presented key: its SHA-256. The stored form stays HMAC-SHA256(pepper, key),
 * computed only on a cache miss; the pepper guards the database, and SHA-256 of 256 random bits is
 * as irreversible in memory, at about a third of an HMAC's cost on the hot path. (crypto.hash is
 * Node ≥ 20.12; older 20.x fall back to createHash.)
 */
const fingerprint: (key: string) => string =
  typeof oneShotHash === 'function'
    ? (key) => oneShotHash('sha256', key, 'base64')
    : (key) => createHash('sha256').update(key).digest('base64');

export interface VerifierOptions {
  cacheTtlMs: number;
  cacheMaxEntries?: number;
}

/**
 * The verification pipeline: format/checksum → lookup → status → expiry → IP → scopes →
 * signature → rate limit, in that order, each check able to end it with its code. A known key is served
 * from memory; the store is read only on a cache miss.
 */
export class Verifier {
  readonly #db: Db;
  readonly #pepper: Pepper;
  readonly #masterKey: MasterKey;
  /** By fingerprint() of the presented key. */
  readonly #cache: LRUCache<string, CachedKey | typeof UNKNOWN>;
  /**
   * Stored hash → fingerprint of each cached known key, so forget(secretHash) finds its entry. An
   * unknown key needs none: only creating a key makes a hash known, and nobody can present a
   * key before it exists.
   */
  readonly #fingerprints: Map<string, string> = new Map();
  /** Keys looked up by id, for signed requests that carry no key. */
  readonly #byId: LRUCache<string, CachedKey | typeof UNKNOWN>;
  readonly #limiter = new SlidingWindowLimiter();
  /**
   * Per connection, the last key it presented and that key's fingerprint. A gateway sends the same
   * root key on every request of a keep-alive connection; it then pays the parse, checksum and hash
   * once per connection, not per request. The key is held only while the connection lives, and a
   * memo hit still goes through the cache, so expiry and invalidation apply as before.
   */
  readonly #presented = new WeakMap<object, { key: string; kind: VerifyInput['kind']; cacheKey: string }>();
  /** Bumped by every forget(): a load that raced with a change must not cache what it read. */
  #epoch = 0;

  constructor(db: Db, pepper: Pepper, masterKey: MasterKey, options: VerifierOptions) {
    this.#db = db;
    this.#pepper = pepper;
    this.#masterKey = masterKey;
    this.#cache = new LRUCache({
      max: options.cacheMaxEntries ?? 100_000,
      ttl: options.cacheTtlMs,
      dispose: (entry, cacheKey) => {
        if (entry !== UNKNOWN && this.#fingerprints.get(entry.record.secretHash) === cacheKey)
          this.#fingerprints.delete(entry.record.secretHash);
      },
    });
    this.#byId = new LRUCache({ max: options.cacheMaxEntries ?? 100_000, ttl: options.cacheTtlMs });
  }

  /**
   * Runs every check and returns the first failing code, or VALID. A cached key that needs no
   * nonce is answered synchronously: the hot path allocates no promise. `connection` (the socket)
   * lets a connection that repeats its key skip re-parsing and re-hashing it.
   */
  verify(input: VerifyInput, now: number = Date.now(), connection?: object): VerifyOutcome | Promise<VerifyOutcome> {
    if (input.key !== undefined) {
      const memo = connection && this.#presented.get(connection);
      const remembered = memo !== undefined && memo.key === input.key && memo.kind === input.kind;
      const cacheKey = remembered ? memo.cacheKey : fingerprint(input.key);
      const cached = this.#cache.get(cacheKey);
      // Format and checksum come first, but only keys that pass them are ever looked up, so only
      // such keys are cached: a hit has passed them already, and checking again could not change
      // the answer (a key of the other kind is NOT_FOUND either way).
      if (cached === undefined) {
        const shape = parseKey(input.key);
        if (!shape || (shape.tag === 'root') !== (input.kind === 'root')) {
          return shape
            ? { valid: false, code: 'NOT_FOUND', key: null, rateLimit: null }
            : { valid: false, code: 'MALFORMED', key: null, rateLimit: null };
        }
      }
      if (connection && !remembered) this.#presented.set(connection, { key: input.key, kind: input.kind, cacheKey });
      if (cached !== undefined) return this.#check(cached, input, now);
      return this.#load(cacheKey, this.#pepper.hashKey(input.key)).then((loaded) => this.#check(loaded, input, now));
    }
    // A signed request without the key names it in the signature's keyid.
    const keyId = input.request && input.kind === 'api' ? signatureKeyId(input.request) : undefined;
    if (!keyId || !/^key_[A-Za-z0-9]{1,40}$/.test(keyId))
      return { valid: false, code: 'MALFORMED', key: null, rateLimit: null };
    const cached = this.#byId.get(keyId);
    if (cached !== undefined) return this.#check(cached, input, now);
    return this.#loadById(keyId).then((loaded) => this.#check(loaded, input, now));
  }

  /** The checks after lookup, in order: status → expiry → IP → scopes → signature → rate limit. */
  #check(cached: CachedKey | typeof UNKNOWN, input: VerifyInput, now: number): VerifyOutcome | Promise<VerifyOutcome> {
    if (
      cached === UNKNOWN ||
      cached.record.kind !== input.kind ||
      (input.workspaceId !== undefined && cached.record.workspaceId !== input.workspaceId)
    ) {
      return { valid: false, code: 'NOT_FOUND', key: null, rateLimit: null };
    }
    const { record } = cached;

    const status = effectiveStatus(record, now);
    if (status === 'revoked') return { valid: false, code: 'REVOKED', key: record, rateLimit: null };
    if (status === 'suspended') return { valid: false, code: 'SUSPENDED', key: record, rateLimit: null };
    if (status === 'expired') return { valid: false, code: 'EXPIRED', key: record, rateLimit: null };

    if (!cached.allowlist.allows(input.ip))
      return { valid: false, code: 'IP_NOT_ALLOWED', key: record, rateLimit: null };
    if (input.scopes && input.scopes.length > 0 && !cached.scopes.allows(input.scopes)) {
      return { valid: false, code: 'INSUFFICIENT_SCOPE', key: record, rateLimit: null };
    }

    // Signature: required by the key, by a signed scope asked for, or by a request that carries no key;
    // checked too whenever a key that signs arrives with a signature.
    const signatureNeeded =
      record.requireSignature ||
      input.key === undefined ||
      (cached.signedScopes !== null && (input.scopes ?? []).some((scope) => cached.signedScopes!.allows([scope])));
    const signaturePresent = input.request?.headers['signature-input'] !== undefined;
    if (signatureNeeded || (signaturePresent && cached.signingSecret)) {
      if (!cached.signingSecret) return { valid: false, code: 'SIGNATURE_INVALID', key: record, rateLimit: null };
      const verdict = checkSignature(input.request, record.id, cached.signingSecret, now);
      if (!verdict.ok) return { valid: false, code: verdict.code, key: record, rateLimit: null };
      // Kept until `created` is too old to pass the freshness check anyway.
      const keepUntil = new Date((verdict.created + SIGNATURE_MAX_SKEW_SECONDS + 1) * 1000);
      return claimNonce(this.#db, record.id, verdict.nonce, keepUntil).then(
        (fresh): VerifyOutcome =>
          fresh ? this.#limit(cached, now) : { valid: false, code: 'REPLAYED', key: record, rateLimit: null },
      );
    }
    return this.#limit(cached, now);
  }

  /** The last check: the key's rate limit, when it has one. */
  #limit({ record, valid }: CachedKey, now: number): VerifyOutcome {
    if (record.rateLimit) {
      const { allowed, state } = this.#limiter.consume(record.id, record.rateLimit, now);
      if (!allowed) return { valid: false, code: 'RATE_LIMITED', key: record, rateLimit: state };
      return { valid: true, code: 'VALID', key: record, rateLimit: state };
    }
    return valid;
  }

  /** Drops a key from the cache at once; key services call it after every change to a key. */
  forget(secretHash: string): void {
    this.#epoch += 1;
    const cacheKey = this.#fingerprints.get(secretHash);
    if (cacheKey !== undefined) this.#cache.delete(cacheKey);
    // Changes are rare; the by-id cache is only for keyless signed requests. Start it afresh.
    this.#byId.clear();
  }

  /** Periodic housekeeping of in-memory state. */
  sweep(now: number = Date.now()): void {
    this.#limiter.sweep(now);
  }

  async #load(cacheKey: string, secretHash: string): Promise<CachedKey | typeof UNKNOWN> {
    const epoch = this.#epoch;
    const entry = await this.#loadInto(this.#cache, cacheKey, () => findKeyByHash(this.#db, secretHash));
    if (epoch === this.#epoch && entry !== UNKNOWN) this.#fingerprints.set(secretHash, cacheKey);
    return entry;
  }

  #loadById(id: string): Promise<CachedKey | typeof UNKNOWN> {
    return this.#loadInto(this.#byId, id, () => findKeyById(this.#db, id));
  }

  async #loadInto(
    cache: LRUCache<string, CachedKey | typeof UNKNOWN>,
    cacheKey: string,
    find: () => Promise<KeyRecord | null>,
  ): Promise<CachedKey | typeof UNKNOWN> {
    const epoch = this.#epoch;
    const record = await find();
    const entry = record ? this.#compile(record) : UNKNOWN;
    if (epoch === this.#epoch) cache.set(cacheKey, entry);
    return entry;
  }

  #compile(record: KeyRecord): CachedKey {
    return {
      record,
      scopes: compileScopes(record.scopes),
      allowlist: compileAllowlist(record.ipAllowlist),
      signedScopes: record.signedScopes.length ? compileScopes(record.signedScopes) : null,
      signingSecret: record.signingSecretSealed ? this.#masterKey.unseal(record.signingSecretSealed, record.id) : null,
      valid: Object.freeze({ valid: true, code: 'VALID', key: record, rateLimit: null }),
    };
  }
}
