// Test kit for the network and volume pages: a stubbed fetch answering by "METHOD /path" (the
// calls recorded, bodies parsed), a session of a chosen role, and <dialog> for jsdom (which has no
// showModal).
import type { ComponentChildren } from 'preact';
import { render } from '@testing-library/preact';
import { vi } from 'vitest';
import { SessionContext, type Session } from '../lib/session';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

export type Answer = { status?: number; body?: unknown } | ((c: Call) => { status?: number; body?: unknown });

export function page<T>(items: T[]) {
  return { body: { items, next: null } };
}

export function problem(status: number, title: string, extra: Record<string, unknown> = {}) {
  return { status, body: { type: `/problems/x`, title, status, ...extra } };
}

/** Stub fetch: routes maps "GET /v1/networks" to an answer; anything else is a 404 problem. */
export function mockApi(routes: Record<string, Answer>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const u = new URL(input, 'http://sovd.test');
      const c: Call = {
        method: init?.method ?? 'GET',
        path: u.pathname,
        query: u.searchParams,
        body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      };
      calls.push(c);
      const a = routes[`${c.method} ${c.path}`];
      const r = typeof a === 'function' ? a(c) : a ?? problem(404, 'Not found', { detail: `${c.method} ${c.path}` });
      const status = r.status ?? 200;
      if (status === 204) return new Response(null, { status });
      const ct = status >= 400 ? 'application/problem+json' : 'application/json';
      return new Response(JSON.stringify(r.body ?? {}), { status, headers: { 'Content-Type': ct } });
    }),
  );
  return calls;
}

/** The calls that changed something (not GETs). */
export function writes(calls: Call[]): Call[] {
  return calls.filter((c) => c.method !== 'GET');
}

let dialogSubmitsHeld = false;

export function stubDialog(): void {
  // jsdom implements no form submission: a method="dialog" form's default action (close the
  // dialog) would be reported as "not implemented". The page's own submit handler still runs.
  if (!dialogSubmitsHeld) {
    dialogSubmitsHeld = true;
    document.addEventListener('submit', (e) => {
      if ((e.target as HTMLFormElement).getAttribute('method') === 'dialog') e.preventDefault();
    });
  }
  const proto = HTMLDialogElement.prototype as unknown as { showModal: () => void; close: () => void };
  proto.showModal = function (this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  proto.close = function (this: HTMLDialogElement) {
    this.removeAttribute('open');
  };
}

export const TENANT = '11111111-1111-1111-1111-111111111111';

export function session(role = 'member'): Session {
  return {
    me: { user: { id: 'u1', name: 'ana' }, tenant: { id: TENANT, name: 'acme', is_operator: false }, role: role as 'member' },
    isOperator: false,
    role,
    tenantId: TENANT,
    logout: () => {},
  };
}

export function renderAs(ui: ComponentChildren, role = 'member') {
  return render(<SessionContext.Provider value={session(role)}>{ui}</SessionContext.Provider>);
}

export const REGIONS = [
  { code: 'fr-par-1', name: 'Paris', country: 'FR', jurisdiction: 'EU', datacenter: 'PAR1', zones: ['a', 'b'] },
  { code: 'ch-zrh-1', name: 'Zurich', country: 'CH', jurisdiction: 'OTHER', datacenter: 'ZRH1', zones: ['a'] },
];

/** Regions and the tenant's policy (the EU), for pages with a region picker. */
export function placeRoutes(): Record<string, Answer> {
  return {
    'GET /v1/regions': page(REGIONS),
    [`GET /v1/tenants/${TENANT}/residency-policy`]: { body: { jurisdictions: ['EU'] } },
  };
}

export function operation(id: string, kind: string, state = 'running', progress = 40) {
  return { body: { id, kind, state, progress, step: 'working', error: null } };
}
