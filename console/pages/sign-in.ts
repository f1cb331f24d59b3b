import { useState } from 'preact/hooks';
import type { ConsoleSession } from '../../schema/console';
import { ApiError } from '../api';
import { html } from '../html';
import { signIn } from '../session';
import { explain } from '../ui';

/** What a failed sign-in means, in words. */
function signInProblem(error: unknown): string {
  if (error instanceof ApiError && error.code === 'KW_ERR_LOCKED_OUT')
    return `Too many failed sign-ins from this address. ${error.message.replace(/^too many failed root-key attempts from this address; /, '')}.`;
  if (error instanceof ApiError && error.status === 401)
    return `That root key was not accepted: ${error.message}. Check that you pasted all of it, and that it is not revoked, suspended or expired.`;
  if (error instanceof ApiError && error.status === 400)
    return `That does not look like a root key: ${error.issues[0]?.message ?? error.message}.`;
  return explain(error);
}

/** The sign-in page: paste a root key; it is sent once and kept nowhere in the browser. */
export function SignIn(props: { notice: string | null; onSignedIn: (session: ConsoleSession) => void }) {
  const [rootKey, setRootKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const session = await signIn(rootKey);
      setRootKey('');
      props.onSignedIn(session);
    } catch (error) {
      setProblem(signInProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return html`<main id="main" class="sign-in">
    <h1>Sign in to keyward</h1>
    ${props.notice ? html`<p class="notice" role="status">${props.notice}</p>` : null}
    <form onSubmit=${submit} novalidate>
      <label for="root-key">Root key</label>
      <input
        id="root-key"
        name="rootKey"
        type="password"
        autocomplete="off"
        spellcheck="false"
        required
        aria-describedby="root-key-help${problem ? ' sign-in-problem' : ''}"
        aria-invalid=${problem ? 'true' : 'false'}
        value=${rootKey}
        onInput=${(event: Event) => setRootKey((event.currentTarget as HTMLInputElement).value)}
      />
      <p id="root-key-help" class="help">
        Paste a root key (<code>kw_root_…</code>). It is sent once to start a session and is not stored in this
        browser. A session ends when it is unused for a while (30 minutes by default) and after 12 hours at most.
      </p>
      ${problem ? html`<p id="sign-in-problem" class="error" role="alert">${problem}</p>` : null}
      <button type="submit" class="primary" disabled=${busy || rootKey.trim() === ''}>
        ${busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  </main>`;
}
