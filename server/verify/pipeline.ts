import { createHash, hash as oneShotHash } from 'node:crypto';
import type { LRUCache } from 'lru-cache';
import type { RateLimit, SignedRequest, VerifyCode } from '../../schema';
import { SIGNATURE_MAX_SKEW_SECONDS } from '../../schema';
import { parseKey } from '../keys/format';
import { effectiveStatus, type KeyRecord } from '../keys/record';
import { claimNonce, findKeyByHash, findKeyById } from '../keys/repository';
import type { MasterKey, Pepper } from '../keys/secrets';
import type { Db } from '../store/database';
import { boundedCache } from './bounded-cache';
import { compileAllowlist, type IpMatcher } from './ip';
import { type RateLimitState, SlidingWindowLimiter } from './rate-limit';
import { compileScopes, type ScopeMatcher } from './scopes';
import { SharedMatchers } from './shared-matchers';
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
}

/** A hash with no key behind it; cached too, so a flood of unknown keys does not reach the store. */
const UNKNOWN = Symbol('unknown');

/** A presented key that fails its format or checksum: never looked up, so never cached. */
const MALFORMED = Symbol('malformed');

/** What a key id in a signature's keyid must look like before it is looked up. */
const KEY_ID = /^key_[A-Za-z0-9]{1,40}$/;

/**
 * The cache key of a presented key: its SHA-256. The stored form stays HMAC-SHA256(pepper, key),
 * computed only on a cache miss; the pepper guards the database, and SHA-256 of 256 random bits is
 * as irreversible in memory, for less than an HMAC costs (docs/benchmarks.md). (crypto.hash is
 * Node ≥ 20.12; older 20.x fall back to createHash.)
 */
export const keyFingerprint: (key: string) => string =
  typeof oneShotHash === 'function'
    ? (key) => oneShotHash('sha256', key, 'base64')
    : (key) => createHash('sha256').update(key).digest('base64');

/** A refusal of a known key. */
function refused(record: KeyRecord, code: Exclude<VerifyCode, 'VALID' | 'MALFORMED' | 'NOT_FOUND'>): VerifyOutcome {
  return { valid: false, code, key: record, rateLimit: null };
}

/** The cached key if it is one the request may use: known, of the kind and in the workspace asked for; else null (NOT_FOUND). */
function usable(entry: CachedKey | typeof UNKNOWN, input: VerifyInput): CachedKey | null {
  if (entry === UNKNOWN || entry.record.kind !== input.kind) return null;
  if (input.workspaceId !== undefined && entry.record.workspaceId !== input.workspaceId) return null;
  return entry;
}

/** The checks that need only the key: status, expiry, IP, scopes. The first refusal, or null. */
function refusal(key: CachedKey, input: VerifyInput, now: number): VerifyOutcome | null {
  const status = effectiveStatus(key.record, now);
  if (status === 'revoked') return refused(key.record, 'REVOKED');
  if (status === 'suspended') return refused(key.record, 'SUSPENDED');
  if (status === 'expired') return refused(key.record, 'EXPIRED');
  if (!key.allowlist.allows(input.ip)) return refused(key.record, 'IP_NOT_ALLOWED');
  if (input.scopes && input.scopes.length > 0 && !key.scopes.allows(input.scopes))
    return refused(key.record, 'INSUFFICIENT_SCOPE');
  return null;
}

/**
 * Whether the request's signature is checked: when the key requires one, a signed scope is asked
 * for, or the request carries no key; and whenever a key that signs arrives with a signature.
 */
function signatureChecked(key: CachedKey, input: VerifyInput): boolean {
  const needed =
    key.record.requireSignature ||
    input.key === undefined ||
    (key.signedScopes !== null && (input.scopes ?? []).some((scope) => key.signedScopes!.allows([scope])));
  return needed || (input.request?.headers['signature-input'] !== undefined && key.signingSecret !== null);
}

/**
 * Rate limits held by the whole cluster (server/cluster/rate-leases.ts): a token spent from this
 * replica's lease in memory, or, when it has none, leased from the store first.
 */
export interface ClusterRateLimiter {
  /** A verdict from memory, or undefined when only the store can give one. */
  tryLocal(keyId: string, rule: RateLimit, now: number): { allowed: boolean; state: RateLimitState } | undefined;
  consume(keyId: string, rule: RateLimit, now: number): Promise<{ allowed: boolean; state: RateLimitState }>;
  sweep(now: number): void;
}

/** A rate-limit verdict as the pipeline's outcome. */
function limitedBy(record: KeyRecord, { allowed, state }: { allowed: boolean; state: RateLimitState }): VerifyOutcome {
  return allowed
    ? { valid: true, code: 'VALID', key: record, rateLimit: state }
    : { valid: false, code: 'RATE_LIMITED', key: record, rateLimit: state };
}

/** Reads of the store under way, by cache key, each settling to what it cached. */
type Loads = Map<string, Promise<CachedKey | typeof UNKNOWN>>;

export interface VerifierOptions {
  /** How long a looked-up key is kept; 0 keeps none, so every verification reads the store. */
  cacheTtlMs: number;
  /** How many keys each of the verifier's caches holds at most. */
  cacheMaxEntries: number;
  /**
   * The caches' clock for their TTL, in ms. Monotonic (performance.now) unless a test moves one of
   * its own: a wall clock set back would keep entries, and a revoked key's, past their TTL.
   */
  cacheClock?: () => number;
  /** With several replicas on one store: each key's limit is the cluster's. Else the limit is this process's. */
  clusterLimiter?: ClusterRateLimiter;
}

/**
 * The verification pipeline: format/checksum → lookup → status → expiry → IP → scopes →
 * signature → rate limit, in that order, each check able to end it with its code. A known key is
 * served from memory; the store is read only on a cache miss and to claim a signature's nonce.
 */
export class Verifier {
  readonly #db: Db;
  readonly #pepper: Pepper;
  readonly #masterKey: MasterKey;
  /** By keyFingerprint() of the presented key. */
  readonly #cache: LRUCache<string, CachedKey | typeof UNKNOWN>;
  /** Stored hash → fingerprint of each cached known key, so forget(secretHash) finds its entry. */
  readonly #fingerprints: Map<string, string> = new Map();
  /**
   * The same for keys cached as unknown. A caller may supply its own key at create (so it can be
   * presented before it exists); creating it must drop the "unknown" answer. Bounded like the cache.
   */
  readonly #unknownFingerprints: LRUCache<string, string>;
  /** Keys looked up by id, for signed requests that carry no key. */
  readonly #byId: LRUCache<string, CachedKey | typeof UNKNOWN>;
  /** Compiled grants and allowlists, shared by keys with equal lists (./shared-matchers.ts). */
  readonly #scopeMatchers = new SharedMatchers(compileScopes);
  readonly #allowlists = new SharedMatchers(compileAllowlist);
  readonly #limiter = new SlidingWindowLimiter();
  readonly #clusterLimiter: ClusterRateLimiter | undefined;
  /** Bumped by every forget(): a load that raced with a change must not cache what it read. */
  #epoch = 0;
  /**
   * Reads of the store under way, per cache and cache key. The requests that miss one key at once
   * (its first use, or its entry's expiry under load) share one read instead of each making its
   * own. Emptied with every epoch, so a request after a change never waits on a read from before it.
   */
  readonly #cacheLoads: Loads = new Map();
  /** The same for #byId. */
  readonly #byIdLoads: Loads = new Map();
  /** Keys read from the store because the cache did not hold them. */
  #reads = 0;
  /** False with a TTL of 0: lru-cache would read 0 as "never expires", the opposite of what it asks. */
  readonly #caching: boolean;

  constructor(db: Db, pepper: Pepper, masterKey: MasterKey, options: VerifierOptions) {
    this.#db = db;
    this.#pepper = pepper;
    this.#masterKey = masterKey;
    this.#clusterLimiter = options.clusterLimiter;
    this.#caching = options.cacheTtlMs > 0;
    const timing = { ttl: options.cacheTtlMs, ...(options.cacheClock ? { perf: { now: options.cacheClock } } : {}) };
    this.#cache = boundedCache(options.cacheMaxEntries, {
      ...timing,
      dispose: (entry, cacheKey) => {
        if (entry !== UNKNOWN && this.#fingerprints.get(entry.record.secretHash) === cacheKey)
          this.#fingerprints.delete(entry.record.secretHash);
      },
    });
    this.#byId = boundedCache(options.cacheMaxEntries, timing);
    this.#unknownFingerprints = boundedCache(options.cacheMaxEntries, timing);
  }

  /** How many entries the key caches hold (by presented key and by key id), expired ones not yet swept included. */
  get cachedKeys(): number {
    return this.#cache.size + this.#byId.size;
  }

  /** How many keys have been read from the store because the cache did not hold them. */
  get storeReads(): number {
    return this.#reads;
  }

  /**
   * Verifies from memory alone: the outcome when the presented key is cached and no check needs
   * the store, else undefined (a key not cached, a signature whose nonce is to be claimed, a
   * request without a key), and then verify() answers. `fingerprint` is keyFingerprint(input.key)
   * when the caller has it already.
   */
  verifyCached(input: VerifyInput, now: number, fingerprint?: string): VerifyOutcome | undefined {
    if (input.key === undefined) return undefined;
    const entry = this.#cache.get(fingerprint ?? keyFingerprint(input.key));
    if (entry === undefined) return undefined;
    const key = usable(entry, input);
    if (key === null) return { valid: false, code: 'NOT_FOUND', key: null, rateLimit: null };
    const refusing = refusal(key, input, now);
    if (refusing !== null) return refusing;
    return signatureChecked(key, input) ? undefined : this.#limit(key.record, now);
  }

  /** Runs every check, reading the store when it must, and returns the first failing code, or VALID. */
  async verify(input: VerifyInput, now: number = Date.now()): Promise<VerifyOutcome> {
    const entry = await this.#find(input);
    if (entry === MALFORMED) return { valid: false, code: 'MALFORMED', key: null, rateLimit: null };
    const key = usable(entry, input);
    if (key === null) return { valid: false, code: 'NOT_FOUND', key: null, rateLimit: null };
    const refusing = refusal(key, input, now);
    if (refusing !== null) return refusing;
    if (signatureChecked(key, input)) {
      if (!key.signingSecret) return refused(key.record, 'SIGNATURE_INVALID');
      const signature = checkSignature(input.request, key.record.id, key.signingSecret, now);
      if (!signature.ok) return refused(key.record, signature.code);
      // Kept until `created` is too old to pass the freshness check anyway.
      const keepUntil = new Date((signature.created + SIGNATURE_MAX_SKEW_SECONDS + 1) * 1000);
      if (!(await claimNonce(this.#db, key.record.id, signature.nonce, keepUntil)))
        return refused(key.record, 'REPLAYED');
    }
    return this.spendRateLimit(key.record, now);
  }

  /**
   * Spends one of the key's rate-limit tokens, as a verification does: VALID while the key is
   * within its limit (or has none), RATE_LIMITED past it. With a cluster, the limit is the
   * cluster's, so a root key's console session and its bearer requests share one budget.
   */
  async spendRateLimit(record: KeyRecord, now: number): Promise<VerifyOutcome> {
    const limited = this.#limit(record, now);
    if (limited !== undefined) return limited;
    return limitedBy(record, await this.#clusterLimiter!.consume(record.id, record.rateLimit!, now));
  }

  /**
   * The last check: the key's rate limit, when it has one. Undefined when the cluster's limiter
   * must lease tokens from the store first (verify() then waits for it).
   */
  #limit(record: KeyRecord, now: number): VerifyOutcome | undefined {
    if (!record.rateLimit) return { valid: true, code: 'VALID', key: record, rateLimit: null };
    if (this.#clusterLimiter) {
      const verdict = this.#clusterLimiter.tryLocal(record.id, record.rateLimit, now);
      return verdict && limitedBy(record, verdict);
    }
    return limitedBy(record, this.#limiter.consume(record.id, record.rateLimit, now));
  }

  /**
   * The key a request presents, from the cache or the store: by the key itself, or for a signed
   * request without one, by its signature's keyid. Format and checksum are checked only on a
   * cache miss: only keys that pass them are looked up, so a cached key has passed them already.
   */
  async #find(input: VerifyInput): Promise<CachedKey | typeof UNKNOWN | typeof MALFORMED> {
    if (input.key === undefined) {
      const keyId = input.request && input.kind === 'api' ? signatureKeyId(input.request) : undefined;
      if (!keyId || !KEY_ID.test(keyId)) return MALFORMED;
      return (
        this.#byId.get(keyId) ?? this.#loadInto(this.#byId, this.#byIdLoads, keyId, () => findKeyById(this.#db, keyId))
      );
    }
    const cacheKey = keyFingerprint(input.key);
    const cached = this.#cache.get(cacheKey);
    if (cached !== undefined) return cached;
    const shape = parseKey(input.key);
    if (!shape) return MALFORMED;
    // A key of the other kind is NOT_FOUND without a lookup.
    if ((shape.tag === 'root') !== (input.kind === 'root')) return UNKNOWN;
    const secretHash = this.#pepper.hashKey(input.key);
    const epoch = this.#epoch;
    const entry = await this.#loadInto(this.#cache, this.#cacheLoads, cacheKey, () =>
      findKeyByHash(this.#db, secretHash),
    );
    if (epoch === this.#epoch && this.#caching)
      (entry === UNKNOWN ? this.#unknownFingerprints : this.#fingerprints).set(secretHash, cacheKey);
    return entry;
  }

  /** Drops a key from the cache at once; key services call it after every change to a key. */
  forget(secretHash: string): void {
    this.#newEpoch();
    const cacheKey = this.#fingerprints.get(secretHash) ?? this.#unknownFingerprints.get(secretHash);
    if (cacheKey !== undefined) this.#cache.delete(cacheKey);
    this.#unknownFingerprints.delete(secretHash);
    // Changes are rare; the by-id cache is only for keyless signed requests. Start it afresh.
    this.#byId.clear();
  }

  /** Drops every cached key: the cluster listener was away and cannot know what changed meanwhile. */
  forgetAll(): void {
    this.#newEpoch();
    this.#cache.clear();
    this.#fingerprints.clear();
    this.#unknownFingerprints.clear();
    this.#byId.clear();
  }

  /**
   * Periodic housekeeping of in-memory state. Expired cache entries are dropped too: lru-cache
   * only drops one when it is read or pushed out, so the cache would otherwise keep every key
   * verified since start, up to its bound, and hold that memory.
   */
  sweep(now: number = Date.now()): void {
    this.#limiter.sweep(now);
    this.#clusterLimiter?.sweep(now);
    this.#cache.purgeStale();
    this.#byId.purgeStale();
    this.#unknownFingerprints.purgeStale();
  }

  /** Starts a new epoch: loads under way may not cache what they read, and no request joins them. */
  #newEpoch(): void {
    this.#epoch += 1;
    this.#cacheLoads.clear();
    this.#byIdLoads.clear();
  }

  /**
   * Reads a key from the store and caches it compiled, unless a forget() ran meanwhile; a read of
   * the same key under way in this epoch is shared.
   */
  #loadInto(
    cache: LRUCache<string, CachedKey | typeof UNKNOWN>,
    loads: Loads,
    cacheKey: string,
    find: () => Promise<KeyRecord | null>,
  ): Promise<CachedKey | typeof UNKNOWN> {
    const underway = loads.get(cacheKey);
    if (underway !== undefined) return underway;
    const epoch = this.#epoch;
    this.#reads += 1;
    const load = find().then((record) => {
      const entry = record ? this.#compile(record) : UNKNOWN;
      if (epoch === this.#epoch && this.#caching) cache.set(cacheKey, entry);
      return entry;
    });
    loads.set(cacheKey, load);
    const settled = () => {
      if (loads.get(cacheKey) === load) loads.delete(cacheKey);
    };
    load.then(settled, settled);
    return load;
  }

  /** What the checks need of a key, worked out once per cached key. */
  #compile(record: KeyRecord): CachedKey {
    return {
      record,
      scopes: this.#scopeMatchers.of(record.scopes),
      allowlist: this.#allowlists.of(record.ipAllowlist),
      signedScopes: record.signedScopes.length ? this.#scopeMatchers.of(record.signedScopes) : null,
      signingSecret: record.signingSecretSealed ? this.#masterKey.unseal(record.signingSecretSealed, record.id) : null,
    };
  }
}
