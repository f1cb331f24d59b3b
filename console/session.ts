import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ConsoleSession } from '../schema/console';
import type { ManagementScope } from '../schema/scopes';
import { ApiError, call } from './api';

/*
 * The console session: signing in sends the pasted root key once, to POST /console/session; the
 * server answers with an HttpOnly cookie the page cannot read, and with the session's CSRF token,
 * kept in memory. The root key itself is not kept anywhere in the browser.
 */

/** The session of this browser, or null when it has none. */
export async function readSession(): Promise<ConsoleSession | null> {
  try {
    return (await call<ConsoleSession>('GET', '/console/session')).data;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/** Signs in with a root key. */
export async function signIn(rootKey: string): Promise<ConsoleSession> {
  return (await call<ConsoleSession>('POST', '/console/session', { body: { rootKey } })).data;
}

/** Signs out: the server ends the session and clears its cookie. */
export async function signOut(): Promise<void> {
  await call('DELETE', '/console/session');
}

/** Whether the session's root key holds a management scope (`*` holds them all). */
export function can(session: ConsoleSession, scope: ManagementScope): boolean {
  return session.rootKey.scopes.includes('*') || session.rootKey.scopes.includes(scope);
}

export const SessionContext = createContext<ConsoleSession | null>(null);

/** The signed-in session, inside the console's pages. */
export function useSession(): ConsoleSession {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

/** Whether the signed-in root key holds a scope. */
export function useCan(): (scope: ManagementScope) => boolean {
  const session = useSession();
  return (scope) => can(session, scope);
}
