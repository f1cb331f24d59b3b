import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsync, preHandlerHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  ErrorBodySchema,
  GITHUB_ALERT_MAX_BYTES,
  GithubFeedbackSchema,
  LeakReportSchema,
  type ManagementScope,
  ReportLeakBodySchema,
} from '../../schema';
import { requestOrigin } from '../http/auth';
import type { LeakService } from './service';

export interface LeakRoutesOptions {
  leaks: LeakService;
  guard: (scope: ManagementScope) => preHandlerHookHandler;
  clientAddress: (request: IncomingMessage) => string | null;
}

function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBodySchema]));
}

/** The first value of a header that may repeat. */
function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * POST /v1/leaks/github: GitHub's signature covers the exact bytes sent, so this route, alone,
 * takes its body as a Buffer: the parser below is registered in this plugin's own context and
 * no other route sees it.
 */
const githubRoute: FastifyPluginAsync<LeakRoutesOptions> = async (app, { leaks, clientAddress }) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: GITHUB_ALERT_MAX_BYTES }, (_request, body, done) =>
    done(null, body),
  );
  app.withTypeProvider<ZodTypeProvider>().post('/v1/leaks/github', {
    bodyLimit: GITHUB_ALERT_MAX_BYTES,
    schema: {
      tags: ['leaks'],
      summary: 'GitHub secret scanning: an alert of keys found in public, signed by GitHub (docs/leaks.md)',
      description:
        'The body is a JSON array of {token, type, url, source}, signed with ECDSA P-256/SHA-256 by the key that ' +
        'Github-Public-Key-Identifier names; Github-Public-Key-Signature is the base64 DER signature over the raw body. ' +
        "The answer labels each token; for a key keyward issued, the workspace's leak policy has acted.",
      security: [],
      response: { 200: GithubFeedbackSchema, ...errors(400, 401, 413, 503) },
    },
    handler: async (request) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const { feedback, summary } = await leaks.github(
        body,
        {
          identifier: header(request.headers['github-public-key-identifier']),
          signature: header(request.headers['github-public-key-signature']),
        },
        requestOrigin(request, clientAddress),
      );
      // Counts only: the answer echoes each token, as GitHub's contract asks, but no log line does.
      request.log.info(summary, 'GitHub secret-scanning alert answered');
      return feedback;
    },
  });
};

/** Leak response: GitHub's secret-scanning alerts and an owner's own report (docs/leaks.md). */
export const leakRoutes: FastifyPluginAsync<LeakRoutesOptions> = async (app, options) => {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/leaks', {
    preHandler: options.guard('keys:revoke'),
    schema: {
      tags: ['leaks'],
      summary: "Report a key exposed (by its secret or its id); the workspace's leak policy acts on it",
      body: ReportLeakBodySchema,
      response: { 200: LeakReportSchema, ...errors(400, 401, 403, 404) },
    },
    handler: async (request) => options.leaks.report(request.actor, request.body),
  });
  await app.register(githubRoute, options);
};
