import { AUDIT_GENESIS_HASH } from '../../schema';
import type { Db } from '../store/database';

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
