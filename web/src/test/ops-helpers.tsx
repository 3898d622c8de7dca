// Test helpers for the operator pages: a fetch stand-in that answers by "METHOD /path" and
// records every request, and a render inside a signed-in session (and a location, for pages
// that navigate).
import type { ComponentChildren } from 'preact';
import { render } from '@testing-library/preact';
import { LocationProvider } from 'preact-iso';
import { vi } from 'vitest';
import { SessionContext, type Session } from '../lib/session';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

export type Answer = ((call: Call) => unknown) | Response | Record<string, unknown> | unknown[] | string;

/** A JSON (or problem+json) response; status 204 has no body. */
export function reply(status: number, body?: unknown): Response {
  if (status === 204) return new Response(null, { status });
  const ct = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(JSON.stringify(body ?? {}), { status, headers: { 'Content-Type': ct } });
}

export function problem(status: number, title: string, detail?: string, errors?: { field: string; message: string }[]): Response {
  return reply(status, { type: 'about:blank', title, status, detail, errors });
}

/** A page of a list. */
export function page<T>(items: T[]): { items: T[]; next: null } {
  return { items, next: null };
}

/**
 * Stub fetch: routes maps "GET /v1/regions" (no query) to a body (answered 200) or to a
 * function of the call that returns a Response or a body. Unknown routes answer 404.
 */
export function stubApi(routes: Record<string, Answer>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://console.test');
    const method = (init?.method ?? 'GET').toUpperCase();
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const call: Call = { method, path: url.pathname, query: url.searchParams, body };
    calls.push(call);
    const key = `${method} ${url.pathname}`;
    if (!(key in routes)) return problem(404, 'Not found', `no stub for ${key}`);
    const a = routes[key];
    const out = typeof a === 'function' ? (a as (c: Call) => unknown)(call) : a;
    return out instanceof Response ? out : reply(method === 'POST' ? 201 : 200, out);
  });
  vi.stubGlobal('fetch', fn);
  return {
    calls,
    /** The requests made with this method and path. */
    made: (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path),
  };
}

export function session(operator = true, role = operator ? 'operator' : 'admin'): Session {
  return {
    me: {
      user: { id: 'u-1', name: 'Olga Operator' },
      tenant: { id: 't-op', name: 'operator', is_operator: operator },
      role,
    } as unknown as Session['me'],
    isOperator: operator,
    role,
    tenantId: 't-op',
    logout: () => {},
  };
}

/** Render a page signed in (operator by default), inside a location. */
export function renderPage(ui: ComponentChildren, s: Session = session()) {
  return render(
    <LocationProvider>
      <SessionContext.Provider value={s}>{ui}</SessionContext.Provider>
    </LocationProvider>,
  );
}

/* jsdom has no modal dialogs: enough of one for ConfirmButton and the edit dialogs. */
if (typeof HTMLDialogElement !== 'undefined' && !HTMLDialogElement.prototype.showModal) {
  HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  HTMLDialogElement.prototype.close = function (this: HTMLDialogElement) {
    this.removeAttribute('open');
    this.dispatchEvent(new Event('close'));
  };
}

/** Answer a ConfirmButton's dialog (named by the button's label) with its confirming button. */
export function confirmIn(dialog: HTMLElement, confirmLabel: string) {
  const yes = Array.from(dialog.querySelectorAll('button')).find((b) => b.textContent === confirmLabel);
  if (!yes) throw new Error(`no button ${confirmLabel} in the dialog`);
  const form = yes.closest('form')!;
  const ev = new Event('submit', { bubbles: true, cancelable: true }) as Event & { submitter?: HTMLElement };
  Object.defineProperty(ev, 'submitter', { value: yes });
  form.dispatchEvent(ev);
}
