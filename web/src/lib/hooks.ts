// Loading data: useApi fetches once (and again on reload()), usePoll keeps it fresh while the
// page is open (live state), stopping when the page goes away.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/client';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Run load() now, whenever deps change, and on reload(); every intervalMs too when given. */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], intervalMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = () => {
      loadRef
        .current(ctl.signal)
        .then((d) => {
          if (ctl.signal.aborted) return;
          setData(d);
          setError(null);
        })
        .catch((e) => {
          if (!ctl.signal.aborted) setError(e);
        })
        .finally(() => {
          if (ctl.signal.aborted) return;
          setLoading(false);
          if (intervalMs) timer = setTimeout(run, intervalMs);
        });
    };
    run();
    return () => {
      ctl.abort();
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, intervalMs]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** A form field's value and its setter from an input event. */
export function useField(initial = ''): [string, (e: Event) => void, (v: string) => void] {
  const [v, setV] = useState(initial);
  return [v, (e: Event) => setV((e.target as HTMLInputElement).value), setV];
}

/**
 * A form's submission: submit(e) keeps the browser from posting, clears the last refusal, runs
 * send() while busy, and hands its answer to done(); a refusal stays in error (for ProblemView
 * and the fields errors[] names).
 */
export function useSubmit<T>(send: () => Promise<T>, done?: (r: T) => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e?: Event) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await send();
      done?.(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { submit, busy, error, setError };
}

/**
 * Deleting from a list with a status line: remove(path, done) sends DELETE, then says done and
 * reloads; a refusal stays in error. setNotice() says other things on the same line.
 */
export function useRemove(reload: () => void) {
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const remove = async (path: string, done: string) => {
    setError(null);
    setNotice('');
    try {
      await api(path, { method: 'DELETE' });
      setNotice(done);
      reload();
    } catch (e) {
      setError(e);
    }
  };
  return { remove, error, notice, setNotice };
}
