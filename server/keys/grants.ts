import { KeywardError } from '../errors';
import { compileScopes } from '../verify/scopes';

/**
 * The scope-subset rule for credentials a root key mints (root keys, a workspace's first root
 * key): every scope asked for must already be covered by the acting root key's own scopes, with
 * wildcards resolved (`*` covers all). API-key scopes are the customer's resource scopes, not
 * management scopes, so they are outside this rule (docs/security.md).
 */
export function missingGrants(held: readonly string[], wanted: readonly string[]): string[] {
  const matcher = compileScopes(held);
  return [...new Set(wanted)].filter((scope) => !matcher.allows([scope]));
}

/** Throws KW_ERR_SCOPE_ESCALATION naming the scopes the acting root key lacks, if any. */
export function requireGrants(
  held: readonly string[],
  wanted: readonly string[],
  field = 'body.scopes',
  what = 'asks for scopes',
): void {
  const missing = missingGrants(held, wanted);
  if (missing.length === 0) return;
  const reason = `${what} the acting root key does not hold: ${missing.join(', ')}`;
  throw new KeywardError('KW_ERR_SCOPE_ESCALATION', `${field} ${reason}`, {
    issues: [{ path: field, message: reason }],
  });
}
