import type { AuditEntry, AuditOrder, AuditVerification } from '../../schema/audit';
import { get } from '../api';
import { html } from '../html';
import { AUDIT_ACTION_LABELS, AUDIT_ACTION_LIST } from '../labels';
import { navigate, usePlace } from '../router';
import { Empty, Failed, Loading, Page, Pager, Short, Show, TableWrap, Time, useCursorPages, useLoaded } from '../ui';

interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

/** Where an audit entry's target lives in the console. */
function targetLink(entry: AuditEntry) {
  if (!entry.targetKeyId) return html`<span class="muted">—</span>`;
  const base = entry.action.startsWith('root_key.') ? '/console/root-keys' : '/console/keys';
  return html`<a href=${`${base}/${encodeURIComponent(entry.targetKeyId)}`}><code>${entry.targetKeyId}</code></a>`;
}

/** The audit entries, newest first unless asked for chain order, with their changes and hashes. */
export function AuditTable(props: { keyId?: string; action?: string; order?: AuditOrder }) {
  const order = props.order ?? 'desc';
  const filterKey = `${props.keyId ?? ''}|${props.action ?? ''}|${order}`;
  const pages = useCursorPages([filterKey]);
  const loaded = useLoaded(
    () =>
      get<AuditPage>('/v1/audit', {
        keyId: props.keyId,
        action: props.action,
        order,
        cursor: pages.cursor,
        limit: 50,
      }),
    [filterKey, pages.cursor],
  );
  return html`<${Show} loaded=${loaded} what="the audit entries">
    ${(page: AuditPage) =>
      page.items.length === 0
        ? html`<${Empty}><p>No audit entries ${props.keyId || props.action ? 'match these filters' : 'yet'}.</p><//>`
        : html`<${TableWrap} label="Audit entries">
              <table>
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">Time</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">By root key</th>
                    <th scope="col">From</th>
                    <th scope="col">Changes</th>
                    <th scope="col">Hash</th>
                  </tr>
                </thead>
                <tbody>
                  ${page.items.map(
                    (entry) => html`<tr key=${entry.id} data-action=${entry.action}>
                      <td>${entry.seq}</td>
                      <td><${Time} at=${entry.at} /></td>
                      <td>${AUDIT_ACTION_LABELS[entry.action] ?? entry.action} <div class="muted"><code>${entry.action}</code></div></td>
                      <td>${targetLink(entry)}</td>
                      <td>
                        ${
                          entry.actorKeyId
                            ? html`<a href=${`/console/root-keys/${encodeURIComponent(entry.actorKeyId)}`}><code>${entry.actorKeyId}</code></a>`
                            : html`<span class="muted">keyward</span>`
                        }
                      </td>
                      <td>${entry.ip ? html`<code>${entry.ip}</code>` : html`<span class="muted">—</span>`}</td>
                      <td>
                        ${
                          Object.keys(entry.changes).length === 0
                            ? html`<span class="muted">—</span>`
                            : html`<details>
                              <summary>${Object.keys(entry.changes).slice(0, 3).join(', ')}</summary>
                              <pre>${JSON.stringify(entry.changes, null, 2)}</pre>
                            </details>`
                        }
                      </td>
                      <td><${Short} value=${entry.hash} /></td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            <//>
            <${Pager} pages=${pages} nextCursor=${page.nextCursor} label="Pages of audit entries" />`}
  <//>`;
}

/** The hash chain's state, shown first and plainly. */
function ChainStatus() {
  const loaded = useLoaded(() => get<AuditVerification>('/v1/audit/verify'), []);
  if (loaded.state === 'error')
    return html`<${Failed} what="the hash-chain check" error=${loaded.error} retry=${loaded.reload} />`;
  if (!loaded.data) return html`<${Loading} what="the hash-chain check" />`;
  const report = loaded.data;
  if (report.ok)
    return html`<div class="chain intact" role="status" data-testid="chain-status">
      <strong>Hash chain intact.</strong> All ${report.checked} entries were checked: each one's hash matches its
      contents and the entry before it, with none missing. Head hash <${Short} value=${report.headHash} length=${16} />.
      <button type="button" onClick=${loaded.reload}>Check again</button>
    </div>`;
  return html`<div class="chain broken" role="alert" data-testid="chain-status">
    <strong>Hash chain BROKEN at entry ${report.brokenAt?.seq}.</strong> ${report.brokenAt?.reason}. ${report.checked}
    entries before it are intact. The log was changed outside keyward: treat everything from this entry on as suspect.
    <button type="button" onClick=${loaded.reload}>Check again</button>
  </div>`;
}

/** The audit log: chain status, filters by action and key, newest or oldest first, and paging. */
export function AuditPage() {
  const place = usePlace();
  const keyId = place.query.get('keyId') ?? '';
  const action = place.query.get('action') ?? '';
  const order: AuditOrder = place.query.get('order') === 'asc' ? 'asc' : 'desc';
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const query = new URLSearchParams();
    for (const name of ['keyId', 'action']) {
      const value = String(form.get(name) ?? '').trim();
      if (value) query.set(name, value);
    }
    // Newest first is the default; only chain order is written into the address.
    if (form.get('order') === 'asc') query.set('order', 'asc');
    const text = query.toString();
    navigate(text ? `/console/audit?${text}` : '/console/audit');
  };
  return html`<${Page} title="Audit log" lead="Every management action, newest first, each entry chained to the one before it by its SHA-256 hash.">
    <${ChainStatus} />
    <form class="filters" role="search" aria-label="Filter audit entries" onSubmit=${apply} key=${`${keyId}|${action}|${order}`}>
      <label
        >Action
        <select name="action">
          <option value="">Any action</option>
          ${AUDIT_ACTION_LIST.map(
            (name) => html`<option value=${name} selected=${action === name}>${AUDIT_ACTION_LABELS[name]}</option>`,
          )}
        </select>
      </label>
      <label>Key id<input name="keyId" defaultValue=${keyId} placeholder="key_… or rk_…" /></label>
      <label
        >Order
        <select name="order">
          <option value="desc" selected=${order === 'desc'}>Newest first</option>
          <option value="asc" selected=${order === 'asc'}>Oldest first (chain order)</option>
        </select>
      </label>
      <button type="submit">Apply filters</button>
      ${keyId || action || order === 'asc' ? html`<a href="/console/audit">Clear filters</a>` : null}
    </form>
    <${AuditTable} keyId=${keyId || undefined} action=${action || undefined} order=${order} />
  <//>`;
}
