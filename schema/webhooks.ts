import { z } from 'zod';
import { CursorSchema, LimitSchema, TimestampSchema } from './common';
import type { KeyStatus } from './keys';
import type { LeakPolicy } from './workspaces';

/** Every event type keyward emits so far (docs/events.md). */
export const EVENT_TYPES = [
  'key.created',
  'key.updated',
  'key.rotated',
  'key.suspended',
  'key.resumed',
  'key.revoked',
  'key.retired',
  'key.expired',
  'key.rotation_due',
  'key.expiring',
  'key.leaked',
  'security.blocked',
  'webhook.disabled',
] as const;
export const EventTypeSchema = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventTypeSchema>;

/** How long a replaced signing secret keeps signing alongside the new one, unless the rotation says. */
export const WEBHOOK_SECRET_GRACE_SECONDS = 86_400;

/** The longest a webhook URL may be. */
export const WEBHOOK_URL_MAX = 2048;

const WebhookUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(WEBHOOK_URL_MAX)
  .describe('Where events are POSTed; https, to a public address (docs/events.md)');

const EventTypesSchema = z
  .array(EventTypeSchema)
  .max(EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, 'must not repeat an event type')
  .describe('The event types sent to this endpoint; empty for all');

/** Body of `POST /v1/webhooks`. */
export const CreateWebhookBodySchema = z
  .strictObject({
    url: WebhookUrlSchema,
    description: z.string().max(1000).nullable().default(null),
    eventTypes: EventTypesSchema.default([]),
    enabled: z.boolean().default(true),
  })
  .meta({ id: 'CreateWebhookRequest' });
export type CreateWebhookBody = z.infer<typeof CreateWebhookBodySchema>;

/** Body of `PATCH /v1/webhooks/{id}`: any subset of the endpoint's settings. */
export const UpdateWebhookBodySchema = z
  .strictObject({
    url: WebhookUrlSchema.optional(),
    description: z.string().max(1000).nullable().optional(),
    eventTypes: EventTypesSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .meta({ id: 'UpdateWebhookRequest' });
export type UpdateWebhookBody = z.infer<typeof UpdateWebhookBodySchema>;

/** Body of `POST /v1/webhooks/{id}/rotate-secret`. */
export const RotateWebhookSecretBodySchema = z
  .strictObject({
    gracePeriodSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(WEBHOOK_SECRET_GRACE_SECONDS)
      .describe('How long the old secret keeps signing alongside the new one'),
  })
  .meta({ id: 'RotateWebhookSecretRequest' });

/** A webhook endpoint as the API shows it: never its secret. */
export const WebhookEndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(EventTypeSchema),
    enabled: z.boolean(),
    disabledReason: z
      .string()
      .nullable()
      .describe('Why keyward disabled it (a 410 from the receiver, or deliveries that kept failing), if it did'),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
    previousSecretUntil: TimestampSchema.nullable().describe('Until when the replaced secret still signs'),
  })
  .meta({ id: 'WebhookEndpoint' });
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;

/** An endpoint with its signing secret, as create and rotate-secret answer once. */
export const WebhookWithSecretSchema = WebhookEndpointSchema.extend({
  secret: z.string().describe('whsec_…: shown in this response only; verify deliveries with it'),
}).meta({ id: 'WebhookEndpointWithSecret' });
export type WebhookWithSecret = z.infer<typeof WebhookWithSecretSchema>;

export const WebhookListSchema = z
  .object({ items: z.array(WebhookEndpointSchema) })
  .meta({ id: 'WebhookEndpointList' });

export const WebhookIdParamsSchema = z.strictObject({ id: z.string().min(1).max(100) });
export const DeliveryIdParamsSchema = z.strictObject({
  id: z.string().min(1).max(100),
  deliveryId: z.string().min(1).max(100),
});

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export const DeliveryStatusSchema = z.enum(DELIVERY_STATUSES);
export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>;

/** One POST of an event to an endpoint. */
export const DeliveryAttemptSchema = z.object({
  at: TimestampSchema,
  statusCode: z.number().int().nullable().describe('The HTTP status; null when no answer came'),
  latencyMs: z.number(),
  error: z.string().nullable().describe('Why no answer came (timeout, refused address…)'),
  response: z.string().nullable().describe('The start of the response body, truncated'),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttemptSchema>;

/** One event on its way to one endpoint, with every attempt so far. */
export const WebhookDeliverySchema = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z.string().describe('The webhook-id header: the same on every attempt'),
    eventType: EventTypeSchema,
    status: DeliveryStatusSchema,
    attemptCount: z.number().int(),
    nextAttemptAt: TimestampSchema.nullable(),
    createdAt: TimestampSchema,
    attempts: z.array(DeliveryAttemptSchema).describe('The latest attempts, oldest first'),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

export const DeliveryPageSchema = z
  .object({ items: z.array(WebhookDeliverySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'WebhookDeliveryPage' });

/** Answer of `POST /v1/webhooks/{id}/deliveries/{deliveryId}/retry`: the delivery is due again. */
export const RedeliveryAcceptedSchema = z
  .object({ id: z.string(), status: z.literal('pending') })
  .meta({ id: 'WebhookRedeliveryAccepted' });
export type RedeliveryAccepted = z.infer<typeof RedeliveryAcceptedSchema>;

/** Query of `GET /v1/webhooks/{id}/deliveries`: newest first. */
export const ListDeliveriesQuerySchema = z.strictObject({
  status: DeliveryStatusSchema.optional(),
  cursor: CursorSchema.optional(),
  limit: LimitSchema,
});
export type ListDeliveriesQuery = z.infer<typeof ListDeliveriesQuerySchema>;

/** The JSON body of every delivery (Standard Webhooks shape: type, timestamp, data). */
export interface EventEnvelope {
  id: string;
  type: EventType;
  timestamp: string;
  workspaceId: string;
  data: Record<string, unknown>;
}

/** A key as events describe it: never its secret, hash or signing secret. */
export interface EventKey {
  id: string;
  kind: 'api' | 'root';
  name: string;
  /** The display prefix, e.g. `kw_live_AbCd`. */
  start: string;
  environment: 'live' | 'test';
  scopes: string[];
  status: KeyStatus;
}

/** Who made the change: the root key and the request, or null for keyward itself. */
export interface EventActor {
  rootKeyId: string | null;
  requestId: string | null;
}

interface KeyEventData {
  key: EventKey;
  actor: EventActor;
}

interface KeyTransitionData extends KeyEventData {
  previousStatus: KeyStatus;
  graceUntil: string | null;
}

/** A reminder: the key reaches `dueAt` in `daysBefore` days (0 on the day itself). */
interface KeyReminderData extends KeyEventData {
  dueAt: string;
  daysBefore: number;
}

/** Where a leaked key was found, and what the workspace's leak policy did about it. */
export interface LeakSource {
  /** `github` for GitHub secret scanning, `report` when a root key reported it. */
  reporter: 'github' | 'report';
  /** Where the key was seen (a commit URL, a paste…), if known. */
  url: string | null;
  /** The reporter's own label for the place (GitHub's `source`: content, commit, issue…). */
  source: string | null;
}

/** The `data` of each event type (docs/events.md, event catalogue). */
export interface EventDataByType {
  'key.created': KeyEventData;
  'key.updated': KeyEventData & { fields: string[] };
  'key.rotated': KeyEventData & { successor: EventKey; graceUntil: string };
  'key.suspended': KeyTransitionData;
  'key.resumed': KeyTransitionData;
  'key.revoked': KeyTransitionData;
  'key.retired': KeyTransitionData;
  'key.expired': KeyTransitionData & { reason: 'grace_ended' | 'expires_at' };
  'key.rotation_due': KeyReminderData & { maxAgeDays: number };
  'key.expiring': KeyReminderData;
  'key.leaked': KeyEventData & { leak: LeakSource; action: LeakPolicy; previousStatus: KeyStatus };
  'security.blocked': {
    /** brute_force: failed verifications from `ip`, or guesses at `keyPrefix`; root_key_lockout: failed root keys from `ip`. */
    reason: 'brute_force' | 'root_key_lockout';
    /** The address that was blocked; null when a key prefix was. */
    ip: string | null;
    /** The guessed key prefix that was blocked (e.g. `kw_live_AbCd`); null when an address was. */
    keyPrefix: string | null;
    blockedUntil: string;
    actor: EventActor;
  };
  'webhook.disabled': {
    webhook: { id: string; url: string };
    reason: string;
    actor: EventActor;
  };
}

/** A delivered event, typed by its `type`: narrow with `switch (event.type)`. */
export type WebhookEvent = {
  [T in EventType]: Omit<EventEnvelope, 'type' | 'data'> & { type: T; data: EventDataByType[T] };
}[EventType];
