// Bytes to and from sovd beyond api()'s JSON: a download with the bearer token (a report's
// document and signature), saving bytes as a file, reading a picked file, and an upload by
// XMLHttpRequest, whose upload.onprogress drives a <progress> bar (fetch reports none).
import { ApiError, type Problem } from '../api/client';
import { clearToken, getToken } from './auth';

/** Bytes backed by a plain ArrayBuffer (what WebCrypto and Blob take). */
export type Bytes = Uint8Array<ArrayBuffer>;

export interface Fetched {
  bytes: Bytes;
  headers: Headers;
}

function problemFromText(status: number, statusText: string, ct: string, text: string): Problem {
  if (ct.includes('json')) {
    try {
      const j = JSON.parse(text) as Partial<Problem>;
      if (j && typeof j.title === 'string') return { type: 'about:blank', ...j, title: j.title, status } as Problem;
    } catch {
      /* not JSON after all */
    }
  }
  return { type: 'about:blank', title: statusText || `HTTP ${status}`, status };
}

/** GET path with the token; the body's bytes, or an ApiError. */
export async function fetchBytes(path: string, accept = '*/*'): Promise<Fetched> {
  const headers: Record<string, string> = { Accept: accept };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let resp: Response;
  try {
    resp = await fetch(path, { headers });
  } catch (e) {
    throw new ApiError({ type: 'about:blank', title: 'sovd cannot be reached', status: 0, detail: String(e) });
  }
  if (!resp.ok) {
    const text = await resp.text();
    throw new ApiError(problemFromText(resp.status, resp.statusText, resp.headers.get('Content-Type') ?? '', text));
  }
  return { bytes: new Uint8Array(await resp.arrayBuffer()), headers: resp.headers };
}

/** Offer bytes to the user as a download named name. */
export function saveBytes(bytes: Bytes | string, name: string, type = 'application/octet-stream'): void {
  const blob = new Blob([bytes], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A picked file's bytes. */
export function readFileBytes(file: Blob): Promise<Bytes> {
  if (typeof file.arrayBuffer === 'function') return file.arrayBuffer().then((b) => new Uint8Array(b));
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(new Uint8Array(r.result as ArrayBuffer));
    r.onerror = () => reject(r.error);
    r.readAsArrayBuffer(file);
  });
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** PUT body to path as application/octet-stream; onProgress as bytes go out; the JSON answer. */
export function uploadBytes<T>(
  path: string,
  body: Blob,
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', path);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    const token = getToken();
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : body.size });
    xhr.onload = () => {
      const ct = xhr.getResponseHeader('Content-Type') ?? '';
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress({ loaded: body.size, total: body.size });
        try {
          resolve((xhr.responseText ? JSON.parse(xhr.responseText) : undefined) as T);
        } catch {
          resolve(undefined as T);
        }
        return;
      }
      if (xhr.status === 401) clearToken();
      reject(new ApiError(problemFromText(xhr.status, xhr.statusText, ct, xhr.responseText)));
    };
    xhr.onerror = () =>
      reject(new ApiError({ type: 'about:blank', title: 'The upload was cut off', status: 0, detail: 'sovd cannot be reached, or it closed the connection.' }));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(body);
  });
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
