import { z } from 'zod';
import { TimestampSchema } from './common';

/*
 * The web console's session routes (docs/console.md): the only routes the console has that the
 * /v1 API does not. Everything else the console shows it reads from /v1 with its session cookie.
 */

/** The cookie that carries a console session's opaque id. */
export const CONSOLE_SESSION_COOKIE = 'keyward_session';

/** The header every change made with a session cookie must carry: the session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';

/** Body of `POST /console/session`: a root key, pasted by a person. */
export const SignInBodySchema = z
  .strictObject({
    rootKey: z.string().trim().min(1, 'paste a root key (kw_root_…)').max(512).describe('A root key (kw_root_…)'),
  })
  .meta({ id: 'ConsoleSignInRequest' });
export type SignInBody = z.infer<typeof SignInBodySchema>;

/** A console session as `POST` and `GET /console/session` answer: who it acts as, and its CSRF token. */
export const ConsoleSessionSchema = z
  .object({
    rootKey: z.object({
      id: z.string(),
      name: z.string(),
      start: z.string(),
      scopes: z.array(z.string()).describe('What the console may do: controls outside these are hidden'),
    }),
    workspace: z.object({
      id: z.string(),
      name: z.string(),
      operator: z.boolean().describe("The operator's workspace, whose root keys may create and list workspaces"),
    }),
    csrfToken: z.string().describe('Send as X-CSRF-Token with every change made with this session'),
    createdAt: TimestampSchema,
    idleTimeoutSeconds: z.number().int(),
    expiresAt: TimestampSchema.describe('The absolute end of the session, however active'),
  })
  .meta({ id: 'ConsoleSession' });
export type ConsoleSession = z.infer<typeof ConsoleSessionSchema>;
