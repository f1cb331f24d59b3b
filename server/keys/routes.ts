import type { FastifyPluginAsync, preHandlerHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiKeySchema,
  CreatedKeySchema,
  CreateKeyBatchBodySchema,
  CreateKeyBodySchema,
  CreateRootKeyBodySchema,
  ErrorBodySchema,
  IdempotencyKeySchema,
  KEY_BATCH_MAX,
  type KeyBatchResult,
  KeyBatchResultSchema,
  KeyIdParamsSchema,
  KeyPageSchema,
  ListKeysQuerySchema,
  type ManagementScope,
  RetireKeyQuerySchema,
  RotateKeyBodySchema,
  UpdatedKeySchema,
  UpdateKeyBodySchema,
  UpdateRootKeyBodySchema,
} from '../../schema';
import { KeywardError } from '../errors';
import { toErrorBody } from '../http/errors';
import type { BatchItem, KeyKind, KeyService } from './service';

/** A batch body may hold KEY_BATCH_MAX full-size items, well above the server's usual body limit. */
const BATCH_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

export interface KeyRoutesOptions {
  kind: KeyKind;
  keys: KeyService;
  guard: (scope: ManagementScope) => preHandlerHookHandler;
}

const IdempotencyHeadersSchema = z.looseObject({
  'idempotency-key': IdempotencyKeySchema.optional().describe(
    'Repeat the same request with the same value to get the same result',
  ),
});
const IfMatchHeadersSchema = z.looseObject({
  'if-match': z
    .string()
    .regex(/^(W\/)?"?\d{1,10}"?$/, 'must be a version number, as in the ETag header')
    .optional(),
});

function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBodySchema]));
}

/**
 * The key resource, mounted twice: at /v1/keys for API keys and at /v1/root-keys for root keys,
 * which share the body shapes and lifecycle but not the scopes that guard them.
 */
export const keyRoutes: FastifyPluginAsync<KeyRoutesOptions> = async (app, { kind, keys, guard }) => {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const scope = (wanted: ManagementScope): ManagementScope => (kind === 'root' ? 'root-keys:manage' : wanted);
  const tags = [kind === 'root' ? 'root keys' : 'keys'];
  const noun = kind === 'root' ? 'root key' : 'key';
  const sendKey = <T extends { version: number }>(
    reply: { header(name: string, value: string): unknown },
    key: T,
  ): T => {
    reply.header('etag', `"${key.version}"`);
    return key;
  };

  api.post('/', {
    preHandler: guard(scope('keys:write')),
    schema: {
      tags,
      summary: `Create a ${noun}; the secret is in this response only`,
      body: kind === 'root' ? CreateRootKeyBodySchema : CreateKeyBodySchema,
      headers: IdempotencyHeadersSchema,
      response: { 201: CreatedKeySchema, ...errors(400, 401, 403, 409, 413) },
    },
    handler: async (request, reply) => {
      const { created, replayed } = await keys.create(
        kind,
        request.actor,
        request.body,
        request.headers['idempotency-key'],
      );
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(sendKey(reply, created));
    },
  });

  if (kind === 'api') {
    // `::` is a literal colon to fastify: the route is /v1/keys:batch.
    api.post('::batch', {
      preHandler: guard('keys:write'),
      bodyLimit: BATCH_BODY_LIMIT_BYTES,
      schema: {
        tags,
        summary: `Create up to ${KEY_BATCH_MAX} keys at once (a migration off another system); each item is answered separately`,
        body: CreateKeyBatchBodySchema,
        response: { 200: KeyBatchResultSchema, ...errors(400, 401, 403, 413) },
      },
      handler: async (request): Promise<KeyBatchResult> => {
        const { idempotencyKeys } = request.body;
        const items = request.body.items.map((item, index): BatchItem => {
          const parsed = CreateKeyBodySchema.safeParse(item);
          return parsed.success
            ? { ok: true, policy: parsed.data, idempotencyKey: idempotencyKeys?.[index] ?? undefined }
            : { ok: false, error: KeywardError.fromZod(parsed.error, `body.items.${index}`) };
        });
        const results = (await keys.createBatch(request.actor, items)).map((result) => {
          if ('key' in result)
            return { index: result.index, status: 201 as const, key: result.key, replayed: result.replayed };
          const { status, body } = toErrorBody(result.error, request.id);
          return { index: result.index, status, error: body.error };
        });
        const created = results.filter((result) => result.status === 201).length;
        return { items: results, created, failed: results.length - created };
      },
    });
  }

  api.get('/', {
    preHandler: guard(scope('keys:read')),
    schema: {
      tags,
      summary: `List ${noun}s, oldest first`,
      querystring: ListKeysQuerySchema,
      response: { 200: KeyPageSchema, ...errors(400, 401, 403) },
    },
    handler: async (request) => keys.list(kind, request.actor, request.query),
  });

  api.get('/:id', {
    preHandler: guard(scope('keys:read')),
    schema: {
      tags,
      summary: `Get a ${noun}`,
      params: KeyIdParamsSchema,
      response: { 200: ApiKeySchema, ...errors(401, 403, 404) },
    },
    handler: async (request, reply) => sendKey(reply, await keys.get(kind, request.actor, request.params.id)),
  });

  api.patch('/:id', {
    preHandler: guard(scope('keys:write')),
    schema: {
      tags,
      summary: `Change a ${noun}'s policy; the secret never changes`,
      params: KeyIdParamsSchema,
      headers: IfMatchHeadersSchema,
      body: kind === 'root' ? UpdateRootKeyBodySchema : UpdateKeyBodySchema,
      response: { 200: UpdatedKeySchema, ...errors(400, 401, 403, 404, 409, 412) },
    },
    handler: async (request, reply) => {
      const ifMatch = request.headers['if-match'];
      const version = ifMatch === undefined ? undefined : Number(ifMatch.replace(/\D/g, ''));
      return sendKey(reply, await keys.update(kind, request.actor, request.params.id, request.body, version));
    },
  });

  api.post('/:id/rotate', {
    preHandler: guard(scope('keys:rotate')),
    schema: {
      tags,
      summary: `Issue a successor ${noun}; the old one stays valid for the grace period`,
      params: KeyIdParamsSchema,
      headers: IdempotencyHeadersSchema,
      body: RotateKeyBodySchema.optional(),
      response: { 201: CreatedKeySchema, ...errors(400, 401, 403, 404, 409) },
    },
    handler: async (request, reply) => {
      const grace = request.body?.gracePeriodSeconds ?? RotateKeyBodySchema.parse({}).gracePeriodSeconds;
      const { created, replayed } = await keys.rotate(
        kind,
        request.actor,
        request.params.id,
        grace,
        request.headers['idempotency-key'],
        request.body?.key,
      );
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(sendKey(reply, created));
    },
  });

  for (const verb of ['suspend', 'resume', 'revoke'] as const) {
    api.post(`/:id/${verb}`, {
      preHandler: guard(scope(verb === 'revoke' ? 'keys:revoke' : 'keys:write')),
      schema: {
        tags,
        summary: {
          suspend: `Suspend a ${noun} until resumed`,
          resume: `Resume a suspended ${noun}`,
          revoke: `Revoke a ${noun} at once, for good`,
        }[verb],
        params: KeyIdParamsSchema,
        response: { 200: ApiKeySchema, ...errors(401, 403, 404, 409) },
      },
      handler: async (request, reply) => sendKey(reply, await keys[verb](kind, request.actor, request.params.id)),
    });
  }

  api.delete('/:id', {
    preHandler: guard(scope('keys:revoke')),
    schema: {
      tags,
      summary: `Retire a ${noun}: it keeps working for gracePeriodSeconds, then expires`,
      params: KeyIdParamsSchema,
      querystring: RetireKeyQuerySchema,
      response: { 200: ApiKeySchema, ...errors(400, 401, 403, 404) },
    },
    handler: async (request, reply) =>
      sendKey(reply, await keys.retire(kind, request.actor, request.params.id, request.query.gracePeriodSeconds)),
  });
};
