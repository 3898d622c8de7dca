// Test helpers for the tenant pages (Overview, Instances, the create wizard, an instance's
// detail): a fetch stub that answers by "METHOD /path", a signed-in session around a page, and
// the <dialog> methods jsdom lacks.
import type { ComponentChildren } from 'preact';
import { vi } from 'vitest';
import { LocationProvider, Route, Router } from 'preact-iso';
import { SessionContext, type Session } from '../lib/session';

export interface StubRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

/** What a route answers: a JSON body (200), or {status, body|text} for anything else. */
export type StubReply = { status: number; body?: unknown; text?: string } | { json: unknown };
export type StubRoute = (req: StubRequest) => StubReply | unknown;

export function problem(status: number, title: string, detail?: string, errors?: { field: string; message: string }[]): StubReply {
  return { status, body: { type: 'about:blank', title, status, detail, errors } };
}

/** Stub fetch: routes are keyed "GET /v1/instances"; unknown ones answer 404. Returns the calls. */
export function stubApi(routes: Record<string, StubRoute | unknown>): StubRequest[] {
  const calls: StubRequest[] = [];
  // preact-iso scrolls to the top on navigation; jsdom has no scrolling.
  vi.stubGlobal('scrollTo', () => {});
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input), 'http://localhost');
      const method = init?.method ?? 'GET';
      const req: StubRequest = {
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: (init?.headers ?? {}) as Record<string, string>,
        body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      };
      calls.push(req);
      const r = routes[`${method} ${url.pathname}`];
      let out: unknown = r === undefined ? problem(404, 'Not found', `${url.pathname} does not exist`) : typeof r === 'function' ? (r as StubRoute)(req) : r;
      if (!(out && typeof out === 'object' && 'status' in out && typeof (out as { status: unknown }).status === 'number' && ('body' in out || 'text' in out)))
        out = { status: 200, body: out };
      const o = out as { status: number; body?: unknown; text?: string };
      if (o.text !== undefined)
        return new Response(o.text, { status: o.status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
      const type = o.status >= 400 ? 'application/problem+json' : 'application/json';
      return new Response(o.status === 204 ? null : JSON.stringify(o.body), { status: o.status, headers: { 'Content-Type': type } });
    }),
  );
  return calls;
}

export function page<T>(items: T[], next: string | null = null) {
  return { items, next };
}

export const TENANT = '11111111-1111-4111-8111-111111111111';

export function session(over: Partial<Session> = {}): Session {
  return {
    me: { user: { id: 'u1', name: 'alice' }, tenant: { id: TENANT, name: 'acme', is_operator: false }, role: 'member' },
    isOperator: false,
    role: 'member',
    tenantId: TENANT,
    logout: () => {},
    ...over,
  };
}

/** A page as the app shows it: signed in, at url, routed by path (params through useRoute). */
export function AtRoute({ url, path, component, s = session() }: { url: string; path: string; component: preact.AnyComponent; s?: Session }): preact.JSX.Element {
  history.replaceState(null, '', url);
  return (
    <SessionContext.Provider value={s}>
      <LocationProvider>
        <Router>
          <Route path={path} component={component} />
          <Route default component={() => <p>elsewhere: {location.pathname}</p>} />
        </Router>
      </LocationProvider>
    </SessionContext.Provider>
  );
}

export function Signed({ children, s = session() }: { children: ComponentChildren; s?: Session }) {
  return <SessionContext.Provider value={s}>{children}</SessionContext.Provider>;
}

/** jsdom has <dialog> without showModal/close: enough of them for ConfirmButton. */
export function polyfillDialog(): void {
  const proto = HTMLDialogElement.prototype as HTMLDialogElement & { showModal?: () => void };
  if (!proto.showModal || !String(proto.showModal).includes('this.open'))
    proto.showModal = function (this: HTMLDialogElement) {
      this.open = true;
    };
  proto.close = function (this: HTMLDialogElement) {
    this.open = false;
  };
}
