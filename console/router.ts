import { useEffect, useState } from 'preact/hooks';

/*
 * A small router over the History API: every console page has a real URL under /console, which
 * the server answers with the same document. Links are plain <a href> elements, so they work with
 * the keyboard, open in a new tab, and are announced as links.
 */

/** Where the console is: the path under /console and the query string. */
export interface Place {
  path: string;
  query: URLSearchParams;
}

const listeners = new Set<() => void>();

/** Goes to a console URL without reloading the page. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const listener of listeners) listener();
}

/** The current place; the component renders again whenever it changes. */
export function usePlace(): Place {
  const [, setTick] = useState(0);
  useEffect(() => {
    const changed = () => setTick((tick) => tick + 1);
    listeners.add(changed);
    window.addEventListener('popstate', changed);
    return () => {
      listeners.delete(changed);
      window.removeEventListener('popstate', changed);
    };
  }, []);
  return { path: location.pathname.replace(/\/+$/, '') || '/console', query: new URLSearchParams(location.search) };
}

/** Handles clicks on links to console pages in place, leaving modified clicks to the browser. */
export function interceptLinks(): void {
  document.addEventListener('click', (event) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    const anchor = (event.target as Element | null)?.closest?.('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href);
    if (url.origin !== location.origin || !url.pathname.startsWith('/console')) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}

/** The path's parts after a prefix (`/console/keys/key_1` under `/console/keys` is `['key_1']`), or null. */
export function match(path: string, prefix: string): string[] | null {
  if (path === prefix) return [];
  if (!path.startsWith(`${prefix}/`)) return null;
  return path
    .slice(prefix.length + 1)
    .split('/')
    .map((part) => decodeURIComponent(part));
}
