import { useState } from 'preact/hooks';
import type { WebhookDelivery, WebhookEndpoint, WebhookWithSecret } from '../../schema/webhooks';
import { call, fieldMessages, get } from '../api';
import { html } from '../html';
import { EVENT_TYPE_LABELS, EVENT_TYPE_LIST } from '../labels';
import { navigate } from '../router';
import {
  Confirm,
  Empty,
  explain,
  Page,
  Pager,
  SecretReveal,
  Show,
  TableWrap,
  Time,
  useCursorPages,
  useLoaded,
} from '../ui';

/*
 * Webhook endpoints and their deliveries, through /v1/webhooks (webhooks:manage). The signing
 * secret is shown once, when an endpoint is created or its secret rotated.
 */

/** The form that registers an endpoint; the API's messages appear next to the fields they name. */
function CreateWebhook(props: { onCreated: (created: WebhookWithSecret) => void }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const description = String(form.get('description') ?? '').trim();
    setBusy(true);
    setProblem(null);
    try {
      const { data } = await call<WebhookWithSecret>('POST', '/v1/webhooks', {
        body: {
          url: String(form.get('url') ?? '').trim(),
          description: description || null,
          eventTypes: form.getAll('eventTypes').map(String),
        },
      });
      setErrors({});
      props.onCreated(data);
    } catch (error) {
      const byField = fieldMessages(error);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setProblem(explain(error));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card" onSubmit=${submit} novalidate aria-labelledby="new-webhook-title">
    <h2 id="new-webhook-title">Add an endpoint</h2>
    ${problem ? html`<p class="error" role="alert">${problem}</p>` : null}
    <div class="field">
      <label for="webhook-url">URL</label>
      <input
        id="webhook-url"
        name="url"
        type="url"
        placeholder="https://example.com/keyward-events"
        aria-invalid=${errors.url ? 'true' : 'false'}
        aria-describedby=${errors.url ? 'webhook-url-error' : 'webhook-url-help'}
      />
      <p class="help" id="webhook-url-help">Events are POSTed here, signed (Standard Webhooks).</p>
      ${errors.url ? html`<p class="field-error" id="webhook-url-error" role="alert">URL: ${errors.url}</p>` : null}
    </div>
    <div class="field">
      <label for="webhook-description">Description</label>
      <input id="webhook-description" name="description" aria-invalid=${errors.description ? 'true' : 'false'} />
      ${errors.description ? html`<p class="field-error" role="alert">Description: ${errors.description}</p>` : null}
    </div>
    <fieldset>
      <legend>Events to send (none ticked: all of them)</legend>
      <div class="checks">
        ${EVENT_TYPE_LIST.map(
          (type) => html`<label class="check" key=${type}>
            <input type="checkbox" name="eventTypes" value=${type} />
            <span><code>${type}</code> <span class="muted">${EVENT_TYPE_LABELS[type]}</span></span>
          </label>`,
        )}
      </div>
      ${errors.eventTypes ? html`<p class="field-error" role="alert">Events: ${errors.eventTypes}</p>` : null}
    </fieldset>
    <button type="submit" class="primary" disabled=${busy}>${busy ? 'Adding…' : 'Add endpoint'}</button>
  </form>`;
}

/** The endpoints. */
export function WebhooksPage() {
  const loaded = useLoaded(() => get<{ items: WebhookEndpoint[] }>('/v1/webhooks'), []);
  const [created, setCreated] = useState<WebhookWithSecret | null>(null);
  return html`<${Page} title="Webhooks" lead="Endpoints that receive keyward's events, and every delivery to them.">
    ${
      created
        ? html`<${SecretReveal}
          title=${`Endpoint added: ${created.url}`}
          secrets=${[{ label: 'Signing secret', value: created.secret, testId: 'webhook-secret' }]}
        >
          <p><a href=${`/console/webhooks/${encodeURIComponent(created.id)}`}>Show the endpoint and its deliveries</a></p>
        <//>`
        : null
    }
    <${Show} loaded=${loaded} what="the webhook endpoints">
      ${(list: { items: WebhookEndpoint[] }) =>
        list.items.length === 0
          ? html`<${Empty}><p>No endpoints yet. Add one below to be told when keys are created, rotated, revoked or leaked.</p><//>`
          : html`<${TableWrap} label="Webhook endpoints">
              <table>
                <thead>
                  <tr>
                    <th scope="col">URL</th>
                    <th scope="col">Description</th>
                    <th scope="col">Events</th>
                    <th scope="col">State</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  ${list.items.map(
                    (endpoint) => html`<tr key=${endpoint.id}>
                      <td class="name"><a href=${`/console/webhooks/${encodeURIComponent(endpoint.id)}`}>${endpoint.url}</a></td>
                      <td>${endpoint.description ?? html`<span class="muted">—</span>`}</td>
                      <td>${endpoint.eventTypes.length ? endpoint.eventTypes.join(', ') : 'all'}</td>
                      <td>
                        ${endpoint.enabled ? 'Enabled' : html`<strong>Disabled</strong>`}
                        ${endpoint.disabledReason ? html`<div class="muted">${endpoint.disabledReason}</div>` : null}
                      </td>
                      <td><${Time} at=${endpoint.createdAt} /></td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            <//>`}
    <//>
    <${CreateWebhook}
      onCreated=${(endpoint: WebhookWithSecret) => {
        setCreated(endpoint);
        loaded.reload();
      }}
    />
  <//>`;
}

/** One endpoint: its settings, its actions, and its deliveries with their attempts. */
export function WebhookDetailPage(props: { id: string }) {
  const path = `/v1/webhooks/${encodeURIComponent(props.id)}`;
  const loaded = useLoaded(() => get<WebhookEndpoint>(path), [path]);
  const [status, setStatus] = useState('');
  const pages = useCursorPages([status]);
  const deliveries = useLoaded(
    () =>
      get<{ items: WebhookDelivery[]; nextCursor: string | null }>(`${path}/deliveries`, {
        status,
        cursor: pages.cursor,
      }),
    [path, status, pages.cursor],
  );
  const [confirming, setConfirming] = useState<'delete' | 'rotate' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const endpoint = loaded.data;
  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      setConfirming(null);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const toggle = () =>
    act(async () => {
      await call('PATCH', path, { body: { enabled: !endpoint!.enabled } });
      setNotice(
        endpoint!.enabled ? 'The endpoint is disabled: nothing is sent to it.' : 'The endpoint is enabled again.',
      );
      loaded.reload();
    });
  const retry = (deliveryId: string) =>
    act(async () => {
      await call('POST', `${path}/deliveries/${encodeURIComponent(deliveryId)}/retry`);
      setNotice('The delivery will be sent again shortly.');
      deliveries.reload();
    });
  return html`<${Page}
    title=${endpoint ? endpoint.url : 'Webhook endpoint'}
    lead=${endpoint?.description ?? null}
    actions=${
      endpoint
        ? [
            html`<button type="button" onClick=${toggle} disabled=${busy}>${endpoint.enabled ? 'Disable' : 'Enable'}</button>`,
            html`<button type="button" onClick=${() => setConfirming('rotate')}>Rotate secret…</button>`,
            html`<button type="button" class="danger" onClick=${() => setConfirming('delete')}>Delete…</button>`,
          ]
        : null
    }
  >
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    ${error && !confirming ? html`<p class="error" role="alert">${explain(error)}</p>` : null}
    ${
      secret
        ? html`<${SecretReveal} title="New signing secret" secrets=${[{ label: 'Signing secret', value: secret, testId: 'webhook-secret' }]} />`
        : null
    }
    ${
      endpoint && confirming === 'delete'
        ? html`<${Confirm}
          title=${`Delete the endpoint ${endpoint.url}?`}
          confirmLabel="Delete the endpoint"
          danger=${true}
          busy=${busy}
          error=${error}
          onCancel=${() => setConfirming(null)}
          onConfirm=${() =>
            act(async () => {
              await call('DELETE', path);
              navigate('/console/webhooks');
            })}
        >
          <p>Its pending deliveries are dropped and nothing more is sent to it.</p>
        <//>`
        : null
    }
    ${
      endpoint && confirming === 'rotate'
        ? html`<${Confirm}
          title=${`Rotate the signing secret of ${endpoint.url}?`}
          confirmLabel="Rotate the secret"
          busy=${busy}
          error=${error}
          onCancel=${() => setConfirming(null)}
          onConfirm=${() =>
            act(async () => {
              const { data } = await call<WebhookWithSecret>('POST', `${path}/rotate-secret`, { body: {} });
              setSecret(data.secret);
              loaded.reload();
            })}
        >
          <p>A new secret is shown once. The old one keeps signing alongside it for 24 hours.</p>
        <//>`
        : null
    }
    <${Show} loaded=${loaded} what="the endpoint">
      ${(shown: WebhookEndpoint) => html`<section class="card">
        <dl class="policy">
          <dt>State</dt><dd>${shown.enabled ? 'Enabled' : 'Disabled'}${shown.disabledReason ? ` (${shown.disabledReason})` : ''}</dd>
          <dt>Events</dt><dd>${shown.eventTypes.length ? shown.eventTypes.join(', ') : 'all'}</dd>
          <dt>Created</dt><dd><${Time} at=${shown.createdAt} /></dd>
          <dt>Old secret signs until</dt><dd><${Time} at=${shown.previousSecretUntil} empty="no old secret" /></dd>
        </dl>
      </section>`}
    <//>
    <h2>Deliveries</h2>
    <div class="filters">
      <label
        >Status
        <select onChange=${(event: Event) => setStatus((event.currentTarget as HTMLSelectElement).value)}>
          <option value="">Any</option>
          <option value="pending">Pending</option>
          <option value="succeeded">Succeeded</option>
          <option value="failed">Failed</option>
        </select>
      </label>
    </div>
    <${Show} loaded=${deliveries} what="the deliveries">
      ${(page: { items: WebhookDelivery[]; nextCursor: string | null }) =>
        page.items.length === 0
          ? html`<${Empty}><p>No deliveries${status ? ` that are ${status}` : ' yet'}.</p><//>`
          : html`<${TableWrap} label="Deliveries">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Created</th>
                      <th scope="col">Event</th>
                      <th scope="col">Status</th>
                      <th scope="col">Attempts</th>
                      <th scope="col">Last answer</th>
                      <th scope="col">Retry</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${page.items.map((delivery) => {
                      const last = delivery.attempts.at(-1);
                      return html`<tr key=${delivery.id}>
                        <td><${Time} at=${delivery.createdAt} /></td>
                        <td><code>${delivery.eventType}</code></td>
                        <td>${delivery.status}${delivery.nextAttemptAt ? html`<div class="muted">next <${Time} at=${delivery.nextAttemptAt} /></div>` : null}</td>
                        <td>${delivery.attemptCount}</td>
                        <td>${last ? (last.statusCode ?? last.error ?? '—') : html`<span class="muted">not sent yet</span>`}</td>
                        <td>
                          <button type="button" onClick=${() => retry(delivery.id)} disabled=${busy} aria-label=${`Send delivery ${delivery.id} again`}>
                            Send again
                          </button>
                        </td>
                      </tr>`;
                    })}
                  </tbody>
                </table>
              <//>
              <${Pager} pages=${pages} nextCursor=${page.nextCursor} label="Pages of deliveries" />`}
    <//>
  <//>`;
}
