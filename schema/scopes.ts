import { z } from 'zod';

/*
 * Scope grammar (documented in docs/scopes.md):
 *   scope      = resource ":" action [ "@" qualifier ]
 *   resource   = name | "*"          action = name | "*"
 *   name       = [a-z0-9][a-z0-9_.-]*  (at most 64 characters)
 *   qualifier  = segment *( "/" segment )   segment = [A-Za-z0-9_.-]+
 * plus the lone "*" which grants everything.
 */
const NAME = '[a-z0-9][a-z0-9_.-]{0,63}';
const SEGMENT = '[A-Za-z0-9_.-]{1,64}';
const QUALIFIER = `${SEGMENT}(?:/${SEGMENT}){0,15}`;

/** Matches a scope that may be granted to a key: wildcards allowed. */
export const GRANTED_SCOPE_PATTERN = new RegExp(`^(?:\\*|(?:${NAME}|\\*):(?:${NAME}|\\*)(?:@${QUALIFIER})?)$`);
/** Matches a scope that a verification may ask for: concrete, no wildcard. */
export const REQUESTED_SCOPE_PATTERN = new RegExp(`^${NAME}:${NAME}(?:@${QUALIFIER})?$`);

/** A scope granted to a key, e.g. `contacts:read`, `contacts:*`, `*:read`, `*`, `contacts:read@team/emea`. */
export const GrantedScopeSchema = z
  .string()
  .max(200)
  .regex(
    GRANTED_SCOPE_PATTERN,
    'must be resource:action[@qualifier], with `*` allowed for resource, action, or the whole scope',
  );

/** A scope a caller needs for one request, e.g. `contacts:export@team/emea`. Wildcards make no sense here. */
export const RequestedScopeSchema = z
  .string()
  .max(200)
  .regex(REQUESTED_SCOPE_PATTERN, 'must be a concrete resource:action[@qualifier] without wildcards');

/** The management scopes a root key can carry. */
export const MANAGEMENT_SCOPES = [
  'keys:read',
  'keys:write',
  'keys:rotate',
  'keys:revoke',
  'verify',
  'audit:read',
  'calls:read',
  'root-keys:manage',
  'workspaces:create',
  'webhooks:manage',
  'settings:manage',
  '*',
] as const;
export type ManagementScope = (typeof MANAGEMENT_SCOPES)[number];
export const ManagementScopeSchema = z.enum(MANAGEMENT_SCOPES);
