// The pages' test kit: a fetch stub that answers by "METHOD /path" and records each call, a
// session of any role (operator or not) around a page, a page routed at a URL, the answers sovd
// gives (pages of a list, problems, operations), a ConfirmButton's answer, a fake
// XMLHttpRequest for uploads, and WebCrypto for Node 18. <dialog> and scrolling for jsdom are in
// setup.ts, so every test has them.
import type { ComponentChildren } from 'preact';
import { render } from '@testing-library/preact';
import { LocationProvider, Route, Router } from 'preact-iso';
import { vi } from 'vitest';
import { SessionContext, type Session } from '../lib/session';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

/** A reply other than a JSON body with 200: {status, body} (problem+json from 400 on), or text. */
export interface Envelope {
  status?: number;
  body?: unknown;
  text?: string;
}

/**
 * What a route answers: a JSON body (200), an Envelope, a Response, undefined (204), or a function
 * of the call that returns one of these.
 */
export type Answer = ((c: Call) => unknown) | Response | object | string | number | boolean | null | undefined;

/** The calls made (an array), with made(method, path): those with that method and path. */
export type Calls = Call[] & { calls: Call[]; made: (method: string, path: string) => Call[] };

function isEnvelope(x: unknown): x is Envelope {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
  const keys = Object.keys(x);
  if (keys.length === 0 || !keys.every((k) => k === 'status' || k === 'body' || k === 'text')) return false;
  const s = (x as Envelope).status;
  return s === undefined ? 'body' in x : typeof s === 'number';
}

function respond(out: unknown): Response {
  if (out instanceof Response) return out;
  if (out === undefined) return new Response(null, { status: 204 });
  const e: Envelope = isEnvelope(out) ? out : { status: 200, body: out };
  const status = e.status ?? 200;
  if (e.text !== undefined) return new Response(e.text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  if (status === 204) return new Response(null, { status });
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(JSON.stringify(e.body ?? {}), { status, headers: { 'Content-Type': type } });
}

function parseBody(b: unknown): unknown {
  if (typeof b !== 'string') return b ?? undefined;
  try {
    return JSON.parse(b);
  } catch {
    return b;
  }
}

/** Stub fetch: routes map "GET /v1/regions" (the path, no query) to an Answer; others are 404. */
export function stubApi(routes: Record<string, Answer>): Calls {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const url = new URL(String(input), 'http://sovd.test');
      const method = (init.method ?? 'GET').toUpperCase();
      const call: Call = {
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: (init.headers ?? {}) as Record<string, string>,
        body: parseBody(init.body),
      };
      calls.push(call);
      const key = `${method} ${url.pathname}`;
      if (!(key in routes)) return respond(problem(404, 'Not found', key));
      const a = routes[key];
      return respond(typeof a === 'function' ? (a as (c: Call) => unknown)(call) : a);
    }),
  );
  return Object.assign(calls, {
    calls,
    made: (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path),
  });
}

/** The calls that changed something (not GETs). */
export function writes(calls: Call[]): Call[] {
  return calls.filter((c) => c.method !== 'GET');
}

/** A JSON answer with a status (problem+json from 400 on). */
export function json(body: unknown, status = 200): Envelope {
  return { status, body };
}

export const reply = (status: number, body?: unknown): Envelope => ({ status, body });

/** A problem: detail as text, or more members ({detail, errors, blocked_by}); errors[] last. */
export function problem(
  status: number,
  title: string,
  detail?: string | Record<string, unknown>,
  errors?: { field: string; message: string }[],
): Envelope {
  const more = typeof detail === 'object' ? detail : { detail, errors };
  return { status, body: { type: 'about:blank', title, status, ...more } };
}

/** A page of a list. */
export function page<T>(items: T[], next: string | null = null): { items: T[]; next: string | null } {
  return { items, next };
}

export function operation(id: string, kind: string, state = 'running', progress = 40): Envelope {
  return { body: { id, kind, state, progress, step: 'working', error: null } };
}

export const TENANT = 't-1';

/** A signed-in session: the role, an operator's or not, in TENANT unless told otherwise. */
export function session(
  role = 'member',
  opts: { operator?: boolean; tenantId?: string; userId?: string; tokenId?: string } = {},
): Session {
  const operator = opts.operator ?? false;
  const tenantId = opts.tenantId ?? TENANT;
  return {
    me: {
      user: { id: opts.userId ?? 'u-self', name: 'alice', email: 'alice@example.org' },
      tenant: { id: tenantId, name: operator ? 'operator' : 'acme', is_operator: operator },
      role: role as Session['me']['role'],
      token: { id: opts.tokenId ?? 'tok-self', name: 'console', expires_at: null },
    } as Session['me'],
    isOperator: operator,
    role,
    tenantId,
    logout: vi.fn(),
  };
}

/** The operator's session. */
export const operator = (): Session => session('operator', { operator: true, tenantId: 't-op' });

export function Signed({ children, s = session() }: { children: ComponentChildren; s?: Session }) {
  return <SessionContext.Provider value={s}>{children}</SessionContext.Provider>;
}

/** Render a page signed in (a member unless told), inside a location. */
export function renderPage(ui: ComponentChildren, s: Session = session()) {
  return render(
    <LocationProvider>
      <Signed s={s}>{ui}</Signed>
    </LocationProvider>,
  );
}

/** Render a page as a member of TENANT with this role. */
export const renderAs = (ui: ComponentChildren, role = 'member') => renderPage(ui, session(role));

/** A page as the app shows it: signed in, at url, routed by path (params through useRoute). */
export function AtRoute({ url, path, component, s = session() }: { url: string; path: string; component: preact.AnyComponent; s?: Session }): preact.JSX.Element {
  history.replaceState(null, '', url);
  return (
    <Signed s={s}>
      <LocationProvider>
        <Router>
          <Route path={path} component={component} />
          <Route default component={() => <p>elsewhere: {location.pathname}</p>} />
        </Router>
      </LocationProvider>
    </Signed>
  );
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

/** Answer a ConfirmButton's dialog (named by the button's label) with its confirming button. */
export function confirmIn(dialog: HTMLElement, confirmLabel: string) {
  const yes = Array.from(dialog.querySelectorAll('button')).find((b) => b.textContent === confirmLabel);
  if (!yes) throw new Error(`no button ${confirmLabel} in the dialog`);
  const form = yes.closest('form')!;
  const ev = new Event('submit', { bubbles: true, cancelable: true }) as Event & { submitter?: HTMLElement };
  Object.defineProperty(ev, 'submitter', { value: yes });
  form.dispatchEvent(ev);
}

/** A fake XMLHttpRequest: the test sees each request and drives its progress and answer. */
export class FakeXhr {
  static last: FakeXhr | null = null;
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: unknown = null;
  status = 0;
  statusText = '';
  responseText = '';
  private respHeaders: Record<string, string> = {};
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  getResponseHeader(k: string) {
    return this.respHeaders[k] ?? null;
  }
  send(body: unknown) {
    this.body = body;
    FakeXhr.last = this;
  }
  abort() {
    this.onabort?.();
  }
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true });
  }
  respond(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.respHeaders['Content-Type'] = status >= 400 ? 'application/problem+json' : 'application/json';
    this.onload?.();
  }
}

/** WebCrypto as browsers have it: Node 18 (Debian 12's) has no global crypto; its module has. */
export async function ensureWebCrypto(): Promise<void> {
  if (globalThis.crypto?.subtle) return;
  const name = 'node:crypto';
  const { webcrypto } = (await import(/* @vite-ignore */ name)) as { webcrypto: Crypto };
  Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true, writable: true });
}
