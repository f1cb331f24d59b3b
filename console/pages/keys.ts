import type { ApiKey, KeyPage } from '../../schema/keys';
import { get } from '../api';
import { html } from '../html';
import { navigate, usePlace } from '../router';
import { useCan } from '../session';
import {
  Empty,
  Page,
  Pager,
  Show,
  STATUS_LABELS,
  StatusBadge,
  TableWrap,
  Time,
  useCursorPages,
  useLoaded,
} from '../ui';

/** API keys or root keys: where each lives in the API and the console, and its words. */
export interface KeyKindInfo {
  kind: 'api' | 'root';
  api: string;
  path: string;
  noun: string;
  nouns: string;
}

export const API_KEYS: KeyKindInfo = {
  kind: 'api',
  api: '/v1/keys',
  path: '/console/keys',
  noun: 'key',
  nouns: 'keys',
};
export const ROOT_KEYS: KeyKindInfo = {
  kind: 'root',
  api: '/v1/root-keys',
  path: '/console/root-keys',
  noun: 'root key',
  nouns: 'root keys',
};

/** The filters the list takes from the URL: GET /v1/keys's own query parameters. */
const FILTERS = ['name', 'status', 'rotationDue', 'scope'] as const;

/** A key's scopes as a compact list. */
export function Scopes(props: { scopes: string[] }) {
  if (props.scopes.length === 0) return html`<span class="muted">none</span>`;
  return html`<ul class="scopes">
    ${props.scopes.map((scope) => html`<li key=${scope}><code>${scope}</code></li>`)}
  </ul>`;
}

/** The keys table: search by name, filters and paging done by the server, as GET /v1/keys does them. */
export function KeysPage(props: { info: KeyKindInfo }) {
  const { info } = props;
  const can = useCan();
  const place = usePlace();
  const filters = Object.fromEntries(FILTERS.map((name) => [name, place.query.get(name) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const filterKey = FILTERS.map((name) => filters[name]).join('\u0000');
  const pages = useCursorPages([info.kind, filterKey]);
  const loaded = useLoaded(
    () => get<KeyPage>(info.api, { ...filters, cursor: pages.cursor, limit: 50 }),
    [info.kind, filterKey, pages.cursor],
  );
  const filtered = FILTERS.some((name) => filters[name] !== '');
  const canCreate = info.kind === 'root' ? can('root-keys:manage') : can('keys:write');
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const query = new URLSearchParams();
    for (const name of FILTERS) {
      const value = String(form.get(name) ?? '').trim();
      if (value) query.set(name, value);
    }
    const text = query.toString();
    navigate(text ? `${info.path}?${text}` : info.path);
  };
  return html`<${Page}
    title=${info.kind === 'root' ? 'Root keys' : 'API keys'}
    lead=${
      info.kind === 'root'
        ? 'Root keys manage keyward itself: each holds management scopes.'
        : 'Keys your API callers present. Select a key for its policy, callers, calls and audit trail.'
    }
    actions=${canCreate ? html`<a class="button primary" href=${`${info.path}/new`}>Create ${info.noun}</a>` : null}
  >
    <form class="filters" role="search" aria-label=${`Filter ${info.nouns}`} onSubmit=${apply} key=${filterKey}>
      <label>Name starts with<input type="search" name="name" defaultValue=${filters.name} /></label>
      <label
        >Status
        <select name="status">
          <option value="">Any status</option>
          ${Object.entries(STATUS_LABELS).map(
            ([value, label]) => html`<option value=${value} selected=${filters.status === value}>${label}</option>`,
          )}
        </select>
      </label>
      <label
        >Rotation
        <select name="rotationDue">
          <option value="">Due or not</option>
          <option value="true" selected=${filters.rotationDue === 'true'}>Due for rotation</option>
          <option value="false" selected=${filters.rotationDue === 'false'}>Not due</option>
        </select>
      </label>
      <label>Has scope<input name="scope" defaultValue=${filters.scope} placeholder="e.g. contacts:read" /></label>
      <button type="submit">Apply filters</button>
      ${filtered ? html`<a href=${info.path}>Clear filters</a>` : null}
    </form>
    <${Show} loaded=${loaded} what=${info.nouns}>
      ${(page: KeyPage) =>
        page.items.length === 0
          ? html`<${Empty}>
              ${
                filtered
                  ? html`<p>No ${info.nouns} match these filters. <a href=${info.path}>Clear the filters</a> to see all.</p>`
                  : html`<p>
                    There are no ${info.nouns} yet.
                    ${canCreate ? html`<a href=${`${info.path}/new`}>Create the first one.</a>` : null}
                  </p>`
              }
            <//>`
          : html`<${KeysTable} info=${info} keys=${page.items} />
              <${Pager} pages=${pages} nextCursor=${page.nextCursor} label=${`Pages of ${info.nouns}`} />`}
    <//>
  <//>`;
}

/** The table of keys. */
function KeysTable(props: { info: KeyKindInfo; keys: ApiKey[] }) {
  return html`<${TableWrap} label=${props.info.nouns}>
    <table>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Prefix</th>
          <th scope="col">Scopes</th>
          <th scope="col">Status</th>
          <th scope="col">Last used</th>
          <th scope="col">Rotation due</th>
        </tr>
      </thead>
      <tbody>
        ${props.keys.map(
          (key) => html`<tr key=${key.id}>
            <td class="name"><a href=${`${props.info.path}/${encodeURIComponent(key.id)}`}>${key.name}</a></td>
            <td><code>${key.start}…</code></td>
            <td><${Scopes} scopes=${key.scopes} /></td>
            <td><${StatusBadge} status=${key.status} /></td>
            <td>
              <${Time} at=${key.lastUsedAt} />
              ${key.lastUsedIp ? html`<div class="muted">from <code>${key.lastUsedIp}</code></div>` : null}
            </td>
            <td>
              ${key.rotationDue ? html`<span class="due">Due since </span>` : null}<${Time} at=${key.rotationDueAt} />
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
  <//>`;
}
