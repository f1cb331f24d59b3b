import { useState } from 'preact/hooks';
import type { CallerList } from '../../schema/calls';
import type { ApiKey, CreatedKey } from '../../schema/keys';
import { call, get } from '../api';
import { CallsChart } from '../chart';
import { html } from '../html';
import { useCan } from '../session';
import { Confirm, Empty, Page, SecretReveal, Show, StatusBadge, TableWrap, Time, useLoaded } from '../ui';
import { AuditTable } from './audit';
import { CallsTable } from './calls';
import { type KeyKindInfo, Scopes } from './keys';

/** Grace periods offered when rotating or retiring a key, in seconds. */
const GRACE_CHOICES: { seconds: number; label: string }[] = [
  { seconds: 0, label: 'None: the old key stops at once' },
  { seconds: 900, label: '15 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 7 * 86_400, label: '7 days' },
  { seconds: 30 * 86_400, label: '30 days' },
  { seconds: 90 * 86_400, label: '90 days' },
];

type Action = 'rotate' | 'suspend' | 'resume' | 'revoke' | 'retire';

/** A key's policy, field by field. */
function Policy(props: { apiKey: ApiKey }) {
  const key = props.apiKey;
  const none = html`<span class="muted">none</span>`;
  return html`<dl class="policy">
    <dt>Id</dt><dd><code>${key.id}</code></dd>
    <dt>Prefix</dt><dd><code>${key.start}…</code> (${key.environment})</dd>
    <dt>Description</dt><dd>${key.description ?? none}</dd>
    <dt>Owner</dt><dd>${key.owner ?? none}</dd>
    <dt>Scopes</dt><dd><${Scopes} scopes=${key.scopes} /></dd>
    <dt>IP allowlist</dt><dd>${key.ipAllowlist.length ? html`<${Scopes} scopes=${key.ipAllowlist} />` : html`<span class="muted">any address</span>`}</dd>
    <dt>Expires</dt><dd><${Time} at=${key.expiresAt} empty="never" /></dd>
    <dt>Rate limit</dt><dd>${key.rateLimit ? `${key.rateLimit.limit} per ${key.rateLimit.windowSeconds} s` : none}</dd>
    <dt>Rotation due</dt>
    <dd>
      ${key.rotationDue ? html`<span class="due">Due now. </span>` : null}<${Time} at=${key.rotationDueAt} />
      <span class="muted"> (after ${key.maxAgeDays} days)</span>
    </dd>
    <dt>Signature</dt>
    <dd>
      ${
        key.requireSignature
          ? 'required on every request'
          : key.signedScopes.length
            ? html`needed for <${Scopes} scopes=${key.signedScopes} />`
            : 'not used'
      }
    </dd>
    <dt>Metadata</dt><dd>${Object.keys(key.metadata).length ? html`<pre>${JSON.stringify(key.metadata, null, 2)}</pre>` : none}</dd>
    <dt>Created</dt><dd><${Time} at=${key.createdAt} /></dd>
    <dt>Last changed</dt><dd><${Time} at=${key.updatedAt} /> <span class="muted">(version ${key.version})</span></dd>
    <dt>Last used</dt>
    <dd><${Time} at=${key.lastUsedAt} />${key.lastUsedIp ? html` from <code>${key.lastUsedIp}</code>` : null}</dd>
  </dl>`;
}

/** A link to another key of the chain, by its name once loaded. */
function ChainLink(props: { info: KeyKindInfo; id: string }) {
  const loaded = useLoaded(() => get<ApiKey>(`${props.info.api}/${encodeURIComponent(props.id)}`), [props.id]);
  const label = loaded.data ? `${loaded.data.name} (${loaded.data.start}…)` : props.id;
  return html`<a href=${`${props.info.path}/${encodeURIComponent(props.id)}`}>${label}</a>
    ${loaded.data ? html` <${StatusBadge} status=${loaded.data.status} />` : null}`;
}

/** The rotation chain: what this key replaced and what replaces it. */
function Chain(props: { info: KeyKindInfo; apiKey: ApiKey }) {
  const key = props.apiKey;
  return html`<dl class="policy">
    <dt>Replaces</dt>
    <dd>${key.predecessorId ? html`<${ChainLink} info=${props.info} id=${key.predecessorId} />` : html`<span class="muted">nothing: it was created, not rotated</span>`}</dd>
    <dt>Replaced by</dt>
    <dd>${key.successorId ? html`<${ChainLink} info=${props.info} id=${key.successorId} />` : html`<span class="muted">nothing yet</span>`}</dd>
    ${
      key.graceUntil
        ? html`<dt>Works until</dt><dd><${Time} at=${key.graceUntil} /> <span class="muted">(end of the grace period)</span></dd>`
        : null
    }
  </dl>`;
}

/**
 * Who still uses the key, from where: each caller IP with its latest call. While the key is
 * retiring, counted from when it started retiring: these are the callers still to move over.
 */
function Callers(props: { apiKey: ApiKey }) {
  const key = props.apiKey;
  const retiring = key.status === 'retiring';
  const since = retiring ? key.updatedAt : undefined;
  const loaded = useLoaded(
    () => get<CallerList>(`/v1/keys/${encodeURIComponent(key.id)}/callers`, { since }),
    [key.id, since],
  );
  return html`<section class="card" aria-labelledby="callers-title" data-testid="callers">
    <h2 id="callers-title">${retiring ? 'Who still uses the old key' : 'Callers in the last 7 days'}</h2>
    ${
      retiring
        ? html`<p class="muted">Callers since the key started retiring (<${Time} at=${key.updatedAt} />). Each must move to the new key before <${Time} at=${key.graceUntil} />.</p>`
        : null
    }
    <${Show} loaded=${loaded} what="the callers">
      ${(list: CallerList) =>
        list.items.length === 0
          ? html`<${Empty}><p>${retiring ? 'Nobody has used the old key since it started retiring.' : 'No calls in this period.'}</p><//>`
          : html`<${TableWrap} label="Callers">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Caller IP</th>
                    <th scope="col">Last call</th>
                    <th scope="col">Result</th>
                    <th scope="col">Request</th>
                    <th scope="col">Calls</th>
                  </tr>
                </thead>
                <tbody>
                  ${list.items.map(
                    (caller) => html`<tr key=${caller.ip ?? 'none'}>
                      <td>${caller.ip ? html`<code>${caller.ip}</code>` : html`<span class="muted">no IP given</span>`}</td>
                      <td><${Time} at=${caller.lastAt} /></td>
                      <td><code>${caller.lastCode}</code></td>
                      <td>${caller.lastMethod ?? ''} ${caller.lastPath ? html`<code>${caller.lastPath}</code>` : null}</td>
                      <td>${caller.calls}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            <//>
            ${list.truncated ? html`<p class="muted">Only the ${list.items.length} most recent callers are shown.</p>` : null}`}
    <//>
  </section>`;
}

/** The confirmation of one action, naming the key. */
function ActionDialog(props: {
  info: KeyKindInfo;
  apiKey: ApiKey;
  action: Action;
  onDone: (created: CreatedKey | null) => void;
  onCancel: () => void;
}) {
  const { info, apiKey: key, action } = props;
  const [grace, setGrace] = useState(action === 'rotate' ? 86_400 : 0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const named = `${info.noun} “${key.name}” (${key.start}…)`;
  const words: Record<Action, { title: string; confirm: string; text: string; danger: boolean }> = {
    rotate: {
      title: `Rotate ${named}?`,
      confirm: `Rotate ${key.name}`,
      text: 'A new key with the same policy is issued and shown once. The old key keeps working for the grace period, then expires.',
      danger: false,
    },
    suspend: {
      title: `Suspend ${named}?`,
      confirm: `Suspend ${key.name}`,
      text: 'Every verification with it fails (SUSPENDED) until it is resumed.',
      danger: true,
    },
    resume: {
      title: `Resume ${named}?`,
      confirm: `Resume ${key.name}`,
      text: 'It works again, as before it was suspended.',
      danger: false,
    },
    revoke: {
      title: `Revoke ${named}?`,
      confirm: `Revoke ${key.name}`,
      text: 'It stops working at once, for good. This cannot be undone.',
      danger: true,
    },
    retire: {
      title: `Retire ${named}?`,
      confirm: `Retire ${key.name}`,
      text: 'It keeps working for the grace period, then expires. No successor is issued.',
      danger: true,
    },
  };
  const said = words[action];
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const path = `${info.api}/${encodeURIComponent(key.id)}`;
      if (action === 'rotate') {
        const { data } = await call<CreatedKey>('POST', `${path}/rotate`, { body: { gracePeriodSeconds: grace } });
        props.onDone(data);
      } else if (action === 'retire') {
        await call('DELETE', path, { query: { gracePeriodSeconds: grace } });
        props.onDone(null);
      } else {
        await call('POST', `${path}/${action}`);
        props.onDone(null);
      }
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return html`<${Confirm}
    title=${said.title}
    confirmLabel=${said.confirm}
    danger=${said.danger}
    busy=${busy}
    error=${error}
    onConfirm=${run}
    onCancel=${props.onCancel}
  >
    <p>${said.text}</p>
    ${
      action === 'rotate' || action === 'retire'
        ? html`<div class="field">
          <label for="grace">Grace period for the old key</label>
          <select id="grace" name="grace" onChange=${(event: Event) => setGrace(Number((event.currentTarget as HTMLSelectElement).value))}>
            ${GRACE_CHOICES.map(
              (choice) =>
                html`<option value=${choice.seconds} selected=${choice.seconds === grace}>${choice.label}</option>`,
            )}
          </select>
        </div>`
        : null
    }
  <//>`;
}

/** A key's page: its policy and chain, then who calls it, its calls, and its audit trail. */
export function KeyDetailPage(props: { info: KeyKindInfo; id: string }) {
  const { info, id } = props;
  const can = useCan();
  const loaded = useLoaded(() => get<ApiKey>(`${info.api}/${encodeURIComponent(id)}`), [info.api, id]);
  const [action, setAction] = useState<Action | null>(null);
  const [rotated, setRotated] = useState<CreatedKey | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const key = loaded.data;
  const write = info.kind === 'root' ? can('root-keys:manage') : can('keys:write');
  const rotate = info.kind === 'root' ? can('root-keys:manage') : can('keys:rotate');
  const revoke = info.kind === 'root' ? can('root-keys:manage') : can('keys:revoke');
  const live = key && key.status !== 'revoked' && key.status !== 'expired';
  const buttons = key
    ? [
        write && live
          ? html`<a class="button" href=${`${info.path}/${encodeURIComponent(key.id)}/edit`}>Edit</a>`
          : null,
        rotate && (key.status === 'active' || key.status === 'suspended') && !key.successorId
          ? html`<button type="button" class="primary" onClick=${() => setAction('rotate')}>Rotate…</button>`
          : null,
        write && (key.status === 'active' || key.status === 'retiring')
          ? html`<button type="button" onClick=${() => setAction('suspend')}>Suspend…</button>`
          : null,
        write && key.status === 'suspended'
          ? html`<button type="button" onClick=${() => setAction('resume')}>Resume…</button>`
          : null,
        revoke && (key.status === 'active' || key.status === 'suspended')
          ? html`<button type="button" onClick=${() => setAction('retire')}>Retire…</button>`
          : null,
        revoke && live
          ? html`<button type="button" class="danger" onClick=${() => setAction('revoke')}>Revoke…</button>`
          : null,
      ].filter(Boolean)
    : [];
  return html`<${Page}
    title=${key ? key.name : `${info.noun[0]!.toUpperCase()}${info.noun.slice(1)} ${id}`}
    lead=${key ? html`<${StatusBadge} status=${key.status} /> <code>${key.start}…</code>` : null}
    actions=${buttons.length ? buttons : null}
  >
    ${done ? html`<p class="notice" role="status">${done}</p>` : null}
    ${
      rotated
        ? html`<${SecretReveal}
          title=${`New key issued: ${rotated.name}`}
          secrets=${[
            { label: 'Key', value: rotated.key, testId: 'new-key-secret' },
            ...(rotated.signingSecret
              ? [{ label: 'Signing secret', value: rotated.signingSecret, testId: 'new-signing-secret' }]
              : []),
          ]}
        >
          <p>
            <a href=${`${info.path}/${encodeURIComponent(rotated.id)}`}>Go to the new key</a>. Give it to the key's callers, then
            watch “Who still uses the old key” below empty out.
          </p>
        <//>`
        : null
    }
    ${
      key && action
        ? html`<${ActionDialog}
          info=${info}
          apiKey=${key}
          action=${action}
          onCancel=${() => setAction(null)}
          onDone=${(created: CreatedKey | null) => {
            setAction(null);
            setRotated(created);
            setDone(created ? null : `${key.name}: ${action} done.`);
            loaded.reload();
          }}
        />`
        : null
    }
    <${Show} loaded=${loaded} what=${`the ${info.noun}`}>
      ${(shown: ApiKey) => html`<div>
        <section class="card" aria-labelledby="policy-title">
          <h2 id="policy-title">Policy</h2>
          <${Policy} apiKey=${shown} />
        </section>
        <section class="card" aria-labelledby="chain-title">
          <h2 id="chain-title">Rotation chain</h2>
          <${Chain} info=${info} apiKey=${shown} />
        </section>
        ${
          info.kind === 'api' && can('calls:read')
            ? html`<${Callers} apiKey=${shown} />
              <${CallsChart} keyId=${shown.id} />
              <section class="card" aria-labelledby="calls-title">
                <h2 id="calls-title">Calls</h2>
                <${CallsTable} keyId=${shown.id} />
              </section>`
            : null
        }
        ${
          can('audit:read')
            ? html`<section class="card" aria-labelledby="audit-title">
              <h2 id="audit-title">Audit entries for this ${info.noun}</h2>
              <${AuditTable} keyId=${shown.id} />
            </section>`
            : null
        }
      </div>`}
    <//>
  <//>`;
}
