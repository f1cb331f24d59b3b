import { z } from 'zod';
import { ApiKeySchema, KeyStatusSchema } from './keys';
import type { LeakSource } from './webhooks';
import { LeakPolicySchema } from './workspaces';

/*
 * Leak response (docs/leaks.md): GitHub secret scanning's partner contract, and an owner's own
 * report of a key they exposed.
 */

/** Where GitHub publishes the keys it signs secret-scanning alerts with. */
export const GITHUB_SCANNING_KEYS_URL = 'https://api.github.com/meta/public_keys/secret_scanning';

/** The most matches one GitHub alert may carry; a larger batch is refused with a 400. */
export const GITHUB_ALERT_MAX_MATCHES = 1000;

/** The largest GitHub alert body read, in bytes (1,000 matches with long URLs fit). */
export const GITHUB_ALERT_MAX_BYTES = 2 * 1024 * 1024;

/** The secret type names keyward registers with GitHub, one per key kind (docs/leaks.md). */
export const GITHUB_TOKEN_TYPES = { api: 'keyward_api_key', root: 'keyward_root_key' } as const;

/** GitHub's document of secret-scanning public keys (`GET /meta/public_keys/secret_scanning`). */
export const GithubPublicKeysSchema = z.object({
  public_keys: z
    .array(
      z.object({
        key_identifier: z.string().min(1).max(256),
        key: z.string().min(1).max(10_000).describe('A PEM public key (ECDSA P-256)'),
        is_current: z.boolean().optional(),
      }),
    )
    .min(1)
    .max(100),
});
export type GithubPublicKeys = z.infer<typeof GithubPublicKeysSchema>;

/** One match in a GitHub alert. Unknown fields are ignored: GitHub may add some. */
export const GithubMatchSchema = z.object({
  token: z.string().min(1).max(1000).describe('The string that matched the registered pattern'),
  type: z.string().min(1).max(200).describe('The secret type name registered with GitHub'),
  url: z.string().max(8192).nullish().describe('Where the match was found; may be empty'),
  source: z.string().max(100).nullish().describe('content, commit, issue_comment, npm…'),
});
export type GithubMatch = z.infer<typeof GithubMatchSchema>;

/** The body of a GitHub alert: a JSON array of matches. */
export const GithubAlertSchema = z.array(GithubMatchSchema).max(GITHUB_ALERT_MAX_MATCHES);

/** GitHub's feedback answer: one label per match, in the order the matches came. */
export const GithubFeedbackSchema = z
  .array(
    z.object({
      token_raw: z.string(),
      token_type: z.string(),
      label: z.enum(['true_positive', 'false_positive']),
    }),
  )
  .meta({ id: 'GithubSecretScanningFeedback' });
export type GithubFeedback = z.infer<typeof GithubFeedbackSchema>;

/** Body of `POST /v1/leaks`: the exposed key (its secret, or its id) and where it was seen. */
export const ReportLeakBodySchema = z
  .strictObject({
    key: z.string().min(1).max(200).optional().describe('The exposed key itself (kw_…); send this or keyId, not both'),
    keyId: z.string().min(1).max(100).optional().describe('The id of the exposed key (key_… or rk_…)'),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .describe('Where the key was seen (a commit, a paste, a ticket…)'),
    note: z.string().max(1000).optional().describe('Anything else worth keeping in the audit log'),
  })
  .superRefine((body, context) => {
    if ((body.key === undefined) === (body.keyId === undefined))
      context.addIssue({
        code: 'custom',
        path: [body.key === undefined ? 'key' : 'keyId'],
        message:
          body.key === undefined ? 'send the exposed key or its keyId' : 'send the exposed key or its keyId, not both',
      });
  })
  .meta({ id: 'ReportLeakRequest' });
export type ReportLeakBody = z.infer<typeof ReportLeakBodySchema>;

/** Where a leaked key was found (the `leak` of a key.leaked event). */
export const LeakSourceSchema = z.object({
  reporter: z.enum(['github', 'report']).describe('github: GitHub secret scanning; report: a root key reported it'),
  url: z.string().nullable(),
  source: z.string().nullable().describe("The reporter's label for the place (GitHub's source)"),
}) satisfies z.ZodType<LeakSource>;

/** Answer of `POST /v1/leaks`: the key after the workspace's leak policy acted on it. */
export const LeakReportSchema = z
  .object({
    key: ApiKeySchema,
    action: LeakPolicySchema.describe('The leak policy that was applied (the workspace setting leakPolicy)'),
    previousStatus: KeyStatusSchema.describe('The status before the report; key.status is the one after'),
    leak: LeakSourceSchema,
  })
  .meta({ id: 'LeakReport' });
export type LeakReport = z.infer<typeof LeakReportSchema>;
