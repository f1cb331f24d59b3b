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

/** Answer of `POST /v1/workspaces`: the workspace and its first root key (shown once). */
export const CreatedWorkspaceSchema = z
  .object({ workspace: WorkspaceSchema, rootKey: CreatedKeySchema })
  .meta({ id: 'CreatedWorkspace' });
export type CreatedWorkspace = z.infer<typeof CreatedWorkspaceSchema>;
