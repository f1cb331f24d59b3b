import {
  AUDIT_GENESIS_HASH,
  WORKSPACE_SETTINGS_DEFAULTS,
  type WorkspaceSettings,
  WorkspaceSettingsSchema,
} from '../../schema';
import type { Db } from '../store/database';
import { jsonb } from '../store/sql';

/** Creates a workspace with an empty audit chain, unless one of that name exists; returns its id. */
export async function ensureWorkspace(db: Db, name: string): Promise<string> {
  const id = `ws_${name}`;
  await db
    .insertInto('workspaces')
    .values({ id, name, audit_seq: 0, audit_head: AUDIT_GENESIS_HASH, created_at: new Date() })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('workspaces').select('id').where('name', '=', name).executeTakeFirstOrThrow();
  return row.id;
}

/** The operator's workspace: the first one made (`default`); undefined on an empty store. */
export async function operatorWorkspaceId(db: Db): Promise<string | undefined> {
  const row = await db
    .selectFrom('workspaces')
    .select('id')
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

/** Every workspace, oldest first: the operator's `default` leads. */
export async function listWorkspaces(db: Db): Promise<{ id: string; name: string; createdAt: Date }[]> {
  return db
    .selectFrom('workspaces')
    .select(['id', 'name', 'created_at as createdAt'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Whether a workspace of this name exists. */
export async function workspaceNamed(db: Db, name: string): Promise<boolean> {
  return (await db.selectFrom('workspaces').select('id').where('name', '=', name).executeTakeFirst()) !== undefined;
}

/** A store-wide setting, or undefined. */
export async function readSetting(db: Db, name: string): Promise<string | undefined> {
  return (await db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst())?.value;
}

/** Writes a store-wide setting. */
export async function writeSetting(db: Db, name: string, value: string): Promise<void> {
  await db.insertInto('settings').values({ name, value }).execute();
}

/** A workspace's settings: what it changed, over the defaults. */
export async function readWorkspaceSettings(db: Db, workspaceId: string): Promise<WorkspaceSettings> {
  const row = await db.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).executeTakeFirst();
  return WorkspaceSettingsSchema.parse(row?.settings ?? {});
}

/** Every workspace's settings, for the maintenance round's reminders. */
export async function readAllWorkspaceSettings(db: Db): Promise<Map<string, WorkspaceSettings>> {
  const rows = await db.selectFrom('workspaces').select(['id', 'settings']).execute();
  return new Map(rows.map((row) => [row.id, WorkspaceSettingsSchema.parse(row.settings ?? {})]));
}

/** Locks a workspace's row until the transaction ends, so a read-modify-write of its settings is not lost. */
export async function lockWorkspace(db: Db, workspaceId: string): Promise<void> {
  await db.selectFrom('workspaces').select('id').where('id', '=', workspaceId).forNoKeyUpdate().execute();
}

/**
 * Stores a workspace's settings: only those that differ from the defaults, so a workspace that
 * never chose a value follows a later change of its default.
 */
export async function writeWorkspaceSettings(db: Db, workspaceId: string, settings: WorkspaceSettings): Promise<void> {
  const chosen = Object.fromEntries(
    Object.entries(settings).filter(
      ([field, value]) =>
        JSON.stringify(value) !== JSON.stringify(WORKSPACE_SETTINGS_DEFAULTS[field as keyof WorkspaceSettings]),
    ),
  );
  await db
    .updateTable('workspaces')
    .set({ settings: jsonb(chosen) })
    .where('id', '=', workspaceId)
    .execute();
}
