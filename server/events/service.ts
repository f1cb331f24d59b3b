import type {
  CreateWebhookBody,
  DeliveryAttempt,
  ListDeliveriesQuery,
  UpdateWebhookBody,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookWithSecret,
} from '../../schema';
import { type Actor, appendAudit, keywardActor } from '../audit/log';
import { KeywardError } from '../errors';
import type { MasterKey } from '../keys/secrets';
import type { Db } from '../store/database';
import { type AddressPolicy, assertDeliverableUrl } from './address-guard';
import { appendEvent, newId } from './outbox';
import * as repository from './repository';
import { generateWebhookSecret } from './signing';

/** The API view of an endpoint: never a secret. */
function toEndpoint(record: repository.EndpointRecord, now: number): WebhookEndpoint {
  const graceOver = !record.previousSecretUntil || record.previousSecretUntil.getTime() <= now;
  return {
    id: record.id,
    url: record.url,
    description: record.description,
    eventTypes: record.eventTypes,
    enabled: record.enabled,
    disabledReason: record.disabledReason,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    previousSecretUntil: graceOver ? null : (record.previousSecretUntil?.toISOString() ?? null),
  };
}

function notFound(id: string): KeywardError {
  return new KeywardError('KW_ERR_NOT_FOUND', `no webhook endpoint with id ${JSON.stringify(id)}`);
}

/**
 * Webhook endpoints of a workspace: create, read, change, delete, rotate the signing secret, and
 * look at or redo deliveries. Every change commits with its audit entry; secrets are stored sealed
 * under the master key and shown only in the answer that made them.
 */
export class WebhookService {
  readonly #db: Db;
  readonly #masterKey: MasterKey;
  readonly #policy: AddressPolicy;

  constructor(deps: { db: Db; masterKey: MasterKey; policy: AddressPolicy }) {
    this.#db = deps.db;
    this.#masterKey = deps.masterKey;
    this.#policy = deps.policy;
  }

  /** Registers an endpoint; its secret is in this answer only. */
  async create(actor: Actor, body: CreateWebhookBody): Promise<WebhookWithSecret> {
    await assertDeliverableUrl(body.url, this.#policy, 'body.url');
    const now = new Date();
    const id = newId('wh');
    const secret = generateWebhookSecret();
    const record: repository.EndpointRecord = {
      id,
      workspaceId: actor.workspaceId,
      url: body.url,
      description: body.description,
      eventTypes: body.eventTypes,
      enabled: body.enabled,
      disabledReason: null,
      secretSealed: this.#masterKey.seal(secret, id),
      previousSecretSealed: null,
      previousSecretUntil: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.#db.transaction().execute(async (trx) => {
      await repository.insertEndpoint(trx, record);
      await appendAudit(trx, actor, {
        action: 'webhook.create',
        targetKeyId: null,
        changes: { webhookId: id, url: body.url, eventTypes: body.eventTypes, enabled: body.enabled },
      });
    });
    return { ...toEndpoint(record, now.getTime()), secret };
  }

  /** Every endpoint of the workspace. */
  async list(actor: Actor): Promise<{ items: WebhookEndpoint[] }> {
    const now = Date.now();
    return {
      items: (await repository.listEndpoints(this.#db, actor.workspaceId)).map((record) => toEndpoint(record, now)),
    };
  }

  /** One endpoint. */
  async get(actor: Actor, id: string): Promise<WebhookEndpoint> {
    const record = await repository.findEndpoint(this.#db, actor.workspaceId, id);
    if (!record) throw notFound(id);
    return toEndpoint(record, Date.now());
  }

  /** Changes an endpoint's settings; enabling it clears why keyward had disabled it. */
  async update(actor: Actor, id: string, patch: UpdateWebhookBody): Promise<WebhookEndpoint> {
    if (patch.url !== undefined) await assertDeliverableUrl(patch.url, this.#policy, 'body.url');
    const now = new Date();
    const updated = await this.#db.transaction().execute(async (trx) => {
      const current = await repository.findEndpoint(trx, actor.workspaceId, id, true);
      if (!current) throw notFound(id);
      const updated = await repository.updateEndpoint(trx, id, {
        ...patch,
        ...(patch.enabled === true ? { disabledReason: null } : {}),
        updatedAt: now,
      });
      await appendAudit(trx, actor, {
        action: 'webhook.update',
        targetKeyId: null,
        changes: { webhookId: id, fields: Object.keys(patch), ...patch },
      });
      return updated;
    });
    return toEndpoint(updated, now.getTime());
  }

  /** Deletes an endpoint and its pending deliveries. */
  async delete(actor: Actor, id: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const current = await repository.findEndpoint(trx, actor.workspaceId, id, true);
      if (!current) throw notFound(id);
      await repository.deleteEndpoint(trx, id);
      await appendAudit(trx, actor, {
        action: 'webhook.delete',
        targetKeyId: null,
        changes: { webhookId: id, url: current.url },
      });
    });
  }

  /** Issues a new secret; the old one keeps signing alongside it for `gracePeriodSeconds`. */
  async rotateSecret(actor: Actor, id: string, gracePeriodSeconds: number): Promise<WebhookWithSecret> {
    const now = new Date();
    const secret = generateWebhookSecret();
    const updated = await this.#db.transaction().execute(async (trx) => {
      const current = await repository.findEndpoint(trx, actor.workspaceId, id, true);
      if (!current) throw notFound(id);
      const previousSecretUntil = new Date(now.getTime() + gracePeriodSeconds * 1000);
      const updated = await repository.updateEndpoint(trx, id, {
        secretSealed: this.#masterKey.seal(secret, id),
        previousSecretSealed: gracePeriodSeconds > 0 ? current.secretSealed : null,
        previousSecretUntil: gracePeriodSeconds > 0 ? previousSecretUntil : null,
        updatedAt: now,
      });
      await appendAudit(trx, actor, {
        action: 'webhook.rotate_secret',
        targetKeyId: null,
        changes: { webhookId: id, gracePeriodSeconds, previousSecretUntil: previousSecretUntil.toISOString() },
      });
      return updated;
    });
    return { ...toEndpoint(updated, now.getTime()), secret };
  }

  /** A page of an endpoint's deliveries, newest first. */
  async deliveries(
    actor: Actor,
    id: string,
    query: ListDeliveriesQuery,
  ): Promise<{ items: WebhookDelivery[]; nextCursor: string | null }> {
    if (!(await repository.findEndpoint(this.#db, actor.workspaceId, id))) throw notFound(id);
    return repository.listDeliveries(this.#db, id, query);
  }

  /** Makes one delivery due again now; it keeps its event id, so receivers can drop a duplicate. */
  async redeliver(actor: Actor, id: string, deliveryId: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const endpoint = await repository.findEndpoint(trx, actor.workspaceId, id, true);
      if (!endpoint) throw notFound(id);
      if (!endpoint.enabled)
        throw new KeywardError('KW_ERR_INVALID_STATE', 'the webhook endpoint is disabled; enable it first');
      if (!(await repository.requeueDelivery(trx, id, deliveryId, new Date())))
        throw new KeywardError('KW_ERR_NOT_FOUND', `no delivery with id ${JSON.stringify(deliveryId)}`);
      await appendAudit(trx, actor, {
        action: 'webhook.redeliver',
        targetKeyId: null,
        changes: { webhookId: id, deliveryId },
      });
    });
  }

  /** The secrets that sign a delivery now: the current one, and the replaced one during its grace. */
  signingSecrets(record: repository.EndpointRecord, now: number): string[] {
    const secrets: string[] = [];
    const current = this.#masterKey.unseal(record.secretSealed, record.id);
    if (current) secrets.push(current);
    if (record.previousSecretSealed && record.previousSecretUntil && record.previousSecretUntil.getTime() > now) {
      const previous = this.#masterKey.unseal(record.previousSecretSealed, record.id);
      if (previous) secrets.push(previous);
    }
    return secrets;
  }

  /**
   * Records a delivery's last attempt, a failure, and disables the endpoint in the same transaction
   * when `disable` says why: the receiver answered 410 Gone, or the delivery used up its scheduled
   * retries and no later event has been delivered to the endpoint since (docs/events.md, "An
   * endpoint that keeps failing"). A delivery sent again by hand that fails disables nothing.
   */
  async recordFinalFailure(
    endpoint: repository.EndpointRecord,
    delivery: repository.ClaimedDelivery,
    attempt: DeliveryAttempt,
    disable: 'gone' | 'exhausted' | null,
    now: Date,
  ): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      // The endpoint first, then its deliveries: two last attempts to one endpoint (a 410 to each of
      // a batch) queue here, instead of each holding its own delivery and waiting for the other's.
      const current = disable ? await repository.findEndpoint(trx, endpoint.workspaceId, endpoint.id, true) : null;
      await repository.recordAttempt(trx, { id: delivery.id, status: 'failed', nextAttemptAt: null, attempt });
      // Disabled meanwhile (by another attempt, another replica, or its owner): nothing more to do.
      if (!current?.enabled) return;
      if (disable === 'gone') {
        await this.#disable(trx, current, 'the receiver answered 410 Gone', delivery.eventId, now);
      } else if (!(await repository.succeededSince(trx, current.id, delivery.createdAt))) {
        const hours = Math.round((now.getTime() - delivery.createdAt.getTime()) / 3_600_000);
        const reason = `deliveries kept failing: every attempt over ${hours} h failed, and nothing was delivered since ${delivery.createdAt.toISOString()}`;
        await this.#disable(trx, current, reason, delivery.eventId, now);
      }
    });
  }

  /**
   * Disables an endpoint (locked by the caller's transaction, which holds it all) on keyward's own
   * account: its pending deliveries fail (they can be sent again by hand once it is enabled), the
   * audit log says why, and the workspace's other endpoints get a webhook.disabled event.
   */
  async #disable(trx: Db, endpoint: repository.EndpointRecord, reason: string, eventId: string, now: Date) {
    const actor = keywardActor(endpoint.workspaceId);
    await repository.updateEndpoint(trx, endpoint.id, { enabled: false, disabledReason: reason, updatedAt: now });
    const pendingFailed = await repository.failPending(trx, endpoint.id);
    await appendAudit(trx, actor, {
      action: 'webhook.disable',
      targetKeyId: null,
      changes: { webhookId: endpoint.id, reason, eventId, pendingFailed },
    });
    // This endpoint is disabled by now, so appendEvent sends the event to the others only.
    await appendEvent(
      trx,
      actor,
      'webhook.disabled',
      { webhook: { id: endpoint.id, url: shownUrl(endpoint.url) }, reason },
      now,
    );
  }
}

/** An endpoint's URL as an event shows it to other receivers: no query string or fragment, where tokens hide. */
function shownUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
