import { randomUUID } from 'node:crypto';
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import { z } from 'zod';
import {
  type ApiKey,
  ApiKeySchema,
  type AuditChainReport,
  type AuditEntry,
  type AuditOrder,
  AuditPageSchema,
  type Call,
  CallPageSchema,
  type CreatedKey,
  CreatedKeySchema,
  type CreatedWorkspace,
  CreatedWorkspaceSchema,
  type CreateKeyInput,
  type CreateWebhookBodySchema,
  DeliveryPageSchema,
  type DeliveryStatus,
  type ErrorBody,
  ErrorBodySchema,
  type ErrorCode,
  type KeyBatchResult,
  KeyBatchResultSchema,
  KeyPageSchema,
  type LeakReport,
  LeakReportSchema,
  type ListKeysQuerySchema,
  type ManagementScope,
  type RedeliveryAccepted,
  RedeliveryAcceptedSchema,
  type ReportLeakBodySchema,
  type SignedRequest,
  type UpdatedKey,
  UpdatedKeySchema,
  type UpdateKeyBodySchema,
  type UpdateWebhookBodySchema,
  type UpdateWorkspaceSettingsBodySchema,
  type VerifyCode,
  type VerifyResponse,
  VerifyResponseSchema,
  verifyAuditChain,
  type WebhookDelivery,
  type WebhookEndpoint,
  WebhookEndpointSchema,
  WebhookListSchema,
  type WebhookWithSecret,
  WebhookWithSecretSchema,
  type WorkspaceSettings,
  WorkspaceSettingsSchema,
} from '../schema';
import {
  KeywardAuthenticationError,
  KeywardConflictError,
  KeywardError,
  KeywardNetworkError,
  KeywardNotFoundError,
  KeywardPayloadTooLargeError,
  KeywardPermissionError,
  KeywardPreconditionError,
  KeywardRateLimitError,
  KeywardResponseError,
  KeywardServerError,
  KeywardTimeoutError,
  KeywardValidationError,
} from './errors';

export interface KeywardOptions {
  /** Where the keyward server listens, e.g. `http://127.0.0.1:7070`. */
  baseUrl: string;
  /** A root key (`kw_root_…`) with the scopes the calls need. */
  rootKey: string;
  /** Per-attempt timeout; default 10 s. */
  timeoutMs?: number;
  /** Extra attempts after a retryable failure; default 2. */
  retries?: number;
  /** Base of the exponential backoff; default 100 ms. */
  retryBaseDelayMs?: number;
}

/** A key's policy as sent to update: any subset of the policy (schema/keys.ts). */
export type KeyPatch = z.input<typeof UpdateKeyBodySchema>;

/** A leak report: the exposed key itself or its id (exactly one), and where it was seen (docs/leaks.md). */
export type ReportLeakInput = z.input<typeof ReportLeakBodySchema>;

/** Filters of a key listing: by status, by rotation due, and by each policy field lists filter on. */
export type KeyFilters = Omit<z.input<typeof ListKeysQuerySchema>, 'cursor' | 'limit' | 'rotationDue'> & {
  rotationDue?: boolean;
  /** Page size used while iterating. */
  pageSize?: number;
};

export interface CallFilters {
  keyId?: string;
  code?: VerifyCode;
  ip?: string;
  since?: string;
  pageSize?: number;
}

export interface VerifyOptions {
  /** The presented key; a signed request may carry only its key id (in the signature's keyid). */
  key?: string;
  scopes?: string[];
  ip?: string;
  method?: string;
  path?: string;
  /** The request as received, for keys that sign: method, full URL, headers, and the digest of the body that arrived. */
  request?: SignedRequest;
}

interface RequestSpec<T> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  schema: z.ZodType<T>;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Whether repeating the request cannot do harm (reads, idempotent writes, or a write with an Idempotency-Key). */
  retryable: boolean;
}

const ERROR_BY_STATUS: Record<
  number,
  new (
    message: string,
    status: number,
    code: ErrorCode,
    requestId: string | null,
  ) => KeywardError
> = {
  401: KeywardAuthenticationError,
  403: KeywardPermissionError,
  404: KeywardNotFoundError,
  409: KeywardConflictError,
  412: KeywardPreconditionError,
  413: KeywardPayloadTooLargeError,
};

/** The typed error for a status and an error body, as every call throws it. */
function errorFor(
  status: number,
  error: Omit<ErrorBody['error'], 'requestId'> & { requestId: string | null },
  retryAfterMs: number | null,
): KeywardError {
  const { code, message, requestId } = error;
  if (status === 400) return new KeywardValidationError(message, code, requestId, error.issues ?? []);
  if (status === 429) return new KeywardRateLimitError(message, code, requestId, retryAfterMs);
  if (status >= 500) return new KeywardServerError(message, status, code, requestId);
  const ErrorClass = ERROR_BY_STATUS[status] ?? KeywardError;
  return new ErrorClass(message, status, code, requestId);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Client operations on one kind of key (API keys or root keys). */
export class KeysClient<Spec> {
  readonly #client: Keyward;
  readonly #base: string;

  /** @internal */
  constructor(client: Keyward, base: string) {
    this.#client = client;
    this.#base = base;
  }

  /**
   * Creates a key; the secret is in the result's `key`, and nowhere else ever again. Retries
   * reuse one Idempotency-Key, so they never make a second key.
   * @example
   * const { key, id } = await kw.keys.create({ name: 'crm sync', scopes: ['contacts:read'], ipAllowlist: ['203.0.113.0/24'] });
   */
  create(spec: Spec, options: { idempotencyKey?: string } = {}): Promise<CreatedKey> {
    return this.#client.request({
      method: 'POST',
      path: this.#base,
      body: spec,
      schema: CreatedKeySchema,
      headers: { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
      retryable: true,
    });
  }

  /**
   * Reads one key (never its secret).
   * @example
   * const { status, lastUsedAt, lastUsedIp } = await kw.keys.get('key_123');
   */
  get(id: string): Promise<ApiKey> {
    return this.#client.request({
      method: 'GET',
      path: `${this.#base}/${encodeURIComponent(id)}`,
      schema: ApiKeySchema,
      retryable: true,
    });
  }

  /**
   * Changes policy fields; the secret stays. Pass `ifMatch` (a version) to fail on a concurrent change.
   * @example
   * await kw.keys.update('key_123', { scopes: ['contacts:read', 'email:send'] }, { ifMatch: 3 });
   */
  update(id: string, patch: KeyPatch, options: { ifMatch?: number } = {}): Promise<UpdatedKey> {
    return this.#client.request({
      method: 'PATCH',
      path: `${this.#base}/${encodeURIComponent(id)}`,
      body: patch,
      schema: UpdatedKeySchema,
      headers: options.ifMatch === undefined ? {} : { 'if-match': `"${options.ifMatch}"` },
      retryable: true,
    });
  }

  /**
   * Issues a successor; the old key keeps working for the grace period.
   * @example
   * const next = await kw.keys.rotate('key_123', { gracePeriodSeconds: 3600 });
   * // or with a successor made locally (API keys only): generateKey({ environment: 'live' })
   */
  rotate(
    id: string,
    options: { gracePeriodSeconds?: number; idempotencyKey?: string; key?: string } = {},
  ): Promise<CreatedKey> {
    const { idempotencyKey: _, ...body } = options;
    return this.#client.request({
      method: 'POST',
      path: `${this.#base}/${encodeURIComponent(id)}/rotate`,
      body,
      schema: CreatedKeySchema,
      headers: { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
      retryable: true,
    });
  }

  /**
   * Suspends a key until resumed.
   * @example
   * await kw.keys.suspend('key_123');
   */
  suspend(id: string): Promise<ApiKey> {
    return this.#lifecycle(id, 'suspend');
  }

  /**
   * Resumes a suspended key.
   * @example
   * await kw.keys.resume('key_123');
   */
  resume(id: string): Promise<ApiKey> {
    return this.#lifecycle(id, 'resume');
  }

  /**
   * Revokes a key at once and for good.
   * @example
   * await kw.keys.revoke('key_123');
   */
  revoke(id: string): Promise<ApiKey> {
    return this.#lifecycle(id, 'revoke');
  }

  /**
   * Retires a key: it works for `gracePeriodSeconds` more, then expires.
   * @example
   * await kw.keys.retire('key_123', { gracePeriodSeconds: 86400 });
   */
  retire(id: string, options: { gracePeriodSeconds?: number } = {}): Promise<ApiKey> {
    return this.#client.request({
      method: 'DELETE',
      path: `${this.#base}/${encodeURIComponent(id)}`,
      query: { gracePeriodSeconds: options.gracePeriodSeconds },
      schema: ApiKeySchema,
      retryable: true,
    });
  }

  /**
   * Walks every page of keys matching the filters, oldest first.
   * @example
   * for await (const key of kw.keys.list({ rotationDue: true })) console.log(key.name);
   */
  list(filters: KeyFilters = {}): AsyncIterable<ApiKey> {
    const { pageSize, ...query } = filters;
    return this.#client.paginate(this.#base, KeyPageSchema, { ...query, limit: pageSize ?? 100 });
  }

  /**
   * Reports a key exposed (pushed to a repository, pasted in a ticket): the workspace's leak policy
   * acts on it at once (suspend by default, revoke, or notify only), with an audit entry and a
   * key.leaked event. Send the key itself (proof enough, even for a root key) or its id. Needs a
   * root key with keys:revoke; a root key reported by id needs root-keys:manage too.
   * @example
   * const { key, action } = await kw.keys.reportLeak({ key: exposed, url: 'https://github.com/acme/app/commit/1a2b3c' });
   * console.log(action, key.status); // 'suspend', 'suspended'
   */
  reportLeak(report: ReportLeakInput): Promise<LeakReport> {
    // Not retried: each report is recorded, and a second one would be audited twice.
    return this.#client.request({
      method: 'POST',
      path: '/v1/leaks',
      body: report,
      schema: LeakReportSchema,
      retryable: false,
    });
  }

  #lifecycle(id: string, verb: 'suspend' | 'resume' | 'revoke'): Promise<ApiKey> {
    return this.#client.request({
      method: 'POST',
      path: `${this.#base}/${encodeURIComponent(id)}/${verb}`,
      schema: ApiKeySchema,
      retryable: true,
    });
  }
}

/** Client operations on API keys: those of every kind of key, and creation in bulk. */
export class ApiKeysClient extends KeysClient<CreateKeyInput> {
  readonly #client: Keyward;

  /** @internal */
  constructor(client: Keyward) {
    super(client, '/v1/keys');
    this.#client = client;
  }

  /**
   * Creates up to 1,000 keys in one call (a migration off another system): each item is answered
   * on its own, with its key (`status` 201) or its error, at its index. Each item gets an
   * Idempotency-Key (yours, in the same order, or a new one), so a retried call makes no second key.
   * @example
   * const { items, failed } = await kw.keys.createBatch(accounts.map((a) => ({ name: a.name, scopes: ['contacts:read'] })));
   * for (const item of items) if ('error' in item) console.error(item.index, item.error.message);
   */
  createBatch(items: CreateKeyInput[], options: { idempotencyKeys?: (string | null)[] } = {}): Promise<KeyBatchResult> {
    const idempotencyKeys = items.map((_, index) => options.idempotencyKeys?.[index] ?? randomUUID());
    return this.#client.request({
      method: 'POST',
      path: '/v1/keys:batch',
      body: { items, idempotencyKeys },
      schema: KeyBatchResultSchema,
      retryable: true,
    });
  }
}

/** What `kw.webhooks.create` accepts (schema/webhooks.ts). */
export type WebhookSpec = z.input<typeof CreateWebhookBodySchema>;
/** What `kw.webhooks.update` accepts: any subset of the endpoint's settings. */
export type WebhookPatch = z.input<typeof UpdateWebhookBodySchema>;

/** Filters of a delivery listing, newest first. */
export interface DeliveryFilters {
  status?: DeliveryStatus;
  /** Page size used while iterating. */
  pageSize?: number;
}

/** Client operations on a workspace's webhook endpoints and their deliveries (docs/events.md). */
export class WebhooksClient {
  readonly #client: Keyward;

  /** @internal */
  constructor(client: Keyward) {
    this.#client = client;
  }

  /**
   * Registers an endpoint; its signing secret is in the result's `secret`, and nowhere else ever again.
   * @example
   * const { id, secret } = await kw.webhooks.create({ url: 'https://ops.example.com/keyward', eventTypes: ['key.revoked'] });
   */
  create(spec: WebhookSpec): Promise<WebhookWithSecret> {
    return this.#client.request({
      method: 'POST',
      path: '/v1/webhooks',
      body: spec,
      schema: WebhookWithSecretSchema,
      // A repeat would register a second endpoint with a second secret.
      retryable: false,
    });
  }

  /**
   * Walks every endpoint of the workspace (never their secrets).
   * @example
   * for await (const hook of kw.webhooks.list()) console.log(hook.url, hook.enabled);
   */
  list(): AsyncIterable<WebhookEndpoint> {
    const client = this.#client;
    return {
      [Symbol.asyncIterator]: async function* () {
        const page = await client.request({
          method: 'GET',
          path: '/v1/webhooks',
          schema: WebhookListSchema,
          retryable: true,
        });
        yield* page.items;
      },
    };
  }

  /**
   * Reads one endpoint (never its secret).
   * @example
   * const { enabled, disabledReason } = await kw.webhooks.get('wh_123');
   */
  get(id: string): Promise<WebhookEndpoint> {
    return this.#client.request({
      method: 'GET',
      path: this.#path(id),
      schema: WebhookEndpointSchema,
      retryable: true,
    });
  }

  /**
   * Changes url, description, eventTypes or enabled; enabling clears a disable after a 410.
   * @example
   * await kw.webhooks.update('wh_123', { enabled: true, eventTypes: [] });
   */
  update(id: string, patch: WebhookPatch): Promise<WebhookEndpoint> {
    return this.#client.request({
      method: 'PATCH',
      path: this.#path(id),
      body: patch,
      schema: WebhookEndpointSchema,
      retryable: true,
    });
  }

  /**
   * Deletes an endpoint and its pending deliveries.
   * @example
   * await kw.webhooks.delete('wh_123');
   */
  async delete(id: string): Promise<void> {
    await this.#client.request({ method: 'DELETE', path: this.#path(id), schema: z.unknown(), retryable: true });
  }

  /**
   * Issues a new signing secret (shown once); the old one keeps signing for the grace period (24 h by default).
   * @example
   * const { secret } = await kw.webhooks.rotateSecret('wh_123', { gracePeriodSeconds: 3600 });
   */
  rotateSecret(id: string, options: { gracePeriodSeconds?: number } = {}): Promise<WebhookWithSecret> {
    return this.#client.request({
      method: 'POST',
      path: `${this.#path(id)}/rotate-secret`,
      body: options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds },
      schema: WebhookWithSecretSchema,
      // A repeat would replace the secret just shown, and it would be lost.
      retryable: false,
    });
  }

  /**
   * Walks an endpoint's deliveries, newest first, each with its latest attempts.
   * @example
   * for await (const delivery of kw.webhooks.deliveries('wh_123', { status: 'failed' })) console.log(delivery.eventType);
   */
  deliveries(id: string, filters: DeliveryFilters = {}): AsyncIterable<WebhookDelivery> {
    const { pageSize, ...query } = filters;
    return this.#client.paginate(`${this.#path(id)}/deliveries`, DeliveryPageSchema, {
      ...query,
      limit: pageSize ?? 100,
    });
  }

  /**
   * Sends a delivery again now, with the same event id (a 409 while the endpoint is disabled).
   * @example
   * await kw.webhooks.retry('wh_123', 'dlv_456');
   */
  retry(id: string, deliveryId: string): Promise<RedeliveryAccepted> {
    return this.#client.request({
      method: 'POST',
      path: `${this.#path(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`,
      schema: RedeliveryAcceptedSchema,
      retryable: true,
    });
  }

  #path(id: string): string {
    return `/v1/webhooks/${encodeURIComponent(id)}`;
  }
}

/** What `kw.settings.update` accepts: any subset of the workspace's settings (schema/workspaces.ts). */
export type SettingsPatch = z.input<typeof UpdateWorkspaceSettingsBodySchema>;

/** Client operations on the workspace's settings: reminder thresholds and leak policy (docs/events.md). */
export class SettingsClient {
  readonly #client: Keyward;

  /** @internal */
  constructor(client: Keyward) {
    this.#client = client;
  }

  /**
   * Reads the workspace's settings, defaults included (needs keys:read).
   * @example
   * const { rotationReminderDays, expiryReminderDays, leakPolicy } = await kw.settings.get();
   */
  get(): Promise<WorkspaceSettings> {
    return this.#client.request({
      method: 'GET',
      path: '/v1/settings',
      schema: WorkspaceSettingsSchema,
      retryable: true,
    });
  }

  /**
   * Changes some of the settings and returns them all (needs settings:manage; audited).
   * @example
   * await kw.settings.update({ expiryReminderDays: [30, 7, 1, 0], leakPolicy: 'revoke' });
   */
  update(patch: SettingsPatch): Promise<WorkspaceSettings> {
    return this.#client.request({
      method: 'PATCH',
      path: '/v1/settings',
      body: patch,
      schema: WorkspaceSettingsSchema,
      // Setting the same values twice leaves the same settings.
      retryable: true,
    });
  }
}

/** What create accepts for a root key. */
export type RootKeySpec = Omit<CreateKeyInput, 'scopes' | 'environment'> & { scopes: ManagementScope[] };

/**
 * The keyward API client. Every response is checked against the shared schemas; every failure is a
 * typed KeywardError subclass carrying `status`, `code` and `requestId`.
 * @example
 * const kw = new Keyward({ baseUrl: 'http://127.0.0.1:7070', rootKey: process.env.KEYWARD_ROOT_KEY! });
 * const { valid, code } = await kw.verify({ key, scopes: ['contacts:read'], ip: '203.0.113.7' });
 */
export class Keyward {
  readonly keys: ApiKeysClient;
  readonly rootKeys: KeysClient<RootKeySpec>;
  readonly webhooks: WebhooksClient;
  readonly settings: SettingsClient;
  readonly audit: {
    /**
     * Walks the audit log in chain order, or newest first with `order: 'desc'`.
     * @example
     * for await (const entry of kw.audit.list({ order: 'desc', action: 'key.revoke' })) console.log(entry.at, entry.targetKeyId);
     */
    list(filters?: {
      keyId?: string;
      action?: AuditEntry['action'];
      order?: AuditOrder;
      pageSize?: number;
    }): AsyncIterable<AuditEntry>;
    /** Re-computes the whole hash chain on this side and names the first entry that breaks it. */
    verify(): Promise<AuditChainReport>;
  };
  readonly calls: {
    /** Walks the call log, newest first. */
    list(filters?: CallFilters): AsyncIterable<Call>;
  };
  readonly workspaces: {
    /**
     * Creates a tenant and returns its first root key (shown once). Needs an operator root key with
     * workspaces:create, holding every scope the first root key gets (`*` unless `rootKeyScopes` says).
     * @example
     * const { workspace, rootKey } = await kw.workspaces.create('acme-prod');
     */
    create(name: string, options?: { rootKeyScopes?: ManagementScope[] }): Promise<CreatedWorkspace>;
  };
  readonly #http: AxiosInstance;
  readonly #retries: number;
  readonly #retryBaseDelayMs: number;
  readonly #timeoutMs: number;

  constructor(options: KeywardOptions) {
    if (!options.baseUrl) throw new TypeError('Keyward: baseUrl is required');
    if (!options.rootKey) throw new TypeError('Keyward: rootKey is required');
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retries = options.retries ?? 2;
    this.#retryBaseDelayMs = options.retryBaseDelayMs ?? 100;
    this.#http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      timeout: this.#timeoutMs,
      headers: { authorization: `Bearer ${options.rootKey}`, 'user-agent': 'keyward-sdk' },
      validateStatus: () => true,
      // The SDK reads every status itself, and never follows redirects with the root key.
      maxRedirects: 0,
    });
    this.keys = new ApiKeysClient(this);
    this.rootKeys = new KeysClient(this, '/v1/root-keys');
    this.webhooks = new WebhooksClient(this);
    this.settings = new SettingsClient(this);
    this.audit = {
      list: (filters = {}) => {
        const { pageSize, ...query } = filters;
        return this.paginate('/v1/audit', AuditPageSchema, { ...query, limit: pageSize ?? 500 });
      },
      verify: async () => {
        const entries: AuditEntry[] = [];
        for await (const entry of this.audit.list({ order: 'asc' })) entries.push(entry);
        return verifyAuditChain(entries);
      },
    };
    this.workspaces = {
      create: (name, options = {}) =>
        this.request({
          method: 'POST',
          path: '/v1/workspaces',
          body: { name, ...options },
          schema: CreatedWorkspaceSchema,
          retryable: false,
        }),
    };
    this.calls = {
      list: (filters = {}) => {
        const { pageSize, keyId, ...query } = filters;
        const path = keyId ? `/v1/keys/${encodeURIComponent(keyId)}/calls` : '/v1/calls';
        return this.paginate(path, CallPageSchema, { ...query, limit: pageSize ?? 100 });
      },
    };
  }

  /**
   * Verifies an API key: `valid` and `code` say whether the caller may proceed.
   * @example
   * const result = await kw.verify({ key: presentedKey, scopes: ['contacts:export'], ip: clientIp });
   * if (!result.valid) throw new Error(result.code);
   */
  verify(options: VerifyOptions): Promise<VerifyResponse> {
    return this.request({
      method: 'POST',
      path: '/v1/verify',
      body: options,
      schema: VerifyResponseSchema,
      retryable: true,
    });
  }

  /** @internal Walks a cursor-paginated list. */
  paginate<T>(
    path: string,
    schema: z.ZodType<{ items: T[]; nextCursor: string | null }>,
    query: Record<string, string | number | boolean | undefined>,
  ): AsyncIterable<T> {
    return {
      [Symbol.asyncIterator]: async function* (this: Keyward) {
        let cursor: string | undefined;
        do {
          const page = await this.request({
            method: 'GET',
            path,
            query: { ...query, cursor },
            schema,
            retryable: true,
          });
          yield* page.items;
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
      }.bind(this),
    };
  }

  /** @internal Sends one request with retries, and parses the answer with `schema`. */
  async request<T>(spec: RequestSpec<T>): Promise<T> {
    const params = Object.fromEntries(Object.entries(spec.query ?? {}).filter(([, value]) => value !== undefined));
    for (let attempt = 0; ; attempt += 1) {
      let response: AxiosResponse;
      try {
        response = await this.#http.request({
          method: spec.method,
          url: spec.path,
          data: spec.body,
          params,
          headers: spec.headers,
        });
      } catch (error) {
        const failure = this.#transportError(error);
        if (spec.retryable && attempt < this.#retries) {
          await sleep(this.#backoff(attempt, null));
          continue;
        }
        throw failure;
      }
      if (response.status >= 200 && response.status < 300) return this.#parse(spec.schema, response);
      const failure = this.#httpError(response);
      const retryStatus = response.status === 429 || response.status >= 500;
      if (spec.retryable && retryStatus && attempt < this.#retries) {
        await sleep(this.#backoff(attempt, failure instanceof KeywardRateLimitError ? failure.retryAfterMs : null));
        continue;
      }
      throw failure;
    }
  }

  /** Exponential backoff with full jitter; a server's Retry-After wins when it is longer. */
  #backoff(attempt: number, retryAfterMs: number | null): number {
    const ceiling = Math.min(this.#retryBaseDelayMs * 2 ** attempt, 10_000);
    const jittered = Math.random() * ceiling;
    return retryAfterMs !== null ? Math.max(retryAfterMs, jittered) : jittered;
  }

  #parse<T>(schema: z.ZodType<T>, response: AxiosResponse): T {
    const result = schema.safeParse(response.data);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const where = issue ? issue.path.join('.') || '(root)' : '(root)';
    throw new KeywardResponseError(
      `the server's answer does not match the schema at ${where}: ${issue?.message ?? 'invalid'}`,
      response.status,
      'KW_ERR_BAD_RESPONSE',
      this.#requestId(response),
    );
  }

  #requestId(response: AxiosResponse): string | null {
    const header = response.headers['x-request-id'];
    return typeof header === 'string' ? header : null;
  }

  #httpError(response: AxiosResponse): KeywardError {
    const parsed = ErrorBodySchema.safeParse(response.data);
    if (parsed.success) {
      const retryAfter = Number(response.headers['retry-after']);
      return errorFor(response.status, parsed.data.error, Number.isFinite(retryAfter) ? retryAfter * 1000 : null);
    }
    const code: ErrorCode = response.status >= 500 ? 'KW_ERR_INTERNAL' : 'KW_ERR_VALIDATION';
    return errorFor(
      response.status,
      { code, message: `HTTP ${response.status}`, requestId: this.#requestId(response) },
      null,
    );
  }

  #transportError(error: unknown): KeywardError {
    if (isAxiosError(error) && (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT')) {
      return new KeywardTimeoutError(`no answer within ${this.#timeoutMs} ms`, 0, 'KW_ERR_TIMEOUT', null);
    }
    const reason = isAxiosError(error) ? (error.code ?? error.message) : String(error);
    return new KeywardNetworkError(`could not reach the keyward server: ${reason}`, 0, 'KW_ERR_NETWORK', null);
  }
}
