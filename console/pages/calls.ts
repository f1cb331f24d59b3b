import { useState } from 'preact/hooks';
import type { Call } from '../../schema/calls';
import { get } from '../api';
import { CallsChart } from '../chart';
import { html } from '../html';
import { VERIFY_CODE_LIST } from '../labels';
import { Empty, Page, Pager, Short, Show, TableWrap, Time, useCursorPages, useLoaded } from '../ui';

interface CallPage {
  items: Call[];
  nextCursor: string | null;
}

/** Filters of the call log, as GET /v1/calls takes them. */
interface CallFilters {
  keyId: string;
  code: string;
  ip: string;
}

/**
 * The call log, newest first, with filters by code, IP (and key, for the whole workspace), read
 * from GET /v1/calls or GET /v1/keys/{id}/calls.
 */
export function CallsTable(props: { keyId?: string }) {
  const [filters, setFilters] = useState<CallFilters>({ keyId: '', code: '', ip: '' });
  const filterKey = `${props.keyId ?? ''}|${filters.keyId}|${filters.code}|${filters.ip}`;
  const pages = useCursorPages([filterKey]);
  const loaded = useLoaded(
    () =>
      props.keyId
        ? get<CallPage>(`/v1/keys/${encodeURIComponent(props.keyId)}/calls`, {
            code: filters.code,
            ip: filters.ip,
            cursor: pages.cursor,
            limit: 50,
          })
        : get<CallPage>('/v1/calls', { ...filters, cursor: pages.cursor, limit: 50 }),
    [filterKey, pages.cursor],
  );
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setFilters({
      keyId: String(form.get('keyId') ?? '').trim(),
      code: String(form.get('code') ?? ''),
      ip: String(form.get('ip') ?? '').trim(),
    });
  };
  const filtered = filters.keyId !== '' || filters.code !== '' || filters.ip !== '';
  return html`<div>
    <form class="filters" role="search" aria-label="Filter calls" onSubmit=${apply}>
      ${props.keyId ? null : html`<label>Key id<input name="keyId" defaultValue=${filters.keyId} placeholder="key_…" /></label>`}
      <label
        >Result
        <select name="code">
          <option value="">Any result</option>
          ${VERIFY_CODE_LIST.map((code) => html`<option value=${code} selected=${filters.code === code}>${code}</option>`)}
        </select>
      </label>
      <label>Caller IP<input name="ip" defaultValue=${filters.ip} placeholder="203.0.113.7" /></label>
      <button type="submit">Apply filters</button>
    </form>
    <${Show} loaded=${loaded} what="the calls">
      ${(page: CallPage) =>
        page.items.length === 0
          ? html`<${Empty}>
              <p>
                ${
                  filtered
                    ? 'No calls match these filters.'
                    : props.keyId
                      ? 'This key has not been verified yet, or its calls are past the retention period.'
                      : 'No verifications yet, or they are past the retention period (KEYWARD_CALL_RETENTION_DAYS).'
                }
              </p>
            <//>`
          : html`<${TableWrap} label="Calls">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Time</th>
                      <th scope="col">Caller IP</th>
                      <th scope="col">Result</th>
                      <th scope="col">Method</th>
                      <th scope="col">Path</th>
                      ${props.keyId ? null : html`<th scope="col">Key</th>`}
                    </tr>
                  </thead>
                  <tbody>
                    ${page.items.map(
                      (call) => html`<tr key=${call.id}>
                        <td><${Time} at=${call.at} /></td>
                        <td>${call.ip ? html`<code>${call.ip}</code>` : html`<span class="muted">none given</span>`}</td>
                        <td><code>${call.code}</code></td>
                        <td>${call.method ?? html`<span class="muted">—</span>`}</td>
                        <td>${call.path ? html`<code>${call.path}</code>` : html`<span class="muted">—</span>`}</td>
                        ${
                          props.keyId
                            ? null
                            : html`<td>
                              ${
                                call.keyId
                                  ? html`<a href=${`/console/keys/${encodeURIComponent(call.keyId)}`}>${call.keyStart ?? call.keyId}…</a>`
                                  : html`<${Short} value=${call.keyStart} />`
                              }
                            </td>`
                        }
                      </tr>`,
                    )}
                  </tbody>
                </table>
              <//>
              <${Pager} pages=${pages} nextCursor=${page.nextCursor} label="Pages of calls" />`}
    <//>
  </div>`;
}

/** The workspace's call log and its chart. */
export function CallsPage() {
  return html`<${Page} title="Calls" lead="Every verification in this workspace, newest first, with the caller's IP.">
    <${CallsChart} />
    <h2>Call log</h2>
    <${CallsTable} />
  <//>`;
}
