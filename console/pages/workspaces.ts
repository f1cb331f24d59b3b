import { useState } from 'preact/hooks';
import type { CreatedWorkspace, Workspace } from '../../schema/workspaces';
import { call, fieldMessages, get } from '../api';
import { html } from '../html';
import { MANAGEMENT_SCOPE_LIST, SCOPE_HELP } from '../labels';
import { Empty, explain, Page, SecretReveal, Show, TableWrap, Time, useLoaded } from '../ui';

/** Workspaces (tenants), for root keys of the operator's workspace: the list, and a new one with its first root key. */
export function WorkspacesPage() {
  const loaded = useLoaded(() => get<{ items: Workspace[] }>('/v1/workspaces'), []);
  const [created, setCreated] = useState<CreatedWorkspace | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const scopes = form.getAll('rootKeyScopes').map(String);
    setBusy(true);
    setProblem(null);
    try {
      const { data } = await call<CreatedWorkspace>('POST', '/v1/workspaces', {
        body: { name: String(form.get('name') ?? '').trim(), ...(scopes.length ? { rootKeyScopes: scopes } : {}) },
      });
      setErrors({});
      setCreated(data);
      loaded.reload();
    } catch (error) {
      const byField = fieldMessages(error);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setProblem(explain(error));
    } finally {
      setBusy(false);
    }
  };
  return html`<${Page} title="Workspaces" lead="Tenants: each has its own keys, root keys, audit chain and call log.">
    ${
      created
        ? html`<${SecretReveal}
          title=${`Workspace ${created.workspace.name} created, with its first root key`}
          secrets=${[{ label: 'Root key', value: created.rootKey.key, testId: 'workspace-root-key' }]}
        />`
        : null
    }
    <${Show} loaded=${loaded} what="the workspaces">
      ${(list: { items: Workspace[] }) =>
        list.items.length === 0
          ? html`<${Empty}><p>No workspaces.</p><//>`
          : html`<${TableWrap} label="Workspaces">
              <table>
                <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Created</th></tr></thead>
                <tbody>
                  ${list.items.map(
                    (workspace, index) => html`<tr key=${workspace.id}>
                      <td>${workspace.name}${index === 0 ? html` <span class="muted">(the operator's)</span>` : null}</td>
                      <td><code>${workspace.id}</code></td>
                      <td><${Time} at=${workspace.createdAt} /></td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            <//>`}
    <//>
    <form class="card" onSubmit=${submit} novalidate aria-labelledby="new-workspace-title">
      <h2 id="new-workspace-title">Create a workspace</h2>
      ${problem ? html`<p class="error" role="alert">${problem}</p>` : null}
      <div class="field">
        <label for="workspace-name">Name</label>
        <input
          id="workspace-name"
          name="name"
          aria-invalid=${errors.name ? 'true' : 'false'}
          aria-describedby=${errors.name ? 'workspace-name-error' : 'workspace-name-help'}
        />
        <p class="help" id="workspace-name-help">Lower-case letters, digits and dashes, e.g. acme-prod.</p>
        ${errors.name ? html`<p class="field-error" id="workspace-name-error" role="alert">Name: ${errors.name}</p>` : null}
      </div>
      <fieldset>
        <legend>Scopes of its first root key (none ticked: all)</legend>
        <div class="checks">
          ${MANAGEMENT_SCOPE_LIST.map(
            (scope) => html`<label class="check" key=${scope}>
              <input type="checkbox" name="rootKeyScopes" value=${scope} />
              <span><code>${scope}</code> <span class="muted">${SCOPE_HELP[scope]}</span></span>
            </label>`,
          )}
        </div>
        ${errors.rootKeyScopes ? html`<p class="field-error" role="alert">Scopes: ${errors.rootKeyScopes}</p>` : null}
      </fieldset>
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating…' : 'Create workspace'}</button>
    </form>
  <//>`;
}
