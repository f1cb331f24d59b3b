import type { FastifyPluginAsync, preHandlerHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CreateWebhookBodySchema,
  DeliveryIdParamsSchema,
  DeliveryPageSchema,
  ErrorBodySchema,
  ListDeliveriesQuerySchema,
  type ManagementScope,
  RedeliveryAcceptedSchema,
  RotateWebhookSecretBodySchema,
  UpdateWebhookBodySchema,
  WebhookEndpointSchema,
  WebhookIdParamsSchema,
  WebhookListSchema,
  WebhookWithSecretSchema,
} from '../../schema';
import type { WebhookService } from './service';

function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBodySchema]));
}

/** /v1/webhooks: a workspace's webhook endpoints and their deliveries, under `webhooks:manage`. */
export const webhookRoutes: FastifyPluginAsync<{
  webhooks: WebhookService;
  guard: (scope: ManagementScope) => preHandlerHookHandler;
}> = async (app, { webhooks, guard }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const preHandler = guard('webhooks:manage');
  const tags = ['webhooks'];

  api.post('/v1/webhooks', {
    preHandler,
    schema: {
      tags,
      summary: 'Register a webhook endpoint; its signing secret is in this response only',
      body: CreateWebhookBodySchema,
      response: { 201: WebhookWithSecretSchema, ...errors(400, 401, 403) },
    },
    handler: async (request, reply) => reply.code(201).send(await webhooks.create(request.actor, request.body)),
  });

  api.get('/v1/webhooks', {
    preHandler,
    schema: { tags, summary: 'List webhook endpoints', response: { 200: WebhookListSchema, ...errors(401, 403) } },
    handler: async (request) => webhooks.list(request.actor),
  });

  api.get('/v1/webhooks/:id', {
    preHandler,
    schema: {
      tags,
      summary: 'Get a webhook endpoint',
      params: WebhookIdParamsSchema,
      response: { 200: WebhookEndpointSchema, ...errors(401, 403, 404) },
    },
    handler: async (request) => webhooks.get(request.actor, request.params.id),
  });

  api.patch('/v1/webhooks/:id', {
    preHandler,
    schema: {
      tags,
      summary: "Change a webhook endpoint's URL, description, event types or enabled flag",
      params: WebhookIdParamsSchema,
      body: UpdateWebhookBodySchema,
      response: { 200: WebhookEndpointSchema, ...errors(400, 401, 403, 404) },
    },
    handler: async (request) => webhooks.update(request.actor, request.params.id, request.body),
  });

  api.delete('/v1/webhooks/:id', {
    preHandler,
    schema: {
      tags,
      summary: 'Delete a webhook endpoint and its pending deliveries',
      params: WebhookIdParamsSchema,
      response: { 204: z.null(), ...errors(401, 403, 404) },
    },
    handler: async (request, reply) => {
      await webhooks.delete(request.actor, request.params.id);
      return reply.code(204).send(null);
    },
  });

  api.post('/v1/webhooks/:id/rotate-secret', {
    preHandler,
    schema: {
      tags,
      summary: 'Issue a new signing secret; the old one keeps signing alongside it for the grace period',
      params: WebhookIdParamsSchema,
      body: RotateWebhookSecretBodySchema.optional(),
      response: { 200: WebhookWithSecretSchema, ...errors(400, 401, 403, 404) },
    },
    handler: async (request) =>
      webhooks.rotateSecret(
        request.actor,
        request.params.id,
        RotateWebhookSecretBodySchema.parse(request.body ?? {}).gracePeriodSeconds,
      ),
  });

  api.get('/v1/webhooks/:id/deliveries', {
    preHandler,
    schema: {
      tags,
      summary: "List an endpoint's deliveries, newest first, with their attempts",
      params: WebhookIdParamsSchema,
      querystring: ListDeliveriesQuerySchema,
      response: { 200: DeliveryPageSchema, ...errors(400, 401, 403, 404) },
    },
    handler: async (request) => webhooks.deliveries(request.actor, request.params.id, request.query),
  });

  api.post('/v1/webhooks/:id/deliveries/:deliveryId/retry', {
    preHandler,
    schema: {
      tags,
      summary: 'Send a delivery again now, with the same event id',
      params: DeliveryIdParamsSchema,
      response: { 202: RedeliveryAcceptedSchema, ...errors(401, 403, 404, 409) },
    },
    handler: async (request, reply) => {
      await webhooks.redeliver(request.actor, request.params.id, request.params.deliveryId);
      return reply.code(202).send({ id: request.params.deliveryId, status: 'pending' as const });
    },
  });
};
