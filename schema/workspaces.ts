import { z } from 'zod';
import { TimestampSchema } from './common';
import { CreatedKeySchema } from './keys';
import { ManagementScopeSchema } from './scopes';

/** Body of `POST /v1/workspaces`. */
export const CreateWorkspaceBodySchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, {
        message: 'must be 2 to 63 lower-case letters, digits or dashes, starting with a letter or digit',
      })
      .describe('A unique name, e.g. acme-prod'),
    rootKeyScopes: z
      .array(ManagementScopeSchema)
      .min(1)
      .max(20)
      .default(['*'])
      .describe("The first root key's scopes; each must be held by the root key that creates the workspace"),
  })
  .meta({ id: 'CreateWorkspaceRequest' });

/** A workspace: a tenant whose keys and logs are its own. */
export const WorkspaceSchema = z
  .object({ id: z.string(), name: z.string(), createdAt: TimestampSchema })
  .meta({ id: 'Workspace' });
export type Workspace = z.infer<typeof WorkspaceSchema>;

/** Answer of `GET /v1/workspaces`: every workspace, oldest first (the operator's is the first). */
export const WorkspaceListSchema = z.object({ items: z.array(WorkspaceSchema) }).meta({ id: 'WorkspaceList' });

/** Answer of `POST /v1/workspaces`: the workspace and its first root key (shown once). */
export const CreatedWorkspaceSchema = z
  .object({ workspace: WorkspaceSchema, rootKey: CreatedKeySchema })
  .meta({ id: 'CreatedWorkspace' });
export type CreatedWorkspace = z.infer<typeof CreatedWorkspaceSchema>;

/** What keyward does to a key reported leaked (docs/leaks.md). */
export const LEAK_POLICIES = ['suspend', 'revoke', 'notify'] as const;
export const LeakPolicySchema = z
  .enum(LEAK_POLICIES)
  .describe('suspend: stop the key at once, undoably; revoke: end it for good; notify: only the event and audit entry');
export type LeakPolicy = z.infer<typeof LeakPolicySchema>;

/** The most reminder thresholds a workspace may set per reminder kind. */
export const REMINDER_THRESHOLDS_MAX = 10;

const ReminderDaysSchema = z
  .array(z.number().int().min(0).max(365))
  .max(REMINDER_THRESHOLDS_MAX)
  .refine((days) => new Set(days).size === days.length, 'must not repeat a day');

/** A workspace's event and leak-response settings, with their defaults. */
export const WorkspaceSettingsSchema = z
  .object({
    rotationReminderDays: ReminderDaysSchema.default([14, 1, 0]).describe(
      'Days before a key reaches its maxAgeDays on which key.rotation_due fires (0: the day itself)',
    ),
    expiryReminderDays: ReminderDaysSchema.default([14, 1, 0]).describe(
      'Days before a key reaches its expiresAt on which key.expiring fires (0: the day itself)',
    ),
    leakPolicy: LeakPolicySchema.default('suspend'),
  })
  .meta({ id: 'WorkspaceSettings' });
export type WorkspaceSettings = z.infer<typeof WorkspaceSettingsSchema>;

/** The settings a workspace starts with. */
export const WORKSPACE_SETTINGS_DEFAULTS: WorkspaceSettings = WorkspaceSettingsSchema.parse({});

/** Body of `PATCH /v1/settings`: any subset of the settings. */
export const UpdateWorkspaceSettingsBodySchema = z
  .strictObject({
    rotationReminderDays: ReminderDaysSchema.optional(),
    expiryReminderDays: ReminderDaysSchema.optional(),
    leakPolicy: LeakPolicySchema.optional(),
  })
  .meta({ id: 'UpdateWorkspaceSettingsRequest' });
export type UpdateWorkspaceSettingsBody = z.infer<typeof UpdateWorkspaceSettingsBodySchema>;
