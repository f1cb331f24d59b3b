/*
 * Scope matching. A granted scope covers a requested one when
 *   - it is `*`, or equal to it, or
 *   - its resource and action are equal or `*`, and it has no qualifier, or the requested
 *     qualifier equals it or lies under it (`team/emea` covers `team/emea/sales`).
 * A qualified grant never covers an unqualified request: `contacts:read@team/emea` does not
 * give `contacts:read` on everything.
 */

interface ParsedScope {
  resource: string;
  action: string;
  qualifier: string | undefined;
}

function parseScope(scope: string): ParsedScope | null {
  const at = scope.indexOf('@');
  const base = at === -1 ? scope : scope.slice(0, at);
  const colon = base.indexOf(':');
  if (colon === -1) return null;
  return {
    resource: base.slice(0, colon),
    action: base.slice(colon + 1),
    qualifier: at === -1 ? undefined : scope.slice(at + 1),
  };
}

function covers(grant: ParsedScope, wanted: ParsedScope): boolean {
  if (grant.resource !== '*' && grant.resource !== wanted.resource) return false;
  if (grant.action !== '*' && grant.action !== wanted.action) return false;
  if (grant.qualifier === undefined) return true;
  if (wanted.qualifier === undefined) return false;
  return wanted.qualifier === grant.qualifier || wanted.qualifier.startsWith(`${grant.qualifier}/`);
}

/** A precompiled set of granted scopes. */
export interface ScopeMatcher {
  /** True when every requested scope is covered by some grant. */
  allows(requested: readonly string[]): boolean;
}

/** Requested scopes whose verdict a compiled key remembers, beyond its own grants: requests choose the strings, so memory is bounded. */
const REMEMBERED_VERDICTS = 256;

/** Compiles a key's granted scopes once, so each verification only matches. */
export function compileScopes(granted: readonly string[]): ScopeMatcher {
  if (granted.includes('*')) return { allows: () => true };
  const patterns = granted.map(parseScope).filter((scope): scope is ParsedScope => scope !== null);
  // A key is asked for the same few scopes over and over. A compiled key's grants never change, so
  // each verdict is worked out once (parsing and matching against every grant) and then found with
  // one lookup, as a scope granted word for word is.
  const verdicts = new Map<string, boolean>(granted.map((scope) => [scope, true]));
  const limit = verdicts.size + REMEMBERED_VERDICTS;
  const allowsOne = (scope: string): boolean => {
    let verdict = verdicts.get(scope);
    if (verdict === undefined) {
      const wanted = parseScope(scope);
      verdict = wanted !== null && patterns.some((grant) => covers(grant, wanted));
      if (verdicts.size < limit) verdicts.set(scope, verdict);
    }
    return verdict;
  };
  return { allows: (requested) => requested.every(allowsOne) };
}
