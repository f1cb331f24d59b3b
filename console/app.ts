import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ConsoleSession } from '../schema/console';
import { setSessionToken } from './api';
import { html } from './html';
import { SignIn } from './pages/sign-in';
import { navigate, usePlace } from './router';
import { routes } from './routes';
import { can, readSession, SessionContext, signOut } from './session';
import { explain, Failed, Loading } from './ui';

/** The console's frame: who is signed in, the sections the root key may use, and sign-out. */
function Shell(props: { session: ConsoleSession; onSignedOut: (notice: string) => void }) {
  const { session } = props;
  const place = usePlace();
  const [problem, setProblem] = useState<string | null>(null);
  const sections = [
    { path: '/console/keys', label: 'Keys', shown: can(session, 'keys:read') },
    { path: '/console/calls', label: 'Calls', shown: can(session, 'calls:read') },
    { path: '/console/audit', label: 'Audit log', shown: can(session, 'audit:read') },
    { path: '/console/root-keys', label: 'Root keys', shown: can(session, 'root-keys:manage') },
    { path: '/console/webhooks', label: 'Webhooks', shown: can(session, 'webhooks:manage') },
    {
      path: '/console/workspaces',
      label: 'Workspaces',
      shown: session.workspace.operator && can(session, 'workspaces:create'),
    },
  ].filter((section) => section.shown);
  useEffect(() => {
    if (place.path === '/console' && sections[0]) navigate(sections[0].path, { replace: true });
  }, [place.path]);
  const leave = async () => {
    setProblem(null);
    try {
      await signOut();
      props.onSignedOut('You have signed out. The session has ended on the server too.');
    } catch (error) {
      setProblem(`Signing out failed: ${explain(error)}`);
    }
  };
  const page: VNode = routes(place, sections.length > 0);
  return html`<${SessionContext.Provider} value=${session}>
    <a class="skip" href="#main">Skip to the page</a>
    <header class="top">
      <a class="brand" href="/console">keyward</a>
      <nav aria-label="Sections">
        <ul>
          ${sections.map(
            (section) => html`<li key=${section.path}>
              <a href=${section.path} aria-current=${place.path === section.path || place.path.startsWith(`${section.path}/`) ? 'page' : undefined}>${section.label}</a>
            </li>`,
          )}
        </ul>
      </nav>
      <div class="who">
        <span>
          <span class="visually-hidden">Signed in as </span><strong>${session.rootKey.name}</strong>
          <span class="muted"> (${session.rootKey.start}…) in ${session.workspace.name}</span>
        </span>
        <button type="button" onClick=${leave}>Sign out</button>
      </div>
    </header>
    ${problem ? html`<p class="error" role="alert">${problem}</p>` : null}
    <main id="main">${page}</main>
  <//>`;
}

/** The console: the sign-in page until there is a session, then the pages. */
export function App() {
  const [session, setSession] = useState<ConsoleSession | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const ended = (message: string) => {
    setSessionToken(null);
    setSession(null);
    setNotice(`Your session has ended (${message}). Sign in again to go on.`);
  };
  const start = (next: ConsoleSession | null) => {
    setSessionToken(next?.csrfToken ?? null, ended);
    setSession(next);
  };
  const load = () => {
    setFailure(null);
    readSession().then(start, setFailure);
  };
  useEffect(load, []);
  if (failure) return html`<main id="main"><${Failed} what="the console" error=${failure} retry=${load} /></main>`;
  if (session === undefined) return html`<main id="main"><${Loading} what="the console" /></main>`;
  if (session === null)
    return html`<${SignIn}
      notice=${notice}
      onSignedIn=${(next: ConsoleSession) => {
        setNotice(null);
        start(next);
      }}
    />`;
  return html`<${Shell}
    session=${session}
    onSignedOut=${(message: string) => {
      start(null);
      setNotice(message);
    }}
  />`;
}
