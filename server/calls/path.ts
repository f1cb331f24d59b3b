import { shortenSecrets } from '../keys/format';

/**
 * The request path as the call log stores it. A query string (and fragment) is dropped unless the
 * operator keeps it (KEYWARD_CALL_LOG_KEEP_QUERY), and a key pasted anywhere in what is kept is
 * cut to its display prefix, so the call log never holds a secret a careless caller sent.
 */
export function callLogPath(path: string, keepQuery: boolean): string {
  let kept = path;
  if (!keepQuery) {
    const query = kept.indexOf('?');
    if (query !== -1) kept = kept.slice(0, query);
    const fragment = kept.indexOf('#');
    if (fragment !== -1) kept = kept.slice(0, fragment);
  }
  return shortenSecrets(kept);
}
