import { resolve } from 'node:path';
import { z } from 'zod';
import { CidrSchema, GITHUB_SCANNING_KEYS_URL, GithubPublicKeysSchema } from '../schema';
import { DEFAULT_PGLITE_SHARED_BUFFERS } from './store/pglite-thread';

/** `LIMIT/SECONDS`, e.g. `20/60`: at most LIMIT in any SECONDS. */
const PerWindowSchema = z
  .string()
  .regex(/^\d+\/\d+$/, { message: 'must be LIMIT/SECONDS, e.g. 20/60' })
  .transform((text) => {
    const [limit, windowSeconds] = text.split('/').map(Number) as [number, number];
    return { limit, windowSeconds };
  })
  .pipe(
    z.object({ limit: z.number().int().min(1).max(1_000_000), windowSeconds: z.number().int().min(1).max(86_400) }),
  );

const CidrListSchema = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(z.array(CidrSchema));

/** Every setting the server reads, with its environment variable and default. */
export const ConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65_535).default(7070),
  host: z.string().min(1).default('127.0.0.1'),
  dataDir: z.string().min(1).default('.keyward'),
  // The embedded store's buffer cache (shared_buffers).
  pgliteSharedBuffers: z
    .string()
    .regex(/^\d{1,6}(kB|MB|GB)$/, { message: 'must be a size such as 32MB' })
    .default(DEFAULT_PGLITE_SHARED_BUFFERS),
  databaseUrl: z.string().url().optional(),
  listenDatabaseUrl: z.string().url().optional(),
  drainTimeoutMs: z.coerce.number().int().min(0).max(600_000).default(10_000),
  pepper: z.string().min(32, 'must be at least 32 characters').optional(),
  masterKey: z.string().min(32, 'must be at least 32 characters').optional(),
  rootKeyFile: z.string().min(1).optional(),
  trustedProxies: CidrListSchema.default([]),
  callLogKeepQuery: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((text) => text === 'true' || text === '1')])
    .default(false),
  callRetentionDays: z.coerce.number().positive().max(3650).default(7),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  verifyCacheTtlMs: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  verifyCacheMaxKeys: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  callFlushIntervalMs: z.coerce.number().int().min(10).max(60_000).default(250),
  maintenanceIntervalMs: z.coerce.number().int().min(50).max(86_400_000).default(60_000),
  bodyLimitBytes: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
  verifyFailuresPerIp: PerWindowSchema.prefault('100/60'),
  verifyFailuresPerPrefix: PerWindowSchema.prefault('20/60'),
  rootKeyFailures: PerWindowSchema.prefault('10/300'),
  rootKeyLockoutSeconds: z.coerce.number().int().min(1).max(86_400).default(900),
  // Webhook URLs on loopback, private, link-local or metadata addresses are refused (SSRF) unless this is set.
  webhookAllowPrivate: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((text) => text === 'true' || text === '1')])
    .default(false),
  // Plain-http webhook URLs are refused unless this is set (a receiver on a private network, tests).
  webhookAllowHttp: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((text) => text === 'true' || text === '1')])
    .default(false),
  webhookDispatchIntervalMs: z.coerce.number().int().min(10).max(600_000).default(1_000),
  webhookTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(10_000),
  // Delivered (or failed) deliveries and their events are deleted after this many days.
  eventRetentionDays: z.coerce.number().positive().max(3650).default(30),
  // Web console sessions (docs/console.md): ended after this long without a request, and after this long in all.
  consoleIdleMinutes: z.coerce.number().int().min(1).max(1440).default(30),
  consoleSessionHours: z.coerce.number().int().min(1).max(168).default(12),
  // Where the built console is (npm run build writes dist/console); unset: next to the server's code.
  consoleDir: z.string().min(1).optional(),
  // GitHub secret scanning (docs/leaks.md): the public keys alerts are signed with come from the
  // inline JSON if set, else the file, else the URL; the URL and the file are re-read after the TTL,
  // and when an alert names a key not yet known, at most once per refetch interval.
  githubScanningKeys: z
    .string()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be JSON: {"public_keys":[{"key_identifier","key"}]}' });
        return z.NEVER;
      }
    })
    .pipe(GithubPublicKeysSchema)
    .optional(),
  githubScanningKeysFile: z.string().min(1).optional(),
  githubScanningKeysUrl: z.url({ protocol: /^https?$/ }).default(GITHUB_SCANNING_KEYS_URL),
  // A GitHub token with no scopes raises GitHub's rate limit for fetching the keys; optional.
  githubScanningToken: z.string().min(1).optional(),
  githubScanningKeysTtlMs: z.coerce.number().int().min(1000).max(604_800_000).default(3_600_000),
  githubScanningKeysRefetchMs: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
});
export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Which environment variable sets which field; used for loading and for naming a bad one. */
export const ENVIRONMENT_VARIABLES: Record<keyof Config, string> = {
  port: 'KEYWARD_PORT',
  host: 'KEYWARD_HOST',
  dataDir: 'KEYWARD_DATA_DIR',
  pgliteSharedBuffers: 'KEYWARD_PGLITE_SHARED_BUFFERS',
  databaseUrl: 'DATABASE_URL',
  listenDatabaseUrl: 'KEYWARD_LISTEN_DATABASE_URL',
  drainTimeoutMs: 'KEYWARD_DRAIN_TIMEOUT_MS',
  pepper: 'KEYWARD_PEPPER',
  masterKey: 'KEYWARD_MASTER_KEY',
  rootKeyFile: 'KEYWARD_ROOT_KEY_FILE',
  trustedProxies: 'KEYWARD_TRUSTED_PROXIES',
  callLogKeepQuery: 'KEYWARD_CALL_LOG_KEEP_QUERY',
  callRetentionDays: 'KEYWARD_CALL_RETENTION_DAYS',
  logLevel: 'KEYWARD_LOG_LEVEL',
  verifyCacheTtlMs: 'KEYWARD_VERIFY_CACHE_TTL_MS',
  verifyCacheMaxKeys: 'KEYWARD_VERIFY_CACHE_MAX_KEYS',
  callFlushIntervalMs: 'KEYWARD_CALL_FLUSH_INTERVAL_MS',
  maintenanceIntervalMs: 'KEYWARD_MAINTENANCE_INTERVAL_MS',
  bodyLimitBytes: 'KEYWARD_BODY_LIMIT_BYTES',
  verifyFailuresPerIp: 'KEYWARD_VERIFY_FAILURES_PER_IP',
  verifyFailuresPerPrefix: 'KEYWARD_VERIFY_FAILURES_PER_PREFIX',
  rootKeyFailures: 'KEYWARD_ROOT_KEY_FAILURES',
  rootKeyLockoutSeconds: 'KEYWARD_ROOT_KEY_LOCKOUT_SECONDS',
  webhookAllowPrivate: 'KEYWARD_WEBHOOK_ALLOW_PRIVATE',
  webhookAllowHttp: 'KEYWARD_WEBHOOK_ALLOW_HTTP',
  webhookDispatchIntervalMs: 'KEYWARD_WEBHOOK_DISPATCH_INTERVAL_MS',
  webhookTimeoutMs: 'KEYWARD_WEBHOOK_TIMEOUT_MS',
  eventRetentionDays: 'KEYWARD_EVENT_RETENTION_DAYS',
  consoleIdleMinutes: 'KEYWARD_CONSOLE_IDLE_MINUTES',
  consoleSessionHours: 'KEYWARD_CONSOLE_SESSION_HOURS',
  consoleDir: 'KEYWARD_CONSOLE_DIR',
  githubScanningKeys: 'KEYWARD_GITHUB_SCANNING_KEYS',
  githubScanningKeysFile: 'KEYWARD_GITHUB_SCANNING_KEYS_FILE',
  githubScanningKeysUrl: 'KEYWARD_GITHUB_SCANNING_KEYS_URL',
  githubScanningToken: 'KEYWARD_GITHUB_SCANNING_TOKEN',
  githubScanningKeysTtlMs: 'KEYWARD_GITHUB_SCANNING_KEYS_TTL_MS',
  githubScanningKeysRefetchMs: 'KEYWARD_GITHUB_SCANNING_KEYS_REFETCH_MS',
};

/**
 * Builds the configuration from the environment, then `overrides` (CLI flags). Throws an Error
 * whose message names each bad setting and why; the pepper's value is never echoed.
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: Partial<ConfigInput> = {}): Config {
  const fromEnv: Record<string, unknown> = {};
  for (const [field, variable] of Object.entries(ENVIRONMENT_VARIABLES)) {
    const value = env[variable];
    if (value !== undefined && value !== '') fromEnv[field] = value;
  }
  const result = ConfigSchema.safeParse({ ...fromEnv, ...stripUndefined(overrides) });
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const field = String(issue.path[0] ?? '');
      const variable = ENVIRONMENT_VARIABLES[field as keyof Config];
      return `  ${variable ?? field}${issue.path.length > 1 ? `[${issue.path.slice(1).join('.')}]` : ''}: ${issue.message}`;
    });
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  return { ...result.data, dataDir: resolve(result.data.dataDir) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
