import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { installForDevOverrides, installIntoMirror, installReleaseIntoMirror } from '../provider/terraform/install';
import {
  AuditOrderSchema,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  EVENT_TYPES,
  type EventType,
  LEAK_POLICIES,
  type LeakPolicy,
  MANAGEMENT_SCOPES,
  type ManagementScope,
  UpdateWorkspaceSettingsBodySchema,
  VERIFY_CODES,
  type VerifyCode,
} from '../schema';
import {
  type KeysClient,
  Keyward,
  KeywardError,
  KeywardValidationError,
  type SettingsPatch,
  type WebhookPatch,
} from '../sdk';
import { startServer } from '../server';
import {
  KEY_COLUMNS,
  POLICY_OPTIONS,
  policyFiltersFrom,
  policyFilterUsage,
  policyFrom,
  policyUsage,
  UsageError,
} from './policy-flags';

const FILTER_USAGE = policyFilterUsage();

const HELP = `keyward — API-key management

Usage:
  keyward serve [--port N] [--host H] [--data-dir DIR] [--database-url URL]
  keyward keys create --name NAME [--env live|test] POLICY
  keyward keys list [--status S] [--rotation-due] ${FILTER_USAGE}
  keyward keys show ID
  keyward keys update ID [--if-match VERSION] POLICY
  keyward keys rotate ID [--grace SECONDS]
  keyward keys suspend|resume|revoke ID
  keyward keys retire ID [--grace SECONDS]
  keyward keys due                      keys past their maxAgeDays
  keyward keys report-leak ID|--key-stdin [--found-at URL] [--note TEXT]
                                        the workspace's leak policy acts on an exposed key
  keyward root-keys create|list|show|update|rotate|suspend|resume|revoke|retire ...
  keyward webhooks create ENDPOINT_URL [--description D] [--event TYPE]... [--disabled]
  keyward webhooks list
  keyward webhooks show ID
  keyward webhooks update ID [--endpoint URL] [--description D|none] [--event TYPE|none]... [--enable|--disable]
  keyward webhooks rotate-secret ID [--grace SECONDS]
  keyward webhooks delete ID
  keyward webhooks deliveries ID [--status pending|succeeded|failed] [--limit N]
  keyward webhooks retry ID DELIVERY_ID
  keyward settings show                  the workspace's reminder days and leak policy
  keyward settings update [--rotation-reminder-days D,D…|none] [--expiry-reminder-days D,D…|none]
                          [--leak-policy suspend|revoke|notify]
  keyward verify KEY [--scope S]... [--ip IP] [--method M] [--path P]
  keyward audit [--key-id ID] [--action A] [--order asc|desc]
  keyward audit verify
  keyward calls [--key-id ID] [--code CODE] [--ip IP] [--since ISO] [--limit N]
  keyward terraform install [--mirror DIR]          the provider into a filesystem mirror (default ~/.terraform.d/plugins)
  keyward terraform install --dev-overrides DIR     a launcher in DIR, and the dev_overrides block to use it
  keyward terraform install --release DIR [--mirror DIR]
                                                   a release zip (npm run release:terraform) into the mirror, packed

POLICY (any of): ${policyUsage()}
  A list flag repeats (--scope a:read --scope b:write); \`none\` clears a list or an optional value.

Connection: --url / KEYWARD_URL (default http://127.0.0.1:7070), --root-key / KEYWARD_ROOT_KEY,
  or --profile NAME from $XDG_CONFIG_HOME/keyward/config.json ({"profiles":{"NAME":{"url":"…","rootKey":"…"}}}).
  In a checkout with a local server, the bootstrap key in .keyward/root-key is used when nothing else is set.
Output: tables for people; --json for scripts.`;

const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  'root-key': { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...CONNECTION_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function integerFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Finds the server and root key: flags, then environment, then profile, then a local bootstrap key. */
function connect(values: { url?: string; 'root-key'?: string; profile?: string }, env: NodeJS.ProcessEnv): Keyward {
  let profile: { url?: string; rootKey?: string } = {};
  if (values.profile) {
    const file = join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'keyward', 'config.json');
    if (!existsSync(file)) throw new UsageError(`--profile ${values.profile}: ${file} does not exist`);
    const config = JSON.parse(readFileSync(file, 'utf8')) as {
      profiles?: Record<string, { url?: string; rootKey?: string }>;
    };
    const found = config.profiles?.[values.profile];
    if (!found) throw new UsageError(`--profile ${values.profile}: no such profile in ${file}`);
    profile = found;
  }
  const url = values.url ?? env.KEYWARD_URL ?? profile.url ?? 'http://127.0.0.1:7070';
  const localKeyFile = resolve(env.KEYWARD_DATA_DIR ?? '.keyward', 'root-key');
  const rootKey =
    values['root-key'] ??
    env.KEYWARD_ROOT_KEY ??
    profile.rootKey ??
    (existsSync(localKeyFile) ? readFileSync(localKeyFile, 'utf8').trim() : undefined);
  if (!rootKey) throw new UsageError('no root key: pass --root-key, set KEYWARD_ROOT_KEY, or use --profile');
  return new Keyward({ baseUrl: url, rootKey });
}

type Row = Record<string, unknown>;

function table(rows: Row[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (value: unknown) =>
    value === null || value === undefined ? '-' : Array.isArray(value) ? value.join(',') : String(value);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map((row) => line(columns.map((column) => cell(row[column]))))].join('\n');
}

function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
}

async function collect<T>(iterable: AsyncIterable<T>, max = Number.POSITIVE_INFINITY): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) {
    items.push(item);
    if (items.length >= max) break;
  }
  return items;
}

function requireId(positionals: string[], command: string): string {
  const id = positionals[0];
  if (!id) throw new UsageError(`${command} needs a key id`);
  return id;
}

async function keysCommand(kind: 'keys' | 'root-keys', args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {
    ...POLICY_OPTIONS,
    env: { type: 'string' },
    status: { type: 'string' },
    'rotation-due': { type: 'boolean' },
    grace: { type: 'string' },
    'if-match': { type: 'string' },
    'idempotency-key': { type: 'string' },
    'key-stdin': { type: 'boolean' },
    'found-at': { type: 'string' },
    note: { type: 'string' },
  });
  const client = connect(values, env);
  const keys = (kind === 'keys' ? client.keys : client.rootKeys) as KeysClient<unknown>;
  const json = values.json;
  const showKey = (key: Row, secret?: string) =>
    print(json, key, () => {
      const lines = Object.entries(key)
        .filter(([field]) => field !== 'key')
        .map(
          ([field, value]) =>
            `${field.padEnd(14)} ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`,
        );
      if (secret) lines.unshift(`key            ${secret}`, '               (shown once: store it now)');
      return lines.join('\n');
    });
  switch (sub) {
    case 'create': {
      const policy = policyFrom(values);
      if (!policy.name) throw new UsageError('keys create needs --name');
      if (
        kind === 'root-keys' &&
        policy.scopes?.some((scope) => !(MANAGEMENT_SCOPES as readonly string[]).includes(scope))
      ) {
        throw new UsageError(`--scope for a root key must be one of ${MANAGEMENT_SCOPES.join(', ')}`);
      }
      const spec =
        kind === 'keys'
          ? { ...policy, ...(values.env ? { environment: values.env } : {}) }
          : { ...policy, scopes: (policy.scopes ?? []) as ManagementScope[] };
      const created = await keys.create(
        spec,
        values['idempotency-key'] ? { idempotencyKey: values['idempotency-key'] } : {},
      );
      return showKey(created, created.key);
    }
    case 'list':
    case 'due': {
      const items = await collect(
        keys.list({
          status: values.status as never,
          ...policyFiltersFrom(values),
          rotationDue: sub === 'due' ? true : values['rotation-due'],
        }),
      );
      return print(json, items, () =>
        table(
          items,
          sub === 'due'
            ? ['id', 'name', 'start', 'createdAt', 'maxAgeDays', 'rotationDueAt', 'lastUsedAt']
            : KEY_COLUMNS,
        ),
      );
    }
    case 'show':
      return showKey(await keys.get(requireId(positionals, 'show')));
    case 'update': {
      const ifMatch = integerFlag('if-match', values['if-match']);
      return showKey(
        await keys.update(
          requireId(positionals, 'update'),
          policyFrom(values),
          ifMatch === undefined ? {} : { ifMatch },
        ),
      );
    }
    case 'rotate': {
      const grace = integerFlag('grace', values.grace);
      const created = await keys.rotate(
        requireId(positionals, 'rotate'),
        grace === undefined ? {} : { gracePeriodSeconds: grace },
      );
      return showKey(created, created.key);
    }
    case 'suspend':
    case 'resume':
    case 'revoke':
      return showKey(await keys[sub](requireId(positionals, sub)));
    case 'retire': {
      const grace = integerFlag('grace', values.grace);
      return showKey(
        await keys.retire(requireId(positionals, 'retire'), grace === undefined ? {} : { gracePeriodSeconds: grace }),
      );
    }
    case 'report-leak': {
      // The key itself comes from stdin only, so it never sits in shell history or a process list.
      const id = positionals[0];
      if (Boolean(values['key-stdin']) === (id !== undefined))
        throw new UsageError(`${kind} report-leak needs a key id, or --key-stdin to read the exposed key (not both)`);
      const exposed = values['key-stdin'] ? await readStdin() : undefined;
      if (exposed === '') throw new UsageError('--key-stdin read no key from stdin');
      const report = await keys.reportLeak({
        ...(exposed === undefined ? { keyId: id } : { key: exposed }),
        ...(values['found-at'] === undefined ? {} : { url: values['found-at'] }),
        ...(values.note === undefined ? {} : { note: values.note }),
      });
      return print(
        json,
        report,
        () =>
          `${report.key.id} (${report.key.name}): ${report.previousStatus} -> ${report.key.status} (leak policy: ${report.action})`,
      );
    }
    default:
      throw new UsageError(`unknown command: ${kind} ${sub ?? ''}`.trim());
  }
}

/** Reads a secret piped to stdin (at most 4 KB), trimmed; on a terminal, asks for it first. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Paste the exposed key, then press Ctrl-D:\n');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 4096) throw new UsageError('--key-stdin expects one key, not more than 4 KB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

const WEBHOOK_COLUMNS = ['id', 'url', 'enabled', 'eventTypes', 'description', 'disabledReason', 'createdAt'];
const DELIVERY_COLUMNS = ['id', 'eventType', 'status', 'attemptCount', 'lastStatus', 'nextAttemptAt', 'createdAt'];

/** `--event a --event b` as event types; `--event none` for all types (an empty filter). */
function eventTypesFrom(values: string[] | undefined): EventType[] | undefined {
  if (values === undefined) return undefined;
  if (values.length === 1 && values[0] === 'none') return [];
  for (const value of values)
    if (!(EVENT_TYPES as readonly string[]).includes(value))
      throw new UsageError(`--event must be one of ${EVENT_TYPES.join(', ')}, got ${JSON.stringify(value)}`);
  return values as EventType[];
}

async function webhooksCommand(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {
    endpoint: { type: 'string' },
    description: { type: 'string' },
    event: { type: 'string', multiple: true },
    enable: { type: 'boolean' },
    disable: { type: 'boolean' },
    disabled: { type: 'boolean' },
    grace: { type: 'string' },
    status: { type: 'string' },
    limit: { type: 'string' },
  });
  const webhooks = connect(values, env).webhooks;
  const json = values.json;
  const id = () => {
    const value = positionals[0];
    if (!value) throw new UsageError(`webhooks ${sub} needs a webhook id`);
    return value;
  };
  const show = (hook: Row, secret?: string) =>
    print(json, hook, () => {
      const lines = Object.entries(hook)
        .filter(([field]) => field !== 'secret')
        .map(
          ([field, value]) =>
            `${field.padEnd(19)} ${Array.isArray(value) ? value.join(',') || '(all)' : String(value)}`,
        );
      if (secret) lines.unshift(`secret              ${secret}`, '                    (shown once: store it now)');
      return lines.join('\n');
    });
  switch (sub) {
    case 'create': {
      const url = positionals[0];
      if (!url) throw new UsageError('webhooks create needs the endpoint URL');
      const created = await webhooks.create({
        url,
        ...(values.description === undefined ? {} : { description: values.description }),
        ...(values.event === undefined ? {} : { eventTypes: eventTypesFrom(values.event) }),
        ...(values.disabled ? { enabled: false } : {}),
      });
      return show(created, created.secret);
    }
    case 'list': {
      const items = await collect(webhooks.list());
      return print(json, items, () => table(items, WEBHOOK_COLUMNS));
    }
    case 'show':
      return show(await webhooks.get(id()));
    case 'update': {
      if (values.enable && values.disable) throw new UsageError('pass --enable or --disable, not both');
      const patch: WebhookPatch = {};
      if (values.endpoint !== undefined) patch.url = values.endpoint;
      if (values.description !== undefined)
        patch.description = values.description === 'none' ? null : values.description;
      if (values.event !== undefined) patch.eventTypes = eventTypesFrom(values.event);
      if (values.enable || values.disable) patch.enabled = Boolean(values.enable);
      if (Object.keys(patch).length === 0)
        throw new UsageError('webhooks update needs --endpoint, --description, --event, --enable or --disable');
      return show(await webhooks.update(id(), patch));
    }
    case 'rotate-secret': {
      const grace = integerFlag('grace', values.grace);
      const rotated = await webhooks.rotateSecret(id(), grace === undefined ? {} : { gracePeriodSeconds: grace });
      return show(rotated, rotated.secret);
    }
    case 'delete': {
      const webhookId = id();
      await webhooks.delete(webhookId);
      return print(json, { id: webhookId, deleted: true }, () => `deleted ${webhookId}`);
    }
    case 'deliveries': {
      const status = values.status;
      if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status))
        throw new UsageError(`--status must be one of ${DELIVERY_STATUSES.join(', ')}`);
      const limit = integerFlag('limit', values.limit) ?? 20;
      const items = await collect(
        webhooks.deliveries(id(), { status: status as DeliveryStatus | undefined, pageSize: Math.min(limit, 100) }),
        limit,
      );
      return print(json, items, () =>
        table(
          items.map((delivery) => ({ ...delivery, lastStatus: delivery.attempts.at(-1)?.statusCode ?? null })),
          DELIVERY_COLUMNS,
        ),
      );
    }
    case 'retry': {
      const deliveryId = positionals[1];
      if (!deliveryId) throw new UsageError('webhooks retry needs a webhook id and a delivery id');
      const accepted = await webhooks.retry(id(), deliveryId);
      return print(json, accepted, () => `${accepted.id} is due again (${accepted.status})`);
    }
    default:
      throw new UsageError(`unknown command: webhooks ${sub ?? ''}`.trim());
  }
}

/**
 * `--rotation-reminder-days 14,1,0` as a list of days (`none`: no reminders), checked by the same
 * schema the server applies, so a mistake is named by its flag before any request.
 */
function reminderDaysFrom(flag: 'rotation-reminder-days' | 'expiry-reminder-days', value: string): number[] {
  if (value === 'none') return [];
  const parts = value.split(',').map((part) => part.trim());
  const bad = parts.find((part) => !/^\d{1,6}$/.test(part));
  if (bad !== undefined)
    throw new UsageError(
      `--${flag} must be whole days separated by commas (e.g. 14,1,0), or none; got ${JSON.stringify(bad)}`,
    );
  const days = parts.map(Number);
  const field = flag === 'rotation-reminder-days' ? 'rotationReminderDays' : 'expiryReminderDays';
  const checked = UpdateWorkspaceSettingsBodySchema.shape[field].safeParse(days);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const day = issue?.path.length ? ` (${days[Number(issue.path[0])]})` : '';
    throw new UsageError(`--${flag} ${value}${day}: ${issue?.message ?? 'is invalid'}`);
  }
  return days;
}

async function settingsCommand(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {
    'rotation-reminder-days': { type: 'string' },
    'expiry-reminder-days': { type: 'string' },
    'leak-policy': { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`settings ${sub ?? ''} takes no argument, got ${positionals[0]}`);
  const show = (settings: Row) =>
    print(values.json, settings, () =>
      Object.entries(settings)
        .map(
          ([field, value]) =>
            `${field.padEnd(21)} ${Array.isArray(value) ? value.join(',') || '(none)' : String(value)}`,
        )
        .join('\n'),
    );
  switch (sub) {
    case 'show':
      return show(await connect(values, env).settings.get());
    case 'update': {
      const patch: SettingsPatch = {};
      if (values['rotation-reminder-days'] !== undefined)
        patch.rotationReminderDays = reminderDaysFrom('rotation-reminder-days', values['rotation-reminder-days']);
      if (values['expiry-reminder-days'] !== undefined)
        patch.expiryReminderDays = reminderDaysFrom('expiry-reminder-days', values['expiry-reminder-days']);
      const policy = values['leak-policy'];
      if (policy !== undefined) {
        if (!(LEAK_POLICIES as readonly string[]).includes(policy))
          throw new UsageError(
            `--leak-policy must be one of ${LEAK_POLICIES.join(', ')}, got ${JSON.stringify(policy)}`,
          );
        patch.leakPolicy = policy as LeakPolicy;
      }
      if (Object.keys(patch).length === 0)
        throw new UsageError('settings update needs --rotation-reminder-days, --expiry-reminder-days or --leak-policy');
      return show(await connect(values, env).settings.update(patch));
    }
    default:
      throw new UsageError(`unknown command: settings ${sub ?? ''}`.trim());
  }
}

async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parse(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
  });
  // Listen for stop signals before announcing anything: a supervisor may signal as soon as it reads the banner.
  const stopped = new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => resolveStop());
    process.once('SIGTERM', () => resolveStop());
  });
  const server = await startServer(
    {
      port: integerFlag('port', values.port),
      host: values.host,
      dataDir: values['data-dir'],
      databaseUrl: values['database-url'],
    },
    { env },
  );
  const store = server.store.kind === 'postgres' ? 'Postgres (DATABASE_URL)' : `PGlite in ${server.config.dataDir}`;
  const webConsole = server.consoleUrl ? `; console: ${server.consoleUrl}` : '';
  let banner = `keyward listening on ${server.url}  (store: ${store}; API docs: ${server.url}/docs${webConsole})\n`;
  if (server.bootstrapRootKey) {
    banner +=
      `\nFirst start: created the root key for workspace "default". It is shown only this once:\n\n  ${server.bootstrapRootKey}\n\n` +
      `It was also written to ${server.bootstrapRootKeyFile} (mode 0600).\n\n`;
  }
  // One write, so a reader never sees the banner without the key that belongs to it.
  process.stdout.write(banner);
  await stopped;
  // A stop signal drains: not ready at once, requests in flight finish, buffers are written.
  await server.drain();
  return 0;
}

/** Runs the CLI with the given arguments; returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest, env);
      case 'keys':
      case 'root-keys':
        await keysCommand(command, rest, env);
        return 0;
      case 'webhooks':
        await webhooksCommand(rest, env);
        return 0;
      case 'settings':
        await settingsCommand(rest, env);
        return 0;
      case 'verify': {
        const { values, positionals } = parse(rest, {
          scope: { type: 'string', multiple: true },
          ip: { type: 'string' },
          method: { type: 'string' },
          path: { type: 'string' },
        });
        const key = positionals[0];
        if (!key) throw new UsageError('verify needs the key to check');
        const result = await connect(values, env).verify({
          key,
          scopes: values.scope,
          ip: values.ip,
          method: values.method,
          path: values.path,
        });
        print(
          values.json,
          result,
          () =>
            `${result.code}${result.keyId ? `  key ${result.keyId} (${result.status})` : ''}${result.deprecated ? `  deprecated: rotate to ${result.successorId}` : ''}`,
        );
        return result.valid ? 0 : 3;
      }
      case 'audit': {
        const { values, positionals } = parse(rest, {
          'key-id': { type: 'string' },
          action: { type: 'string' },
          order: { type: 'string' },
        });
        const client = connect(values, env);
        if (positionals[0] === 'verify') {
          const report = await client.audit.verify();
          print(values.json, report, () =>
            report.ok
              ? `audit chain intact: ${report.checked} entries, head ${report.headHash}`
              : `audit chain BROKEN at entry ${report.brokenAt.id} (seq ${report.brokenAt.seq}): ${report.brokenAt.reason}; ${report.checked} entries before it are intact`,
          );
          return report.ok ? 0 : 4;
        }
        if (positionals[0]) throw new UsageError(`unknown command: audit ${positionals[0]}`);
        const order = AuditOrderSchema.safeParse(values.order ?? 'asc');
        if (!order.success)
          throw new UsageError(
            `--order: must be asc (oldest first) or desc (newest first), not ${JSON.stringify(values.order)}`,
          );
        const entries = await collect(
          client.audit.list({ keyId: values['key-id'], action: values.action as never, order: order.data }),
        );
        print(values.json, entries, () =>
          table(entries as unknown as Row[], ['seq', 'at', 'action', 'targetKeyId', 'actorKeyId', 'ip', 'userAgent']),
        );
        return 0;
      }
      case 'calls': {
        const { values } = parse(rest, {
          'key-id': { type: 'string' },
          code: { type: 'string' },
          ip: { type: 'string' },
          since: { type: 'string' },
          limit: { type: 'string' },
        });
        if (values.code && !(VERIFY_CODES as readonly string[]).includes(values.code))
          throw new UsageError(`--code must be one of ${VERIFY_CODES.join(', ')}`);
        const limit = integerFlag('limit', values.limit) ?? 100;
        const calls = await collect(
          connect(values, env).calls.list({
            keyId: values['key-id'],
            code: values.code as VerifyCode | undefined,
            ip: values.ip,
            since: values.since,
          }),
          limit,
        );
        print(values.json, calls, () =>
          table(calls as unknown as Row[], [
            'at',
            'keyId',
            'keyStart',
            'ip',
            'code',
            'scopes',
            'method',
            'path',
            'latencyMs',
          ]),
        );
        return 0;
      }
      case 'terraform': {
        const { values, positionals } = parse(rest, {
          mirror: { type: 'string' },
          'dev-overrides': { type: 'string' },
          release: { type: 'string' },
        });
        if (positionals[0] !== 'install')
          throw new UsageError(`unknown command: terraform ${positionals[0] ?? ''}; try \`keyward terraform install\``);
        if (values.mirror !== undefined && values['dev-overrides'] !== undefined)
          throw new UsageError('--mirror and --dev-overrides are two ways to install: pick one');
        if (values.release !== undefined && values['dev-overrides'] !== undefined)
          throw new UsageError('--release installs into a mirror; dev_overrides takes the launcher only');
        const installed =
          values['dev-overrides'] !== undefined
            ? installForDevOverrides(values['dev-overrides'])
            : values.release !== undefined
              ? installReleaseIntoMirror(values.release, values.mirror)
              : installIntoMirror(values.mirror);
        print(values.json, installed, () =>
          values['dev-overrides'] !== undefined
            ? `Wrote ${installed.path}.\nAdd this to your CLI config (~/.tofurc or ~/.terraformrc, or TF_CLI_CONFIG_FILE); no \`init\` is needed for keyward then:\n\n${installed.cliConfig}`
            : `Installed registry.terraform.io/keyward/keyward ${installed.version} at ${installed.path}.\n` +
              (values.mirror === undefined
                ? 'Terraform and OpenTofu search ~/.terraform.d/plugins on their own: `init` finds it.\n'
                : `To use this mirror, put this in your CLI config (~/.tofurc or ~/.terraformrc, or TF_CLI_CONFIG_FILE):\n\n${installed.cliConfig}`),
        );
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${HELP}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`keyward: ${error.message}\nRun \`keyward help\` for usage.\n`);
      return 2;
    }
    if (error instanceof KeywardValidationError) {
      process.stderr.write(
        `keyward: ${error.message}\n${error.issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n')}\n  (request ${error.requestId})\n`,
      );
      return 1;
    }
    if (error instanceof KeywardError) {
      process.stderr.write(`keyward: ${error.message}${error.requestId ? ` (request ${error.requestId})` : ''}\n`);
      return 1;
    }
    throw error;
  }
}
