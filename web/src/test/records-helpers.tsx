// Test helpers of the records pages (Images, Users, Audit, Compliance): a signed-in session,
// a fetch stub routed by method and path that records the calls, <dialog> for jsdom, and a
// fake XMLHttpRequest whose upload progress a test drives.
import type { ComponentChildren } from 'preact';
import { vi } from 'vitest';
import { SessionContext, type Session } from '../lib/session';

export function session(role: string, opts: { operator?: boolean; userId?: string; tokenId?: string } = {}): Session {
  return {
    me: {
      user: { id: opts.userId ?? 'u-self', name: 'alice', email: 'alice@example.org' },
      tenant: { id: 't-1', name: 'acme', is_operator: opts.operator ?? false },
      role: role as Session['me']['role'],
      token: { id: opts.tokenId ?? 'tok-self', name: 'console', expires_at: null },
    },
    isOperator: opts.operator ?? false,
    role,
    tenantId: 't-1',
    logout: vi.fn(),
  };
}

export function WithSession({ s, children }: { s: Session; children: ComponentChildren }) {
  return <SessionContext.Provider value={s}>{children}</SessionContext.Provider>;
}

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string>;
}

type Reply = ((c: Call) => unknown) | Response | object | string | number | boolean | null | undefined;

/** Stub fetch: routes are "GET /v1/images" (path without query) -> a JSON body, a Response, or a function. */
export function stubApi(routes: Record<string, Reply>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init: RequestInit = {}) => {
      const url = new URL(input, 'http://sovd.test');
      const method = (init.method ?? 'GET').toUpperCase();
      const headers = (init.headers ?? {}) as Record<string, string>;
      const call: Call = {
        method,
        path: url.pathname,
        query: url.searchParams,
        body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body,
        headers,
      };
      calls.push(call);
      const key = `${method} ${url.pathname}`;
      if (!(key in routes)) return json({ type: '/problems/not-found', title: 'Not found', status: 404, detail: key }, 404);
      let r: unknown = routes[key];
      if (typeof r === 'function') r = (r as (c: Call) => unknown)(call);
      if (r instanceof Response) return r;
      if (r === undefined) return new Response(null, { status: 204 });
      return json(r);
    }),
  );
  return calls;
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  });
}

export function page<T>(items: T[], next: string | null = null) {
  return { items, next };
}

/** jsdom has no showModal(): open the dialog as an attribute, close() drops it. */
export function polyfillDialog(): void {
  const proto = HTMLDialogElement.prototype as HTMLDialogElement & { showModal?: () => void };
  if (typeof proto.showModal !== 'function') {
    proto.showModal = function (this: HTMLDialogElement) {
      this.setAttribute('open', '');
    };
    proto.close = function (this: HTMLDialogElement) {
      this.removeAttribute('open');
    };
  }
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
