import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ERROR_CATALOGUE, type ErrorBody, type ErrorCode, type FieldIssue } from '../../schema';
import { KeywardError } from '../errors';
import { maskSecrets } from '../keys/format';

/** fastify's own error codes that are the client's fault, mapped onto our catalogue. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'KW_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'KW_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'KW_ERR_VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'KW_ERR_BAD_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'KW_ERR_BAD_JSON',
  FST_ERR_INVALID_URL: 'KW_ERR_VALIDATION',
  FST_ERR_BAD_URL: 'KW_ERR_VALIDATION',
};

function zodIssues(error: FastifyError): FieldIssue[] {
  const context = error.validationContext ?? 'request';
  return (error.validation ?? []).map((issue) => {
    const params = issue.params as { keys?: string[] } | undefined;
    const segments = issue.instancePath.split('/').filter(Boolean);
    if (issue.keyword === 'unrecognized_keys' && params?.keys?.length) {
      return { path: [context, ...segments, params.keys.join(',')].join('.'), message: 'is not a known field' };
    }
    return { path: [context, ...segments].join('.'), message: issue.message ?? 'is invalid' };
  });
}

/** Turns any error into one catalogue answer with the request id. Nothing the client sent ends as a 500. */
export function toErrorBody(
  error: unknown,
  requestId: string,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const answer = (code: ErrorCode, message: string, issues?: FieldIssue[], headers: Record<string, string> = {}) => ({
    status: ERROR_CATALOGUE[code].status,
    body: {
      error: {
        code,
        message: maskSecrets(message),
        requestId,
        ...(issues
          ? { issues: issues.map((issue) => ({ path: maskSecrets(issue.path), message: maskSecrets(issue.message) })) }
          : {}),
      },
    },
    headers,
  });
  if (error instanceof KeywardError) return answer(error.code, error.message, error.issues, error.headers);
  const fastifyError = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fastifyError)) {
    const issues = zodIssues(fastifyError);
    return answer('KW_ERR_VALIDATION', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
  }
  const mapped = fastifyError?.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return answer(mapped, ERROR_CATALOGUE[mapped].title);
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return answer('KW_ERR_VALIDATION', fastifyError.message);
  }
  return answer('KW_ERR_INTERNAL', 'internal error; the request id identifies it in the server log');
}

/** Errors fastify raises before routing (a URL that does not decode, a body it cannot read): answered in the same shape. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body, headers } = toErrorBody(error, request.id);
  void reply.code(status).headers(headers).send(body);
}

/** Installs the one place where errors become HTTP answers. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, headers } = toErrorBody(error, request.id);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      error: {
        code: 'KW_ERR_ROUTE_NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        requestId: request.id,
      },
    } satisfies ErrorBody);
  });
}
