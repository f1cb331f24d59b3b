import type { VNode } from 'preact';
import { html } from './html';
import { AuditPage } from './pages/audit';
import { CallsPage } from './pages/calls';
import { KeyDetailPage } from './pages/key-detail';
import { CreateKeyPage, EditKeyPage } from './pages/key-form';
import { API_KEYS, type KeyKindInfo, KeysPage, ROOT_KEYS } from './pages/keys';
import { WebhookDetailPage, WebhooksPage } from './pages/webhooks';
import { WorkspacesPage } from './pages/workspaces';
import { match, type Place } from './router';
import { Empty, Page } from './ui';

/** The pages of one kind of key: list, create, detail and edit. */
function keyPages(info: KeyKindInfo, parts: string[]): VNode | null {
  if (parts.length === 0) return html`<${KeysPage} key=${info.kind} info=${info} />`;
  if (parts.length === 1 && parts[0] === 'new')
    return html`<${CreateKeyPage} key=${`${info.kind}-new`} info=${info} />`;
  if (parts.length === 1) return html`<${KeyDetailPage} key=${parts[0]} info=${info} id=${parts[0]} />`;
  if (parts.length === 2 && parts[1] === 'edit')
    return html`<${EditKeyPage} key=${`${parts[0]}-edit`} info=${info} id=${parts[0]} />`;
  return null;
}

/** The page for a place in the console. */
export function routes(place: Place, hasSections: boolean): VNode {
  if (!hasSections)
    return html`<${Page} title="Nothing to show">
      <${Empty}><p>This root key holds no scope the console can show. Sign in with another root key.</p><//>
    <//>`;
  const path = place.path;
  const apiKeys = match(path, '/console/keys');
  const rootKeys = match(path, '/console/root-keys');
  const webhook = match(path, '/console/webhooks');
  let page: VNode | null = null;
  if (apiKeys) page = keyPages(API_KEYS, apiKeys);
  else if (rootKeys) page = keyPages(ROOT_KEYS, rootKeys);
  else if (path === '/console/calls') page = html`<${CallsPage} />`;
  else if (path === '/console/audit') page = html`<${AuditPage} />`;
  else if (webhook?.length === 0) page = html`<${WebhooksPage} />`;
  else if (webhook?.length === 1) page = html`<${WebhookDetailPage} key=${webhook[0]} id=${webhook[0]} />`;
  else if (path === '/console/workspaces') page = html`<${WorkspacesPage} />`;
  else if (path === '/console') page = html`<${Page} title="keyward console" />`;
  return (
    page ??
    html`<${Page} title="Page not found">
      <${Empty}><p>There is no console page at ${path}. Choose a section above.</p><//>
    <//>`
  );
}
