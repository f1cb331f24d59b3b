import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiKey, CreatedKey, UpdatedKey } from '../../schema/keys';
import { ApiError, call } from '../api';
import { html } from '../html';
import { MANAGEMENT_SCOPE_LIST, SCOPE_HELP } from '../labels';
import { navigate } from '../router';
import { useCan } from '../session';
import { Empty, explain, Failed, Loading, Page, SecretReveal } from '../ui';
import type { KeyKindInfo } from './keys';

/*
 * Create and edit a key with the API's own fields. The console checks nothing the API checks: it
 * sends the form, and shows each 400's issues next to the field they name (body.scopes.1 → Scopes),
 * in the API's words. Edits send If-Match with the version the form was filled from.
 */

/** The form's fields, as text the inputs hold. */
interface FormState {
  name: string;
  description: string;
  owner: string;
  environment: 'live' | 'test';
  scopes: string;
  rootScopes: string[];
  ipAllowlist: string;
  expiresAt: string;
  rateLimitCount: string;
  rateLimitWindow: string;
  maxAgeDays: string;
  signedScopes: string;
  requireSignature: boolean;
  metadata: string;
}

const EMPTY: FormState = {
  name: '',
  description: '',
  owner: '',
  environment: 'live',
  scopes: '',
  rootScopes: [],
  ipAllowlist: '',
  expiresAt: '',
  rateLimitCount: '',
  rateLimitWindow: '',
  maxAgeDays: '180',
  signedScopes: '',
  requireSignature: false,
  metadata: '{}',
};

/** An instant as a datetime-local input shows it, in the reader's time zone. */
function localInput(iso: string | null): string {
  if (!iso) return '';
  const at = new Date(iso);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** A key's policy as the form shows it. */
function fromKey(key: ApiKey): FormState {
  return {
    name: key.name,
    description: key.description ?? '',
    owner: key.owner ?? '',
    environment: key.environment,
    scopes: key.scopes.join('\n'),
    rootScopes: key.scopes,
    ipAllowlist: key.ipAllowlist.join('\n'),
    expiresAt: localInput(key.expiresAt),
    rateLimitCount: key.rateLimit ? String(key.rateLimit.limit) : '',
    rateLimitWindow: key.rateLimit ? String(key.rateLimit.windowSeconds) : '',
    maxAgeDays: String(key.maxAgeDays),
    signedScopes: key.signedScopes.join('\n'),
    requireSignature: key.requireSignature,
    metadata: JSON.stringify(key.metadata, null, 2),
  };
}

/** One value per line (or comma-separated). */
function lines(text: string): string[] {
  return text
    .split(/[\n,]+/)
    .map((line) => line.trim())
    .filter(Boolean);
}

/** A number as typed; what is not a number is sent as typed, so the API's message names the field. */
function numberOf(text: string): number | string {
  const value = Number(text);
  return text.trim() !== '' && Number.isFinite(value) ? value : text;
}

/** Each field's value in the request body. `problems` gets what cannot be sent at all (JSON that does not parse). */
function bodyFields(kind: 'api' | 'root', state: FormState, problems: Record<string, string>): Record<string, unknown> {
  let metadata: unknown = {};
  try {
    metadata = JSON.parse(state.metadata.trim() || '{}');
  } catch {
    problems.metadata = 'is not JSON: write an object such as {"team": "crm"}';
  }
  const rateLimit =
    state.rateLimitCount.trim() === '' && state.rateLimitWindow.trim() === ''
      ? null
      : { limit: numberOf(state.rateLimitCount), windowSeconds: numberOf(state.rateLimitWindow) };
  const fields: Record<string, unknown> = {
    name: state.name,
    description: state.description.trim() === '' ? null : state.description,
    owner: state.owner.trim() === '' ? null : state.owner,
    scopes: kind === 'root' ? state.rootScopes : lines(state.scopes),
    ipAllowlist: lines(state.ipAllowlist),
    expiresAt: state.expiresAt === '' ? null : new Date(state.expiresAt).toISOString(),
    rateLimit,
    maxAgeDays: numberOf(state.maxAgeDays),
    signedScopes: lines(state.signedScopes),
    requireSignature: state.requireSignature,
    metadata,
  };
  if (kind === 'api') fields.environment = state.environment;
  return fields;
}

/** The field an API issue names: `body.scopes.1` → `scopes`; anything else is about the form as a whole. */
function fieldOf(path: string): string | null {
  const [where, field] = path.split('.');
  return where === 'body' && field ? field : null;
}

/** A labelled field with its help and its error, wired for screen readers. */
function Field(props: {
  id: string;
  label: string;
  help?: ComponentChildren;
  error?: string | undefined;
  children: (describedBy: string, invalid: 'true' | 'false') => ComponentChildren;
}) {
  const describedBy = [props.help ? `${props.id}-help` : '', props.error ? `${props.id}-error` : '']
    .filter(Boolean)
    .join(' ');
  return html`<div class="field">
    <label for=${props.id}>${props.label}</label>
    ${props.children(describedBy, props.error ? 'true' : 'false')}
    ${props.help ? html`<p class="help" id=${`${props.id}-help`}>${props.help}</p>` : null}
    ${props.error ? html`<p class="field-error" id=${`${props.id}-error`}>${props.label}: ${props.error}</p>` : null}
  </div>`;
}

const FIELD_LABELS: Record<string, string> = {
  name: 'Name',
  description: 'Description',
  owner: 'Owner',
  environment: 'Environment',
  scopes: 'Scopes',
  ipAllowlist: 'IP allowlist',
  expiresAt: 'Expires at',
  rateLimit: 'Rate limit',
  maxAgeDays: 'Rotate after (days)',
  signedScopes: 'Scopes that need a signature',
  requireSignature: 'Require a signature',
  metadata: 'Metadata',
};

/** The create and edit form of a key; `key` is the key being edited. */
function KeyForm(props: {
  info: KeyKindInfo;
  initial: FormState;
  editing: ApiKey | null;
  onSaved: (saved: CreatedKey | UpdatedKey) => void;
  onReload?: () => void;
}) {
  const { info, editing } = props;
  const [state, setState] = useState<FormState>(props.initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<{ text: string; stale: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const summary = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (problem || Object.keys(errors).length > 0) summary.current?.focus();
  }, [problem, errors]);
  const set =
    <Name extends keyof FormState>(name: Name) =>
    (event: Event) => {
      const target = event.currentTarget as HTMLInputElement;
      setState({ ...state, [name]: (target.type === 'checkbox' ? target.checked : target.value) as FormState[Name] });
    };
  const submit = async (event: Event) => {
    event.preventDefault();
    const clientProblems: Record<string, string> = {};
    const fields = bodyFields(info.kind, state, clientProblems);
    setProblem(null);
    if (Object.keys(clientProblems).length > 0) {
      setErrors(clientProblems);
      return;
    }
    let body: Record<string, unknown> = fields;
    if (editing) {
      // Only what changed is sent: a PATCH leaves the rest as it is.
      const before = bodyFields(info.kind, props.initial, {});
      body = Object.fromEntries(
        Object.entries(fields).filter(
          ([name, value]) => name !== 'environment' && JSON.stringify(value) !== JSON.stringify(before[name]),
        ),
      );
      if (Object.keys(body).length === 0) {
        setErrors({});
        setProblem({ text: 'Nothing has changed: edit a field first.', stale: false });
        return;
      }
    } else {
      // A create leaves out what was left empty, so the API's defaults apply.
      for (const name of ['description', 'owner', 'expiresAt', 'rateLimit']) if (body[name] === null) delete body[name];
    }
    setBusy(true);
    try {
      const saved = editing
        ? (await call<UpdatedKey>('PATCH', `${info.api}/${editing.id}`, { body, ifMatch: editing.version })).data
        : (await call<CreatedKey>('POST', info.api, { body })).data;
      setErrors({});
      props.onSaved(saved);
    } catch (error) {
      const byField: Record<string, string> = {};
      const general: string[] = [];
      if (error instanceof ApiError && error.issues.length > 0) {
        for (const issue of error.issues) {
          const field = fieldOf(issue.path);
          if (field && FIELD_LABELS[field])
            byField[field] = byField[field] ? `${byField[field]}; ${issue.message}` : issue.message;
          else general.push(`${issue.path}: ${issue.message}`);
        }
      }
      setErrors(byField);
      if (error instanceof ApiError && error.status === 412)
        setProblem({
          text: `This ${info.noun} was changed by someone else since you opened this form. Reload it to see the changes, then edit again.`,
          stale: true,
        });
      else if (general.length > 0 || Object.keys(byField).length === 0)
        setProblem({ text: general.length > 0 ? general.join('; ') : explain(error), stale: false });
    } finally {
      setBusy(false);
    }
  };
  const fieldErrors = Object.entries(errors);
  const textField = (name: keyof FormState, label: string, help?: ComponentChildren, type = 'text') =>
    html`<${Field} id=${`key-${name}`} label=${label} help=${help} error=${errors[name]}>
      ${(describedBy: string, invalid: string) =>
        html`<input
          id=${`key-${name}`}
          name=${name}
          type=${type}
          value=${state[name] as string}
          onInput=${set(name)}
          aria-describedby=${describedBy || undefined}
          aria-invalid=${invalid}
        />`}
    <//>`;
  const listField = (name: 'scopes' | 'ipAllowlist' | 'signedScopes', label: string, help: ComponentChildren) =>
    html`<${Field} id=${`key-${name}`} label=${label} help=${help} error=${errors[name]}>
      ${(describedBy: string, invalid: string) =>
        html`<textarea
          id=${`key-${name}`}
          name=${name}
          rows="3"
          value=${state[name]}
          onInput=${set(name)}
          aria-describedby=${describedBy || undefined}
          aria-invalid=${invalid}
        ></textarea>`}
    <//>`;
  return html`<form class="card key-form" onSubmit=${submit} novalidate>
    <div ref=${summary} tabindex="-1">
      ${
        problem
          ? html`<div class="state error" role="alert">
            <p>${problem.text}</p>
            ${
              problem.stale && props.onReload
                ? html`<button type="button" onClick=${props.onReload}>Reload the ${info.noun}</button>`
                : null
            }
          </div>`
          : null
      }
      ${
        fieldErrors.length > 0
          ? html`<div class="state error" role="alert">
            <p><strong>The ${info.noun} was not ${editing ? 'saved' : 'created'}.</strong> keyward refused these fields:</p>
            <ul>
              ${fieldErrors.map(
                ([name, message]) =>
                  html`<li key=${name}><a href=${`#key-${name}`}>${FIELD_LABELS[name] ?? name}</a>: ${message}</li>`,
              )}
            </ul>
          </div>`
          : null
      }
    </div>
    ${textField('name', 'Name', 'Who or what uses this key, for people to read.')}
    ${textField('description', 'Description', 'Optional: what the key is for.')}
    ${textField('owner', 'Owner', 'Optional: the team or person responsible, e.g. team-crm.')}
    ${
      info.kind === 'api' && !editing
        ? html`<${Field} id="key-environment" label="Environment" help="Shown in the key's prefix: kw_live_… or kw_test_…" error=${errors.environment}>
          ${(describedBy: string, invalid: string) =>
            html`<select id="key-environment" name="environment" onChange=${set('environment')} aria-describedby=${describedBy} aria-invalid=${invalid}>
              <option value="live" selected=${state.environment === 'live'}>live</option>
              <option value="test" selected=${state.environment === 'test'}>test</option>
            </select>`}
        <//>`
        : null
    }
    ${
      info.kind === 'api'
        ? listField('scopes', 'Scopes', 'One per line, e.g. contacts:read or contacts:*. Empty: no scopes.')
        : html`<fieldset aria-describedby=${errors.scopes ? 'key-scopes-error' : undefined}>
          <legend>Scopes</legend>
          <div class="checks" id="key-scopes">
            ${MANAGEMENT_SCOPE_LIST.map(
              (scope) => html`<label class="check" key=${scope}>
                <input
                  type="checkbox"
                  name="scopes"
                  value=${scope}
                  checked=${state.rootScopes.includes(scope)}
                  onChange=${(event: Event) => {
                    const on = (event.currentTarget as HTMLInputElement).checked;
                    setState({
                      ...state,
                      rootScopes: on ? [...state.rootScopes, scope] : state.rootScopes.filter((held) => held !== scope),
                    });
                  }}
                />
                <span><code>${scope}</code> <span class="muted">${SCOPE_HELP[scope]}</span></span>
              </label>`,
            )}
          </div>
          ${errors.scopes ? html`<p class="field-error" id="key-scopes-error">Scopes: ${errors.scopes}</p>` : null}
        </fieldset>`
    }
    ${listField('ipAllowlist', 'IP allowlist', 'IPv4 or IPv6 CIDRs, one per line. Empty: any address.')}
    ${textField('expiresAt', 'Expires at', 'Optional: when the key stops working, in your time zone.', 'datetime-local')}
    <${Field}
      id="key-rateLimit"
      label="Rate limit"
      help="Optional: at most this many successful verifications per window. Leave both empty for none."
      error=${errors.rateLimit}
    >
      ${(describedBy: string, invalid: string) =>
        html`<div class="inline" id="key-rateLimit" role="group" aria-describedby=${describedBy}>
          <input
            aria-label="Requests"
            name="rateLimitCount"
            inputmode="numeric"
            placeholder="requests"
            value=${state.rateLimitCount}
            onInput=${set('rateLimitCount')}
            aria-invalid=${invalid}
          />
          <input
            aria-label="Per seconds"
            name="rateLimitWindow"
            inputmode="numeric"
            placeholder="per seconds"
            value=${state.rateLimitWindow}
            onInput=${set('rateLimitWindow')}
            aria-invalid=${invalid}
          />
        </div>`}
    <//>
    ${textField('maxAgeDays', 'Rotate after (days)', 'Past this age the key is due for rotation.', 'number')}
    ${
      info.kind === 'api'
        ? html`${listField(
            'signedScopes',
            'Scopes that need a signature',
            'Optional: scopes that count only on a request signed with the key’s signing secret.',
          )}
          <div class="field">
            <label class="check">
              <input type="checkbox" name="requireSignature" checked=${state.requireSignature} onChange=${set('requireSignature')} />
              Require a signature on every request with this key
            </label>
            ${errors.requireSignature ? html`<p class="field-error">${errors.requireSignature}</p>` : null}
          </div>`
        : null
    }
    <${Field} id="key-metadata" label="Metadata" help="A JSON object returned with every successful verification." error=${errors.metadata}>
      ${(describedBy: string, invalid: string) =>
        html`<textarea
          id="key-metadata"
          name="metadata"
          class="mono"
          rows="4"
          value=${state.metadata}
          onInput=${set('metadata')}
          aria-describedby=${describedBy || undefined}
          aria-invalid=${invalid}
        ></textarea>`}
    <//>
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>
        ${busy ? 'Saving…' : editing ? 'Save changes' : `Create ${info.noun}`}
      </button>
      <a href=${editing ? `${info.path}/${editing.id}` : info.path}>Cancel</a>
    </div>
  </form>`;
}

/** The scope a root key needs to create or change keys of this kind. */
function writeScope(info: KeyKindInfo) {
  return info.kind === 'root' ? ('root-keys:manage' as const) : ('keys:write' as const);
}

/** The create page: the form, then the secret, once. */
export function CreateKeyPage(props: { info: KeyKindInfo }) {
  const { info } = props;
  const can = useCan();
  const [created, setCreated] = useState<CreatedKey | null>(null);
  if (!can(writeScope(info)))
    return html`<${Page} title=${`Create ${info.noun === 'key' ? 'an API key' : 'a root key'}`}>
      <${Empty}><p>Your root key cannot create ${info.nouns}: it lacks the ${writeScope(info)} scope.</p><//>
    <//>`;
  const initial = info.kind === 'root' ? { ...EMPTY, rootScopes: ['keys:read'] } : EMPTY;
  if (created)
    return html`<${Page} title=${`${info.noun[0]!.toUpperCase()}${info.noun.slice(1)} created: ${created.name}`}>
      <${SecretReveal}
        title="Your new secret"
        secrets=${[
          { label: 'Key', value: created.key, testId: 'new-key-secret' },
          ...(created.signingSecret
            ? [{ label: 'Signing secret', value: created.signingSecret, testId: 'new-signing-secret' }]
            : []),
        ]}
      >
        <p><a class="button primary" href=${`${info.path}/${created.id}`}>I have stored it: show the ${info.noun}</a></p>
      <//>
    <//>`;
  return html`<${Page} title=${`Create ${info.noun === 'key' ? 'an API key' : 'a root key'}`}>
    <${KeyForm} info=${info} initial=${initial} editing=${null} onSaved=${(saved: CreatedKey) => setCreated(saved)} />
  <//>`;
}

/** The edit page: the form filled from the key as it is now, saved with If-Match. */
export function EditKeyPage(props: { info: KeyKindInfo; id: string }) {
  const { info, id } = props;
  const can = useCan();
  const [loaded, setLoaded] = useState<{ key: ApiKey; generation: number } | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [signingSecret, setSigningSecret] = useState<string | null>(null);
  const load = () => {
    setFailure(null);
    call<ApiKey>('GET', `${info.api}/${encodeURIComponent(id)}`).then(
      ({ data }) => setLoaded((previous) => ({ key: data, generation: (previous?.generation ?? 0) + 1 })),
      setFailure,
    );
  };
  useEffect(load, [id]);
  if (!can(writeScope(info)))
    return html`<${Page} title=${`Edit ${info.noun}`}>
      <${Empty}><p>Your root key cannot change ${info.nouns}: it lacks the ${writeScope(info)} scope.</p><//>
    <//>`;
  if (failure)
    return html`<${Page} title=${`Edit ${info.noun}`}><${Failed} what=${`the ${info.noun}`} error=${failure} retry=${load} /><//>`;
  if (!loaded) return html`<${Page} title=${`Edit ${info.noun}`}><${Loading} what=${`the ${info.noun}`} /><//>`;
  if (signingSecret)
    return html`<${Page} title=${`Saved: ${loaded.key.name}`}>
      <${SecretReveal} title="The key's new signing secret" secrets=${[{ label: 'Signing secret', value: signingSecret, testId: 'new-signing-secret' }]}>
        <p><a class="button primary" href=${`${info.path}/${id}`}>I have stored it: show the ${info.noun}</a></p>
      <//>
    <//>`;
  return html`<${Page} title=${`Edit ${loaded.key.name}`} lead=${`Version ${loaded.key.version}. Saving checks that nobody changed it meanwhile.`}>
    <${KeyForm}
      key=${loaded.generation}
      info=${info}
      initial=${fromKey(loaded.key)}
      editing=${loaded.key}
      onReload=${load}
      onSaved=${(saved: UpdatedKey) => {
        if (saved.signingSecret) setSigningSecret(saved.signingSecret);
        else navigate(`${info.path}/${id}`);
      }}
    />
  <//>`;
}
