import type { AuditAction } from '../schema/audit';
import type { ManagementScope } from '../schema/scopes';
import type { VerifyCode } from '../schema/verify';
import type { EventType } from '../schema/webhooks';

/*
 * The console's words for the API's enumerations. Each table is typed as a Record over the
 * schema's own union, so a value added in schema/ fails the console's type check until it has words.
 */

/** What each management scope lets a root key do. */
export const SCOPE_HELP: Record<ManagementScope, string> = {
  'keys:read': 'see API keys',
  'keys:write': 'create, change, suspend and resume API keys',
  'keys:rotate': 'rotate API keys',
  'keys:revoke': 'revoke and retire API keys',
  verify: 'verify API keys (POST /v1/verify)',
  'audit:read': 'read the audit log',
  'calls:read': 'read the call log',
  'root-keys:manage': 'see and manage root keys',
  'workspaces:create': "create and list workspaces (operator's workspace only)",
  'webhooks:manage': 'manage webhook endpoints',
  'settings:manage': "change the workspace's settings",
  '*': 'everything',
};

/** Every management scope, in the order above. */
export const MANAGEMENT_SCOPE_LIST = Object.keys(SCOPE_HELP) as ManagementScope[];

/** How each verification outcome is grouped in charts: allowed, denied by policy, bad key, or limited. */
export const CODE_GROUPS: Record<VerifyCode, 'valid' | 'denied' | 'invalid' | 'limited'> = {
  VALID: 'valid',
  MALFORMED: 'invalid',
  NOT_FOUND: 'invalid',
  REVOKED: 'invalid',
  SUSPENDED: 'denied',
  EXPIRED: 'invalid',
  IP_NOT_ALLOWED: 'denied',
  INSUFFICIENT_SCOPE: 'denied',
  SIGNATURE_REQUIRED: 'denied',
  SIGNATURE_INVALID: 'invalid',
  SIGNATURE_EXPIRED: 'invalid',
  REPLAYED: 'invalid',
  RATE_LIMITED: 'limited',
  BLOCKED: 'limited',
};

/** Every verification code. */
export const VERIFY_CODE_LIST = Object.keys(CODE_GROUPS) as VerifyCode[];

/** The chart's groups, with their words. */
export const CODE_GROUP_LABELS = {
  valid: 'Valid',
  denied: 'Denied by policy (scope, IP, suspended, signature needed)',
  invalid: 'Bad key (unknown, revoked, expired, bad signature)',
  limited: 'Rate limited or blocked',
} as const;

/** What each audit action records. */
export const AUDIT_ACTION_LABELS: Record<AuditAction, string> = {
  'workspace.bootstrap': 'Workspace bootstrapped',
  'workspace.create': 'Workspace created',
  'key.create': 'Key created',
  'key.update': 'Key changed',
  'key.rotate': 'Key rotated',
  'key.suspend': 'Key suspended',
  'key.resume': 'Key resumed',
  'key.revoke': 'Key revoked',
  'key.retire': 'Key retired',
  'root_key.create': 'Root key created',
  'root_key.update': 'Root key changed',
  'root_key.rotate': 'Root key rotated',
  'root_key.suspend': 'Root key suspended',
  'root_key.resume': 'Root key resumed',
  'root_key.revoke': 'Root key revoked',
  'root_key.retire': 'Root key retired',
  'webhook.create': 'Webhook created',
  'webhook.update': 'Webhook changed',
  'webhook.delete': 'Webhook deleted',
  'webhook.rotate_secret': 'Webhook secret rotated',
  'webhook.disable': 'Webhook disabled',
  'webhook.redeliver': 'Webhook delivery retried',
  'workspace.update_settings': 'Settings changed',
  'key.leak': 'Key reported leaked',
  'root_key.leak': 'Root key reported leaked',
  'security.verify_throttled': 'Verifications throttled',
  'security.root_key_lockout': 'Root-key lockout',
};

/** Every audit action. */
export const AUDIT_ACTION_LIST = Object.keys(AUDIT_ACTION_LABELS) as AuditAction[];

/** What each webhook event type announces. */
export const EVENT_TYPE_LABELS: Record<EventType, string> = {
  'key.created': 'a key was created',
  'key.updated': "a key's policy changed",
  'key.rotated': 'a key was rotated',
  'key.suspended': 'a key was suspended',
  'key.resumed': 'a key was resumed',
  'key.revoked': 'a key was revoked',
  'key.retired': 'a key was retired',
  'key.expired': 'a key expired',
  'key.rotation_due': 'a key is due for rotation',
  'key.expiring': 'a key will expire soon',
  'key.leaked': 'a key was reported leaked',
  'security.blocked': 'a source was blocked',
  'webhook.disabled': 'a webhook endpoint was disabled',
};

/** Every event type. */
export const EVENT_TYPE_LIST = Object.keys(EVENT_TYPE_LABELS) as EventType[];
