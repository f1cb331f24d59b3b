import type { ComponentChildren, VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { KeyStatus } from '../schema/keys';
import { ApiError } from './api';
import { html } from './html';

/*
 * The console's shared pieces: page frame, loading, empty and error states in plain words,
 * tables that scroll on a phone, times, badges, copy buttons, one-time secrets and confirmations.
 */

/** What a failed call means to a person, with keyward's own reason where it gave one. */
export function explain(error: unknown): string {
  if (!(error instanceof ApiError)) return `Something went wrong in the console: ${String(error)}`;
  switch (error.status) {
    case 0:
      return error.message;
    case 400:
      return `keyward did not accept this: ${error.message}`;
    case 401:
      return `You are not signed in, or your session has ended (${error.message}). Sign in again.`;
    case 403:
      return `Your root key may not do this: ${error.message}.`;
    case 404:
      return `It was not found: ${error.message}. It may have been deleted, or belong to another workspace.`;
    case 409:
      return `That is not possible now: ${error.message}.`;
    case 412:
      return 'It was changed by someone else since you opened it.';
    case 429:
      return `Too many requests: ${error.message}.${error.retryAfter ? ` Try again in ${error.retryAfter} seconds.` : ''}`;
    default:
      return `keyward could not do this (status ${error.status}): ${error.message}`;
  }
}

/** The state of something loaded from the API. */
export type Loaded<T> =
  | { state: 'loading'; data: T | undefined; error: null; reload(): void }
  | { state: 'ok'; data: T; error: null; reload(): void }
  | { state: 'error'; data: T | undefined; error: unknown; reload(): void };

/** Loads with `load` whenever a dependency changes; an answer that arrives after a newer request is dropped. */
export function useLoaded<T>(load: () => Promise<T>, dependencies: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ state: 'loading' | 'ok' | 'error'; data: T | undefined; error: unknown }>({
    state: 'loading',
    data: undefined,
    error: null,
  });
  const generation = useRef(0);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    generation.current += 1;
    const mine = generation.current;
    setState((previous) => ({ state: 'loading', data: previous.data, error: null }));
    load().then(
      (data) => mine === generation.current && setState({ state: 'ok', data, error: null }),
      (error: unknown) => mine === generation.current && setState({ state: 'error', data: undefined, error }),
    );
  }, [...dependencies, tick]);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { ...state, reload } as Loaded<T>;
}

/** A page: its heading (focused when the page opens, for keyboard and screen-reader users) and title. */
export function Page(props: {
  title: string;
  lead?: ComponentChildren;
  actions?: ComponentChildren;
  children?: ComponentChildren;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · keyward console`;
    heading.current?.focus({ preventScroll: true });
  }, [props.title]);
  return html`<section class="page">
    <header class="page-head">
      <div>
        <h1 tabindex="-1" ref=${heading}>${props.title}</h1>
        ${props.lead ? html`<p class="lead">${props.lead}</p>` : null}
      </div>
      ${props.actions ? html`<div class="actions">${props.actions}</div>` : null}
    </header>
    ${props.children}
  </section>`;
}

/** A loading notice, announced politely. */
export function Loading(props: { what: string }) {
  return html`<p class="state" role="status">Loading ${props.what}…</p>`;
}

/** A load that failed, in words, with a way to try again. */
export function Failed(props: { what: string; error: unknown; retry?: () => void }) {
  return html`<div class="state error" role="alert">
    <p><strong>Could not load ${props.what}.</strong> ${explain(props.error)}</p>
    ${props.retry ? html`<button type="button" onClick=${props.retry}>Try again</button>` : null}
  </div>`;
}

/** Nothing to show, said plainly, with what to do next. */
export function Empty(props: { children: ComponentChildren }) {
  return html`<div class="state empty">${props.children}</div>`;
}

/** Renders a loaded value, or its loading or error state. */
export function Show<T>(props: { loaded: Loaded<T>; what: string; children: (data: T) => VNode | VNode[] | null }) {
  const { loaded } = props;
  if (loaded.state === 'error')
    return html`<${Failed} what=${props.what} error=${loaded.error} retry=${loaded.reload} />`;
  if (loaded.data === undefined) return html`<${Loading} what=${props.what} />`;
  return html`<div aria-busy=${loaded.state === 'loading' ? 'true' : 'false'}>${props.children(loaded.data)}</div>`;
}

/** A table that scrolls sideways on a narrow screen; the scrolling region is reachable with Tab. */
export function TableWrap(props: { label: string; children: ComponentChildren }) {
  return html`<div class="table-wrap" role="region" aria-label=${props.label} tabindex="0">${props.children}</div>`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** An instant in the reader's time zone, machine-readable too. */
export function Time(props: { at: string | null | undefined; empty?: string }) {
  if (!props.at) return html`<span class="muted">${props.empty ?? 'never'}</span>`;
  return html`<time datetime=${props.at} title=${props.at}>${timeFormat.format(new Date(props.at))}</time>`;
}

/** Human words for each key status. */
export const STATUS_LABELS: Record<KeyStatus, string> = {
  active: 'Active',
  suspended: 'Suspended',
  retiring: 'Retiring',
  expired: 'Expired',
  revoked: 'Revoked',
};

/** A key's status as a badge; the word carries the meaning, the colour only repeats it. */
export function StatusBadge(props: { status: KeyStatus }) {
  return html`<span class=${`badge status-${props.status}`}>${STATUS_LABELS[props.status]}</span>`;
}

/** Copies text to the clipboard, and says whether it worked. */
export function CopyButton(props: { text: string; label: string }) {
  const [said, setSaid] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setSaid('Copied.');
    } catch {
      setSaid('Copying is blocked here: select the text and copy it yourself.');
    }
  };
  return html`<span class="copy">
    <button type="button" onClick=${copy}>${props.label}</button>
    <span role="status" class="muted">${said}</span>
  </span>`;
}

/** A secret shown once, with a copy button and a clear warning. */
export function SecretReveal(props: {
  title: string;
  secrets: { label: string; value: string; testId: string }[];
  children?: ComponentChildren;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), []);
  return html`<div class="secret" role="region" aria-labelledby="secret-title" tabindex="-1" ref=${box}>
    <h2 id="secret-title">${props.title}</h2>
    <p class="warning">
      <strong>Copy it now: this is the only time keyward shows it.</strong> keyward keeps only a hash, so nobody
      can show it to you again. If it is lost, rotate the key.
    </p>
    ${props.secrets.map(
      (secret) => html`<div class="secret-row" key=${secret.label}>
        <label>
          <span>${secret.label}</span>
          <input readonly class="mono" value=${secret.value} data-testid=${secret.testId} onFocus=${(event: FocusEvent) => (event.currentTarget as HTMLInputElement).select()} />
        </label>
        <${CopyButton} text=${secret.value} label=${`Copy ${secret.label.toLowerCase()}`} />
      </div>`,
    )}
    ${props.children}
  </div>`;
}

/**
 * A confirmation in a modal <dialog>: focus stays inside it, Escape cancels, and its title names
 * what is about to change.
 */
export function Confirm(props: {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: unknown;
  onConfirm: () => void;
  onCancel: () => void;
  children?: ComponentChildren;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  return html`<dialog ref=${dialog} aria-labelledby="confirm-title" onCancel=${(event: Event) => {
    event.preventDefault();
    props.onCancel();
  }}>
    <form method="dialog" onSubmit=${(event: Event) => {
      event.preventDefault();
      props.onConfirm();
    }}>
      <h2 id="confirm-title">${props.title}</h2>
      ${props.children}
      ${props.error ? html`<p class="error" role="alert">${explain(props.error)}</p>` : null}
      <div class="actions">
        <button type="submit" class=${props.danger ? 'danger' : 'primary'} disabled=${props.busy}>
          ${props.busy ? 'Working…' : props.confirmLabel}
        </button>
        <button type="button" onClick=${props.onCancel}>Cancel</button>
      </div>
    </form>
  </dialog>`;
}

/** Forward paging over a cursor API, with a way back: the cursors of the pages seen are kept. */
export function useCursorPages(resetOn: unknown[]) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setCursors([undefined]), resetOn);
  const cursor = cursors[cursors.length - 1];
  return {
    cursor,
    page: cursors.length,
    next: (nextCursor: string) => setCursors([...cursors, nextCursor]),
    previous: () => setCursors(cursors.slice(0, -1)),
    first: () => setCursors([undefined]),
  };
}

/** Page controls for useCursorPages. */
export function Pager(props: { pages: ReturnType<typeof useCursorPages>; nextCursor: string | null; label: string }) {
  const { pages, nextCursor } = props;
  if (pages.page === 1 && !nextCursor) return null;
  return html`<nav class="pager" aria-label=${props.label}>
    <button type="button" onClick=${pages.first} disabled=${pages.page === 1}>First page</button>
    <button type="button" onClick=${pages.previous} disabled=${pages.page === 1}>Previous page</button>
    <span aria-live="polite">Page ${pages.page}</span>
    <button type="button" onClick=${() => nextCursor && pages.next(nextCursor)} disabled=${!nextCursor}>
      Next page
    </button>
  </nav>`;
}

/** Shortens an id or hash for a table cell; the whole value stays in the title. */
export function Short(props: { value: string | null; length?: number }) {
  if (!props.value) return html`<span class="muted">—</span>`;
  const length = props.length ?? 12;
  const text = props.value.length > length ? `${props.value.slice(0, length)}…` : props.value;
  return html`<code title=${props.value}>${text}</code>`;
}
