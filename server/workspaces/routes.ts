import type { FastifyPluginAsync, preHandlerHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  CreatedWorkspaceSchema,
  CreateWorkspaceBodySchema,
  ErrorBodySchema,
  type ManagementScope,
  UpdateWorkspaceSettingsBodySchema,
  WorkspaceListSchema,
  WorkspaceSettingsSchema,
} from '../../schema';
import type { WorkspaceService } from './service';

export interface WorkspaceRoutesOptions {
  workspaces: WorkspaceService;
  guard: (scope: ManagementScope) => preHandlerHookHandler;
}

/** POST and GET /v1/workspaces (tenants, for the operator) and /v1/settings (the caller's workspace). */
export const workspaceRoutes: FastifyPluginAsync<WorkspaceRoutesOptions> = async (app, { workspaces, guard }) => {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/workspaces', {
    preHandler: guard('workspaces:create'),
    schema: {
      tags: ['workspaces'],
      summary: "Create a workspace (a tenant) and its first root key; only the operator's workspace may",
      body: CreateWorkspaceBodySchema,
      response: {
        201: CreatedWorkspaceSchema,
        400: ErrorBodySchema,
        401: ErrorBodySchema,
        403: ErrorBodySchema,
        409: ErrorBodySchema,
      },
    },
    handler: async (request, reply) => {
      const created = await workspaces.create(request.actor, request.body.name, request.body.rootKeyScopes);
      return reply.code(201).send(created);
    },
  });

  app.withTypeProvider<ZodTypeProvider>().get('/v1/workspaces', {
    preHandler: guard('workspaces:create'),
    schema: {
      tags: ['workspaces'],
      summary: "List every workspace, oldest first; only the operator's workspace may",
      response: { 200: WorkspaceListSchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
    },
    handler: async (request) => workspaces.list(request.actor),
  });

  app.withTypeProvider<ZodTypeProvider>().get('/v1/settings', {
    preHandler: guard('keys:read'),
    schema: {
      tags: ['workspaces'],
      summary: "The workspace's settings: reminder thresholds and leak policy (docs/events.md)",
      response: { 200: WorkspaceSettingsSchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
    },
    handler: async (request) => workspaces.settings(request.actor),
  });

  app.withTypeProvider<ZodTypeProvider>().patch('/v1/settings', {
    preHandler: guard('settings:manage'),
    schema: {
      tags: ['workspaces'],
      summary: "Change some of the workspace's settings; the change is audited",
      body: UpdateWorkspaceSettingsBodySchema,
      response: { 200: WorkspaceSettingsSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema },
    },
    handler: async (request) => workspaces.updateSettings(request.actor, request.body),
  });
};
