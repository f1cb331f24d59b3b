import { createHash, randomBytes } from 'node:crypto';
import {
  type ApiKey,
  type AuditAction,
  type CreatedKey,
  canonicalJson,
  type KeyPolicy,
  type KeyStatus,
  type LeakPolicy,
  type LeakSource,
  type ListKeysQuery,
  POLICY_DEFAULTS,
  POLICY_FIELDS,
} from '../../schema';
import { type Actor, appendAudit, appendAuditEntries } from '../audit/log';
import type { CallRecorder } from '../calls/recorder';
import { announceKeyChange } from '../cluster/invalidation';
import { KeywardError } from '../errors';
import { appendEvent, appendEvents } from '../events/outbox';
import type { Db } from '../store/database';
import { GroupCommit } from '../store/group-commit';
import type { Verifier } from '../verify/pipeline';
import { readWorkspaceSettings } from '../workspaces/repository';
import { generateKey, keyStart, suppliedKeyProblem } from './format';
import { requireGrants } from './grants';
import { apiPolicyOf, effectiveStatus, type KeyRecord, type StoredPolicy, storedPolicyOf, toApiKey } from './record';
import * as repository from './repository';
import { generateSigningSecret, type MasterKey, type Pepper, seal, unseal } from './secrets';

export type KeyKind = 'api' | 'root';

/** The policy a create request carries (schema defaults applied or not), and the environment of an API key. */
export type NewKeyPolicy = { name: string; scopes: readonly string[] } & Partial<Omit<KeyPolicy, 'name' | 'scopes'>> & {
    environment?: 'live' | 'test';
    /** A key the caller generated (POST /v1/keys `key`), used instead of a new one. */
    key?: string;
  };

/** A policy change: any subset of the policy, never the secret. */
export type KeyPatch = Partial<KeyPolicy>;

/** What a leak report did: the key after it, the policy applied, and whether it was recorded (false for a repeat). */
export interface LeakOutcome {
  key: ApiKey;
  action: LeakPolicy;
  previousStatus: KeyStatus;
  recorded: boolean;
}

/** The status a leak policy gives a key in `status`, or null when it changes nothing. */
function leakWrite(policy: LeakPolicy, status: KeyStatus): repository.KeyWrite | null {
  if (policy === 'suspend') return status === 'active' || status === 'retiring' ? { status: 'suspended' } : null;
  if (policy === 'revoke') return status === 'revoked' ? null : { status: 'revoked' };
  return null;
}

const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/** Idempotency records made before this have expired: a request with the same key is new again. */
function staleBefore(now: Date): Date {
  return new Date(now.getTime() - IDEMPOTENCY_TTL_MS);
}

/** A key just issued: its record, its secret and (for a key that signs) its signing secret, each shown once. */
interface Minted {
  record: KeyRecord;
  secret: string;
  signingSecret: string | null;
}

/** Thrown inside a transaction to undo it when a concurrent request already used the Idempotency-Key. */
class IdempotencyRace extends Error {}

/** What an idempotent request records: its operation, its Idempotency-Key and hashes of both. */
interface IdempotencyClaim {
  operation: string;
  key: string;
  keyHash: string;
  requestHash: string;
}

/** One creation waiting for its transaction. */
interface CreationRequest {
  kind: KeyKind;
  actor: Actor;
  policy: NewKeyPolicy;
  claim: IdempotencyClaim | null;
}

/** A creation written, or why not: its Idempotency-Key was taken meanwhile, or its supplied key is in use. */
type CreationOutcome = Minted | 'raced' | 'in-use';

/** One item of a batch create: a policy the schema accepted, or the schema's error for it. */
export type BatchItem =
  | { ok: true; policy: NewKeyPolicy; idempotencyKey?: string }
  | { ok: false; error: KeywardError };

/** One item's answer in a batch create: its key, or its error. */
export type BatchItemResult =
  | { index: number; key: CreatedKey; replayed: boolean }
  | { index: number; error: KeywardError };

/** Most creations one transaction takes (group commit); 13 audit columns × this stays far below Postgres's 65,535 parameters. */
const CREATIONS_PER_TRANSACTION = 256;

function newKeyId(kind: KeyKind): string {
  return `${kind === 'root' ? 'rk' : 'key'}_${randomBytes(16).toString('base64url').replace(/[-_]/g, '').slice(0, 20)}`;
}

function auditAction(kind: KeyKind, verb: string): AuditAction {
  return `${kind === 'root' ? 'root_key' : 'key'}.${verb}` as AuditAction;
}

/** A key as events describe it: ids, name, display prefix and scopes, never a secret or its hash. */
export function eventKey(record: KeyRecord): Record<string, unknown> {
  return {
    id: record.id,
    kind: record.kind,
    name: record.name,
    start: record.start,
    environment: record.environment,
    scopes: record.scopes,
    status: record.status,
  };
}

const TRANSITION_EVENTS = {
  suspend: 'key.suspended',
  resume: 'key.resumed',
  revoke: 'key.revoked',
  retire: 'key.retired',
} as const;

/**
 * Key lifecycle: create, read, update, rotate, suspend, resume, revoke, retire, for API keys and
 * root keys alike. Every change commits together with its audit entry and its event (the webhook
 * outbox, server/events/outbox.ts), and drops the key from the verification cache.
 */
export class KeyService {
  readonly #db: Db;
  readonly #pepper: Pepper;
  readonly #masterKey: MasterKey;
  readonly #verifier: Verifier;
  readonly #recorder: CallRecorder;
  readonly #creations: GroupCommit<CreationRequest, CreationOutcome>;

  constructor(deps: { db: Db; pepper: Pepper; masterKey: MasterKey; verifier: Verifier; recorder: CallRecorder }) {
    this.#creations = new GroupCommit(
      (requests) => deps.db.transaction().execute((trx) => this.#createMany(trx, requests)),
      { maxBatch: CREATIONS_PER_TRANSACTION },
    );
    this.#db = deps.db;
    this.#pepper = deps.pepper;
    this.#masterKey = deps.masterKey;
    this.#verifier = deps.verifier;
    this.#recorder = deps.recorder;
  }

  /**
   * Issues a new key; with an Idempotency-Key, a repeat of the same request returns the first
   * result. Concurrent creations share transactions (server/store/group-commit.ts).
   */
  create(
    kind: KeyKind,
    actor: Actor,
    policy: NewKeyPolicy,
    idempotencyKey?: string,
  ): Promise<{ created: CreatedKey; replayed: boolean }> {
    return this.#createOne(kind, actor, policy, idempotencyKey, 'body');
  }

  /**
   * Creates API keys for one request (POST /v1/keys:batch): each item is checked and stored on its
   * own, and answered with its key or its error, in order. An item with an Idempotency-Key is
   * idempotent as a create with that header is; items without one make new keys when retried.
   */
  async createBatch(actor: Actor, items: readonly BatchItem[]): Promise<BatchItemResult[]> {
    return Promise.all(
      items.map(async (item, index): Promise<BatchItemResult> => {
        try {
          if (!item.ok) throw item.error;
          const { created, replayed } = await this.#createOne(
            'api',
            actor,
            item.policy,
            item.idempotencyKey,
            `body.items.${index}`,
          );
          return { index, key: created, replayed };
        } catch (error) {
          if (error instanceof KeywardError) return { index, error };
          throw error;
        }
      }),
    );
  }

  /** One creation, named `at` in its errors: checked, claimed and stored in a shared transaction. */
  async #createOne(
    kind: KeyKind,
    actor: Actor,
    policy: NewKeyPolicy,
    idempotencyKey: string | undefined,
    at: string,
  ): Promise<{ created: CreatedKey; replayed: boolean }> {
    this.#checkCreation(kind, actor, policy, at);
    const claim = this.#claimFor(`create:${kind}`, policy, idempotencyKey);
    // A repeat is found by its claim failing in the creation's transaction, not by a read first:
    // repeats are rare, and a read per creation was a quarter of the store's time per key.
    const outcome = await this.#creations.submit({ kind, actor, policy, claim });
    return this.#settle(actor, claim, outcome, policy.key !== undefined);
  }

  #checkCreation(kind: KeyKind, actor: Actor, policy: NewKeyPolicy, at: string): void {
    if (kind === 'root') requireGrants(actor.scopes, policy.scopes);
    if (policy.key !== undefined) checkSupplied(kind, policy.key, policy.environment ?? 'live', `${at}.key`);
  }

  /** Turns a creation's outcome into the answer: the new key, the earlier result of a raced request, or a 409. */
  async #settle(
    actor: Actor,
    claim: IdempotencyClaim | null,
    outcome: CreationOutcome,
    supplied = false,
  ): Promise<{ created: CreatedKey; replayed: boolean }> {
    if (outcome === 'in-use') throw keyInUse();
    if (outcome === 'raced') {
      const winner = claim && (await this.#replay(actor, claim));
      if (!winner)
        throw new KeywardError(
          'KW_ERR_INVALID_STATE',
          'a concurrent request with this Idempotency-Key did not finish; retry',
        );
      return winner;
    }
    const { record, secret, signingSecret } = outcome;
    // A verification of a supplied key before it existed may have cached "unknown" here.
    if (supplied) this.#verifier.forget(record.secretHash);
    return { created: { ...toApiKey(record, Date.now()), key: secret, signingSecret }, replayed: false };
  }

  /**
   * Writes creations in one transaction: the idempotency claims, the keys, their audit entries
   * (one lock of each chain head) and their key.created events, each kind of row in one statement.
   * A creation whose Idempotency-Key was claimed meanwhile, or whose supplied key is in use, is
   * left out and answered as such; the others are written.
   */
  async #createMany(trx: Db, requests: readonly CreationRequest[]): Promise<CreationOutcome[]> {
    const now = new Date();
    const minted = requests.map((request) =>
      this.#mint(request.kind, request.actor.workspaceId, request.policy, now, null, request.policy.key),
    );
    const outcomes: CreationOutcome[] = [...minted];
    // One claim per Idempotency-Key: a repeat sent alongside the first shares its transaction, and
    // is answered, like any repeat, from the first's result once that is committed.
    const claiming = new Set<string>();
    const claims = requests.flatMap((request, index) => {
      const { claim, actor } = request;
      if (!claim) return [];
      const id = `${actor.workspaceId} ${claim.operation} ${claim.keyHash}`;
      if (claiming.has(id)) return [];
      claiming.add(id);
      return [this.#resultFor(actor, claim, minted[index]!, now)];
    });
    const claimed = await repository.claimIdempotencyKeys(trx, claims, staleBefore(now));
    requests.forEach((request, index) => {
      if (request.claim && !claimed.has(minted[index]!.record.id)) outcomes[index] = 'raced';
    });
    const pending = minted.filter((_, index) => outcomes[index] !== 'raced').map((result) => result.record);
    const stored = await repository.insertKeys(trx, pending);
    await repository.dropIdempotentResults(
      trx,
      pending.filter((record) => !stored.has(record.id)).map((record) => record.id),
    );
    const written: number[] = [];
    minted.forEach((result, index) => {
      if (outcomes[index] === 'raced') return;
      if (stored.has(result.record.id)) written.push(index);
      else outcomes[index] = 'in-use';
    });
    await appendAuditEntries(
      trx,
      written.map((index) => {
        const { record } = minted[index]!;
        return {
          actor: requests[index]!.actor,
          entry: {
            action: auditAction(record.kind, 'create'),
            targetKeyId: record.id,
            changes: {
              ...apiPolicyOf(record),
              environment: record.environment,
              start: record.start,
              ...(requests[index]!.policy.key === undefined ? {} : { keySupplied: true }),
            },
          },
        };
      }),
    );
    await appendEvents(
      trx,
      written.map((index) => ({
        actor: requests[index]!.actor,
        type: 'key.created' as const,
        data: { key: eventKey(minted[index]!.record) },
      })),
      now,
    );
    // Another replica may have cached a supplied key as unknown before it existed.
    for (const index of written)
      if (requests[index]!.policy.key !== undefined) await announceKeyChange(trx, minted[index]!.record.secretHash);
    return outcomes;
  }

  /** One key, with a last use that is still waiting to be written already applied. */
  async get(kind: KeyKind, actor: Actor, id: string): Promise<ApiKey> {
    const record = await this.#require(this.#db, kind, actor, id);
    const pending = this.#recorder.pendingLastUse(record.id);
    if (pending && (!record.lastUsedAt || record.lastUsedAt < pending.at)) {
      record.lastUsedAt = pending.at;
      record.lastUsedIp = pending.ip;
    }
    return toApiKey(record);
  }

  /** A page of keys with filters. */
  async list(
    kind: KeyKind,
    actor: Actor,
    query: ListKeysQuery,
  ): Promise<{ items: ApiKey[]; nextCursor: string | null }> {
    const now = new Date();
    const page = await repository.listKeys(this.#db, actor.workspaceId, kind, query, now);
    return { items: page.items.map((record) => toApiKey(record, now.getTime())), nextCursor: page.nextCursor };
  }

  /** Changes policy fields; never the secret. With `ifMatch`, fails unless the version still matches. */
  async update(
    kind: KeyKind,
    actor: Actor,
    id: string,
    patch: KeyPatch,
    ifMatch?: number,
  ): Promise<ApiKey & { signingSecret?: string }> {
    let issuedSigningSecret: string | undefined;
    const updated = await this.#change(kind, actor, id, async (trx, current, now) => {
      if (ifMatch !== undefined && ifMatch !== current.version) {
        throw new KeywardError(
          'KW_ERR_VERSION_MISMATCH',
          `If-Match ${ifMatch} does not match the current version ${current.version}`,
        );
      }
      if (current.status === 'revoked')
        throw new KeywardError('KW_ERR_INVALID_STATE', 'a revoked key cannot be changed');
      if (kind === 'root') {
        requireTargetWithinGrants(actor, current);
        requireGrants(actor.scopes, patch.scopes ?? []);
      }
      const before = apiPolicyOf(current);
      // Turning signing on for a key that never signed gives it its secret, shown in this answer only.
      const signs =
        (patch.signedScopes ?? current.signedScopes).length > 0 || (patch.requireSignature ?? current.requireSignature);
      if (signs && !current.signingSecretSealed) issuedSigningSecret = generateSigningSecret();
      const updated = await repository.updateKey(trx, current.id, {
        ...storedPolicyOf(patch),
        ...(issuedSigningSecret ? { signingSecretSealed: this.#masterKey.seal(issuedSigningSecret, current.id) } : {}),
        updatedAt: now,
        version: current.version + 1,
      });
      const after = apiPolicyOf(updated);
      const fields = POLICY_FIELDS.filter((field) => canonicalJson(before[field]) !== canonicalJson(after[field]));
      await appendAudit(trx, actor, {
        action: auditAction(kind, 'update'),
        targetKeyId: current.id,
        changes: {
          fields,
          before: pick(before, fields),
          after: pick(after, fields),
          ...(issuedSigningSecret ? { signingSecretIssued: true } : {}),
        },
      });
      if (fields.length > 0 || issuedSigningSecret)
        await appendEvent(trx, actor, 'key.updated', { key: eventKey(updated), fields }, now);
      return updated;
    });
    return issuedSigningSecret ? { ...updated, signingSecret: issuedSigningSecret } : updated;
  }

  /**
   * Issues a successor with the same policy; the old key stays valid for `gracePeriodSeconds`
   * (retiring), then expires. A grace of 0 stops the old key at once.
   */
  async rotate(
    kind: KeyKind,
    actor: Actor,
    id: string,
    gracePeriodSeconds: number,
    idempotencyKey?: string,
    supplied?: string,
  ): Promise<{ created: CreatedKey; replayed: boolean }> {
    let retired: string | undefined;
    if (supplied !== undefined && kind === 'root') {
      throw KeywardError.invalidField('body.key', 'is for API keys only: keyward always generates root keys');
    }
    const result = await this.#idempotent(
      actor,
      `rotate:${kind}:${id}`,
      supplied === undefined ? { gracePeriodSeconds } : { gracePeriodSeconds, key: supplied },
      idempotencyKey,
      async (trx, now) => {
        const old = await this.#require(trx, kind, actor, id, true);
        if (supplied !== undefined) checkSupplied(kind, supplied, old.environment);
        retired = old.secretHash;
        if (kind === 'root') requireTargetWithinGrants(actor, old);
        const status = effectiveStatus(old, now.getTime());
        if (status !== 'active') {
          const hint = status === 'retiring' ? `; it was already rotated to ${old.successorId}` : '';
          throw new KeywardError(
            'KW_ERR_INVALID_STATE',
            `only an active key can be rotated; this one is ${status}${hint}`,
          );
        }
        const minted = this.#mint(
          kind,
          actor.workspaceId,
          { ...apiPolicyOf(old), environment: old.environment },
          now,
          old.id,
          supplied,
        );
        const { record } = minted;
        await this.#insert(trx, record, supplied !== undefined);
        const graceUntil = new Date(now.getTime() + gracePeriodSeconds * 1000);
        await repository.updateKey(trx, old.id, {
          status: gracePeriodSeconds === 0 ? 'expired' : 'retiring',
          successorId: record.id,
          graceUntil,
          updatedAt: now,
          version: old.version + 1,
        });
        await appendAudit(trx, actor, {
          action: auditAction(kind, 'rotate'),
          targetKeyId: old.id,
          changes: { successorId: record.id, gracePeriodSeconds, graceUntil: graceUntil.toISOString() },
        });
        await appendAudit(trx, actor, {
          action: auditAction(kind, 'create'),
          targetKeyId: record.id,
          changes: {
            ...apiPolicyOf(record),
            environment: record.environment,
            start: record.start,
            predecessorId: old.id,
            ...(supplied === undefined ? {} : { keySupplied: true }),
          },
        });
        await appendEvent(
          trx,
          actor,
          'key.rotated',
          {
            key: { ...eventKey(old), status: gracePeriodSeconds === 0 ? 'expired' : 'retiring' },
            successor: eventKey(record),
            graceUntil: graceUntil.toISOString(),
          },
          now,
        );
        await announceKeyChange(trx, old.secretHash);
        return minted;
      },
    );
    // After the commit: a verification that reloaded the key before it must not keep the old state.
    if (retired) this.#verifier.forget(retired);
    if (supplied !== undefined) this.#verifier.forget(this.#pepper.hashKey(supplied));
    return result;
  }

  /** Stops a key until it is resumed. */
  async suspend(kind: KeyKind, actor: Actor, id: string): Promise<ApiKey> {
    return this.#transition(kind, actor, id, 'suspend', (_current, status) => {
      if (status === 'suspended') return null;
      if (status !== 'active' && status !== 'retiring')
        throw new KeywardError('KW_ERR_INVALID_STATE', `a ${status} key cannot be suspended`);
      return { status: 'suspended' };
    });
  }

  /** Lets a suspended key work again (as retiring if it was inside a grace period). */
  async resume(kind: KeyKind, actor: Actor, id: string): Promise<ApiKey> {
    return this.#transition(kind, actor, id, 'resume', (current, status) => {
      if (status === 'active' || status === 'retiring') return null;
      if (kind === 'root') requireTargetWithinGrants(actor, current);
      if (status !== 'suspended') throw new KeywardError('KW_ERR_INVALID_STATE', `a ${status} key cannot be resumed`);
      return { status: current.graceUntil ? 'retiring' : 'active' };
    });
  }

  /** Stops a key at once and for good. */
  async revoke(kind: KeyKind, actor: Actor, id: string): Promise<ApiKey> {
    return this.#transition(kind, actor, id, 'revoke', (_current, status) =>
      status === 'revoked' ? null : { status: 'revoked' },
    );
  }

  /** Lets a key run out: valid for `gracePeriodSeconds` more, then expired. Never lengthens an existing grace. */
  async retire(kind: KeyKind, actor: Actor, id: string, gracePeriodSeconds: number): Promise<ApiKey> {
    return this.#transition(kind, actor, id, 'retire', (current, status, now) => {
      if (status === 'revoked' || status === 'expired') return null;
      let graceUntil = new Date(now.getTime() + gracePeriodSeconds * 1000);
      if (current.graceUntil && current.graceUntil < graceUntil) graceUntil = current.graceUntil;
      return {
        status: graceUntil.getTime() <= now.getTime() ? 'expired' : status === 'suspended' ? 'suspended' : 'retiring',
        graceUntil,
      };
    });
  }

  /**
   * Applies the workspace's leak policy to a key found exposed (docs/leaks.md): suspend (undone
   * with resume), revoke, or notify only. The change, its audit entry (where the key was found,
   * never the key) and its key.leaked event commit together and are announced to every replica
   * like any other change. `isNew` runs in that transaction with the key locked; when it says the
   * report was already handled, nothing is changed or recorded.
   */
  async leak(
    kind: KeyKind,
    actor: Actor,
    id: string,
    report: { leak: LeakSource; note?: string | null },
    isNew: (trx: Db, key: KeyRecord, now: Date) => Promise<boolean> = async () => true,
  ): Promise<LeakOutcome> {
    let action: LeakPolicy = 'notify';
    let previousStatus: KeyStatus = 'active';
    let recorded = false;
    const key = await this.#change(kind, actor, id, async (trx, current, now) => {
      previousStatus = effectiveStatus(current, now.getTime());
      action = (await readWorkspaceSettings(trx, actor.workspaceId)).leakPolicy;
      if (!(await isNew(trx, current, now))) return current;
      recorded = true;
      const write = leakWrite(action, previousStatus);
      const updated = write
        ? await repository.updateKey(trx, current.id, { ...write, updatedAt: now, version: current.version + 1 })
        : current;
      const status = effectiveStatus(updated, now.getTime());
      await appendAudit(trx, actor, {
        action: auditAction(kind, 'leak'),
        targetKeyId: current.id,
        changes: {
          leak: report.leak,
          ...(report.note ? { note: report.note } : {}),
          policy: action,
          status: { from: previousStatus, to: status },
        },
      });
      await appendEvent(
        trx,
        actor,
        'key.leaked',
        { key: { ...eventKey(updated), status }, leak: report.leak, action, previousStatus },
        now,
      );
      return updated;
    });
    return { key, action, previousStatus, recorded };
  }

  /**
   * Issues a root key inside a transaction that is making its workspace (the first root key of a
   * workspace), and records it in that workspace's audit chain.
   */
  async issueRootKey(
    trx: Db,
    actor: Actor,
    policy: NewKeyPolicy,
    now: Date,
  ): Promise<{ record: KeyRecord; created: CreatedKey }> {
    const { record, secret } = this.#mint('root', actor.workspaceId, policy, now, null);
    await this.#insert(trx, record, false);
    await appendAudit(trx, actor, {
      action: 'root_key.create',
      targetKeyId: record.id,
      changes: { ...apiPolicyOf(record), start: record.start },
    });
    return { record, created: { ...toApiKey(record, now.getTime()), key: secret, signingSecret: null } };
  }

  /** Whether the store holds any root key: an empty store needs bootstrapping. */
  anyRootKey(db: Db): Promise<boolean> {
    return repository.hasRootKeys(db);
  }

  /**
   * Stores a new key. A caller-supplied key already in use anywhere is a 409 that does not say
   * where; other replicas are told, since one may have cached it as unknown.
   */
  async #insert(trx: Db, record: KeyRecord, supplied: boolean): Promise<void> {
    // The unique index on the secret decides, also between two requests supplying one key at once.
    if (!(await repository.insertKeys(trx, [record])).has(record.id)) throw keyInUse();
    if (supplied) await announceKeyChange(trx, record.secretHash);
  }

  #mint(
    kind: KeyKind,
    workspaceId: string,
    policy: NewKeyPolicy,
    now: Date,
    predecessorId: string | null,
    supplied?: string,
  ): Minted {
    const environment = policy.environment ?? 'live';
    const secret = supplied ?? generateKey(kind === 'root' ? 'root' : environment);
    const id = newKeyId(kind);
    // A field the request left out is stored as the policy's default.
    const stored = { ...POLICY_DEFAULTS, ...storedPolicyOf(policy) } as StoredPolicy;
    // A key that signs gets its own signing secret; a rotation gives the successor a new one too.
    const signingSecret = stored.signedScopes.length > 0 || stored.requireSignature ? generateSigningSecret() : null;
    const record: KeyRecord = {
      ...stored,
      id,
      workspaceId,
      kind,
      secretHash: this.#pepper.hashKey(secret),
      start: keyStart(secret),
      environment,
      status: 'active',
      createdAt: now,
      updatedAt: now,
      version: 1,
      lastUsedAt: null,
      lastUsedIp: null,
      predecessorId,
      successorId: null,
      graceUntil: null,
      signingSecretSealed: signingSecret ? this.#masterKey.seal(signingSecret, id) : null,
    };
    return { record, secret, signingSecret };
  }

  async #require(db: Db, kind: KeyKind, actor: Actor, id: string, forUpdate = false): Promise<KeyRecord> {
    const record = await repository.findKey(db, { workspaceId: actor.workspaceId, kind, id }, { forUpdate });
    if (!record) throw KeywardError.keyNotFound(id, kind);
    return record;
  }

  /** Runs a change to one locked key in a transaction, then drops the key from the verify cache. */
  async #change(
    kind: KeyKind,
    actor: Actor,
    id: string,
    apply: (trx: Db, current: KeyRecord, now: Date) => Promise<KeyRecord>,
  ): Promise<ApiKey> {
    const now = new Date();
    const updated = await this.#db.transaction().execute(async (trx) => {
      const changed = await apply(trx, await this.#require(trx, kind, actor, id, true), now);
      // Other replicas drop the key when this commits; this one drops it below, after the commit.
      await announceKeyChange(trx, changed.secretHash);
      return changed;
    });
    this.#verifier.forget(updated.secretHash);
    return toApiKey(updated, now.getTime());
  }

  /** A status change; `decide` returns the fields to write, or null when the key is already there. */
  async #transition(
    kind: KeyKind,
    actor: Actor,
    id: string,
    verb: 'suspend' | 'resume' | 'revoke' | 'retire',
    decide: (current: KeyRecord, status: ApiKey['status'], now: Date) => repository.KeyWrite | null,
  ): Promise<ApiKey> {
    return this.#change(kind, actor, id, async (trx, current, now) => {
      const write = decide(current, effectiveStatus(current, now.getTime()), now);
      if (!write) return current;
      const updated = await repository.updateKey(trx, current.id, {
        ...write,
        updatedAt: now,
        version: current.version + 1,
      });
      await appendAudit(trx, actor, {
        action: auditAction(kind, verb),
        targetKeyId: current.id,
        changes: {
          status: { from: current.status, to: updated.status },
          graceUntil: updated.graceUntil?.toISOString() ?? null,
        },
      });
      await appendEvent(
        trx,
        actor,
        TRANSITION_EVENTS[verb],
        {
          key: eventKey(updated),
          previousStatus: current.status,
          graceUntil: updated.graceUntil?.toISOString() ?? null,
        },
        now,
      );
      return updated;
    });
  }

  /** The idempotency record a request would leave, or null without an Idempotency-Key. */
  #claimFor(operation: string, request: unknown, idempotencyKey: string | undefined): IdempotencyClaim | null {
    if (!idempotencyKey) return null;
    return {
      operation,
      key: idempotencyKey,
      keyHash: this.#pepper.derive('idempotency-id', idempotencyKey).toString('hex'),
      // The request (a supplied key included) is only ever stored as this hash.
      requestHash: createHash('sha256').update(canonicalJson(request)).digest('hex'),
    };
  }

  /** What an idempotent request records: its new key's id and secrets, sealed under its Idempotency-Key. */
  #resultFor(actor: Actor, claim: IdempotencyClaim, minted: Minted, now: Date): repository.IdempotentResult {
    return {
      workspaceId: actor.workspaceId,
      operation: claim.operation,
      keyHash: claim.keyHash,
      requestHash: claim.requestHash,
      resultKeyId: minted.record.id,
      sealedSecret: seal(
        JSON.stringify({ key: minted.secret, signingSecret: minted.signingSecret }),
        this.#pepper.derive('idempotency-seal', claim.key),
      ),
      createdAt: now,
    };
  }

  /** The stored result of an earlier request with this Idempotency-Key, or null; another body is refused. */
  async #replay(actor: Actor, claim: IdempotencyClaim): Promise<{ created: CreatedKey; replayed: boolean } | null> {
    const stored = await repository.findIdempotentResult(this.#db, actor.workspaceId, claim.operation, claim.keyHash);
    if (!stored || stored.created_at < staleBefore(new Date())) return null;
    if (stored.request_hash !== claim.requestHash) {
      throw new KeywardError(
        'KW_ERR_IDEMPOTENCY_MISMATCH',
        'this Idempotency-Key was already used with a different request body',
      );
    }
    const sealed = unseal(stored.sealed_secret, this.#pepper.derive('idempotency-seal', claim.key));
    const record = await repository.findKeyById(this.#db, stored.result_key_id);
    if (!sealed || !record) return null;
    // Sealed as JSON (key and signing secret) since request signing; a bare key before that.
    const secrets = sealed.startsWith('{')
      ? (JSON.parse(sealed) as { key: string; signingSecret: string | null })
      : { key: sealed, signingSecret: null };
    return {
      created: { ...toApiKey(record), key: secrets.key, signingSecret: secrets.signingSecret },
      replayed: true,
    };
  }

  /**
   * Runs `issue` at most once per Idempotency-Key. The first request's result is kept for 24 h with
   * its secret sealed under a key derived from the Idempotency-Key itself, so only a client that
   * holds that key can get the secret again, and the database alone never reveals it. A repeat is
   * looked for before `issue` runs: a rotation's repeat would otherwise be refused by its own
   * checks (the key is no longer active) before its claim could find the first result.
   */
  async #idempotent(
    actor: Actor,
    operation: string,
    request: unknown,
    idempotencyKey: string | undefined,
    issue: (trx: Db, now: Date) => Promise<Minted>,
  ): Promise<{ created: CreatedKey; replayed: boolean }> {
    const claim = this.#claimFor(operation, request, idempotencyKey);
    const earlier = claim && (await this.#replay(actor, claim));
    if (earlier) return earlier;
    const now = new Date();
    try {
      const { record, secret, signingSecret } = await this.#db.transaction().execute(async (trx) => {
        const result = await issue(trx, now);
        if (claim) {
          const claimed = await repository.claimIdempotencyKey(
            trx,
            this.#resultFor(actor, claim, result, now),
            staleBefore(now),
          );
          if (!claimed) throw new IdempotencyRace();
        }
        return result;
      });
      return { created: { ...toApiKey(record, now.getTime()), key: secret, signingSecret }, replayed: false };
    } catch (error) {
      if (!(error instanceof IdempotencyRace)) throw error;
      return this.#settle(actor, claim, 'raced');
    }
  }
}

/** Refuses a caller-supplied key keyward would not have made for this key (400 naming `body.key`). */
function checkSupplied(kind: KeyKind, key: string, environment: 'live' | 'test', at = 'body.key'): void {
  if (kind === 'root') throw KeywardError.invalidField(at, 'is for API keys only: keyward always generates root keys');
  const problem = suppliedKeyProblem(key, environment);
  if (problem) throw KeywardError.invalidField(at, problem);
}

function keyInUse(): KeywardError {
  return new KeywardError('KW_ERR_CONFLICT', 'body.key is already in use; generate another key');
}

/**
 * A root key may change, rotate or resume only root keys whose scopes its own cover: rotating
 * hands it the successor's secret, and a change or resume would act with powers it lacks.
 */
function requireTargetWithinGrants(actor: Actor, target: KeyRecord): void {
  requireGrants(actor.scopes, target.scopes, 'params.id', 'names a root key with scopes');
}

function pick(source: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((field) => [field, source[field]]));
}
