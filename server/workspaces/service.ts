import { sql } from 'kysely';
import type { CreatedWorkspace, UpdateWorkspaceSettingsBody, Workspace, WorkspaceSettings } from '../../schema';
import { type Actor, appendAudit } from '../audit/log';
import { KeywardError } from '../errors';
import { requireGrants } from '../keys/grants';
import type { KeyRecord } from '../keys/record';
import type { Pepper } from '../keys/secrets';
import type { KeyService } from '../keys/service';
import type { Db } from '../store/database';
import * as repository from './repository';

/** Serializes bootstraps of one store: several replicas may start on it at once. */
const BOOTSTRAP_LOCK = 7_242_001;

/**
 * Workspaces (tenants): the operator's `default`, made with its first root key when the store is
 * empty, and the workspaces an operator root key creates, each with its first root key.
 */
export class WorkspaceService {
  readonly #db: Db;
  readonly #pepper: Pepper;
  readonly #keys: KeyService;

  constructor(deps: { db: Db; pepper: Pepper; keys: KeyService }) {
    this.#db = deps.db;
    this.#pepper = deps.pepper;
    this.#keys = deps.keys;
  }

  /**
   * Creates a tenant with its first root key (`rootKeyScopes`, `*` by default). Only root keys of
   * the operator's workspace may, holding every scope the first root key gets.
   */
  async create(actor: Actor, name: string, rootKeyScopes: string[] = ['*']): Promise<CreatedWorkspace> {
    return this.#db.transaction().execute(async (trx) => {
      if (actor.workspaceId !== (await repository.operatorWorkspaceId(trx))) {
        throw new KeywardError('KW_ERR_FORBIDDEN', "only the operator's workspace may create workspaces");
      }
      requireGrants(actor.scopes, rootKeyScopes, 'body.rootKeyScopes');
      if (await repository.workspaceNamed(trx, name)) {
        throw new KeywardError('KW_ERR_CONFLICT', `a workspace named ${name} already exists`);
      }
      const workspaceId = await repository.ensureWorkspace(trx, name);
      const now = new Date();
      const inWorkspace: Actor = { ...actor, workspaceId, rootKeyId: null };
      await appendAudit(trx, inWorkspace, {
        action: 'workspace.bootstrap',
        targetKeyId: null,
        changes: { workspace: name, createdBy: actor.rootKeyId },
      });
      const rootKey = await this.#keys.issueRootKey(
        trx,
        inWorkspace,
        { name: `${name} bootstrap`, scopes: rootKeyScopes },
        now,
      );
      await appendAudit(trx, actor, {
        action: 'workspace.create',
        targetKeyId: null,
        changes: { workspaceId, name, rootKeyId: rootKey.created.id },
      });
      return { workspace: { id: workspaceId, name, createdAt: now.toISOString() }, rootKey: rootKey.created };
    });
  }

  /** Every workspace, for root keys of the operator's workspace only (as creating one is). */
  async list(actor: Actor): Promise<{ items: Workspace[] }> {
    if (actor.workspaceId !== (await repository.operatorWorkspaceId(this.#db)))
      throw new KeywardError('KW_ERR_FORBIDDEN', "only the operator's workspace may list workspaces");
    const rows = await repository.listWorkspaces(this.#db);
    return { items: rows.map((row) => ({ id: row.id, name: row.name, createdAt: row.createdAt.toISOString() })) };
  }

  /** The acting root key's workspace settings (reminder thresholds, leak policy). */
  async settings(actor: Actor): Promise<WorkspaceSettings> {
    return repository.readWorkspaceSettings(this.#db, actor.workspaceId);
  }

  /** Changes some of the workspace's settings, with an audit entry naming the old and new values. */
  async updateSettings(actor: Actor, patch: UpdateWorkspaceSettingsBody): Promise<WorkspaceSettings> {
    return this.#db.transaction().execute(async (trx) => {
      await repository.lockWorkspace(trx, actor.workspaceId);
      const before = await repository.readWorkspaceSettings(trx, actor.workspaceId);
      const after: WorkspaceSettings = { ...before };
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const [field, value] of Object.entries(patch) as [keyof WorkspaceSettings, never][]) {
        if (value === undefined) continue;
        if (JSON.stringify(before[field]) !== JSON.stringify(value))
          changes[field] = { from: before[field], to: value };
        after[field] = value;
      }
      if (Object.keys(changes).length === 0) return before;
      await repository.writeWorkspaceSettings(trx, actor.workspaceId, after);
      await appendAudit(trx, actor, { action: 'workspace.update_settings', targetKeyId: null, changes });
      return after;
    });
  }

  /**
   * On an empty store: creates the `default` workspace and a root key with `*`, and returns its
   * secret. Returns null when root keys already exist. Also pins the pepper's fingerprint, so a
   * restart with another pepper fails loudly instead of rejecting every key.
   */
  async bootstrap(): Promise<{ secret: string; record: KeyRecord } | null> {
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
      const fingerprint = this.#pepper.fingerprint();
      const pinned = await repository.readSetting(trx, 'pepper_fingerprint');
      if (pinned !== undefined && pinned !== fingerprint) {
        throw new Error(
          'this store was initialised with a different pepper (KEYWARD_PEPPER or <data dir>/pepper); refusing to start',
        );
      }
      if (pinned === undefined) await repository.writeSetting(trx, 'pepper_fingerprint', fingerprint);
      if (await this.#keys.anyRootKey(trx)) return null;
      const workspaceId = await repository.ensureWorkspace(trx, 'default');
      const actor: Actor = {
        workspaceId,
        rootKeyId: null,
        scopes: ['*'],
        ip: null,
        userAgent: 'keyward bootstrap',
        requestId: null,
      };
      await appendAudit(trx, actor, {
        action: 'workspace.bootstrap',
        targetKeyId: null,
        changes: { workspace: 'default' },
      });
      const { record, created } = await this.#keys.issueRootKey(
        trx,
        actor,
        { name: 'bootstrap', scopes: ['*'] },
        new Date(),
      );
      return { secret: created.key, record };
    });
  }
}
