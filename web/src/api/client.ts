// The one way the console talks to sovd: fetch with the bearer token, JSON in and out, and
// problem+json turned into an ApiError that pages show (title, detail, errors[] by field).
// Types come from api/openapi.json (npm run gen writes schema.d.ts), so a change of the
// contract breaks the build, not the console.
import type { components, paths } from './schema';
import { getToken, clearToken } from '../lib/auth';

export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];
export type Me = Schemas['Me'];
export type { paths };

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.status = problem.status;
    this.problem = problem;
  }
  /** The message for one field named in errors[], if any. */
  fieldError(field: string): string | undefined {
    return this.problem.errors?.find((e) => e.field === field)?.message;
  }
}

/** Called when sovd answers 401: the token is gone or revoked; the app shows the login. */
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send the token even when there is none stored (the login form checks one). */
  token?: string;
}

export function apiUrl(path: string, query?: RequestOptions['query']): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function problemOf(resp: Response): Promise<Problem> {
  const ct = resp.headers.get('Content-Type') ?? '';
  if (ct.includes('json')) {
    try {
      const j = (await resp.json()) as Partial<Problem>;
      if (j && typeof j.title === 'string')
        return { type: j.type ?? 'about:blank', title: j.title, status: resp.status, ...j } as Problem;
    } catch {
      /* not JSON after all: fall through */
    }
  }
  return { type: 'about:blank', title: resp.statusText || `HTTP ${resp.status}`, status: resp.status };
}

/** Call the API; resolves to the parsed JSON body (undefined for 204), rejects with ApiError. */
export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const token = opts.token ?? getToken();
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let resp: Response;
  try {
    resp = await fetch(apiUrl(path, opts.query), { method: opts.method ?? 'GET', headers, body, signal: opts.signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError({ type: 'about:blank', title: 'sovd cannot be reached', status: 0, detail: String(e) });
  }
  if (resp.status === 401 && !opts.token) {
    clearToken();
    onUnauthenticated();
  }
  if (!resp.ok) throw new ApiError(await problemOf(resp));
  if (resp.status === 204) return undefined as T;
  const ct = resp.headers.get('Content-Type') ?? '';
  if (ct.includes('json')) return (await resp.json()) as T;
  return (await resp.text()) as unknown as T;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

/** Follow a list's next links until there are none (or max items). */
export async function listAll<T>(path: string, query: RequestOptions['query'] = {}, max = 5000): Promise<T[]> {
  const out: T[] = [];
  let page = await api<Page<T>>(path, { query: { limit: 1000, ...query } });
  out.push(...page.items);
  while (page.next && out.length < max) {
    page = await api<Page<T>>(page.next);
    out.push(...page.items);
  }
  return out;
}
