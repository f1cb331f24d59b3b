import type { VNode } from 'preact';
import { html } from './html';
import type { Place } from './router';
import { Empty, Page } from './ui';

/** The page for a place in the console. */
export function routes(place: Place, hasSections: boolean): VNode {
  if (!hasSections)
    return html`<${Page} title="Nothing to show">
      <${Empty}><p>This root key holds no scope the console can show. Sign in with another root key.</p><//>
    <//>`;
  return html`<${Page} title="Page not found">
    <${Empty}><p>There is no console page at ${place.path}. Choose a section above.</p><//>
  <//>`;
}
