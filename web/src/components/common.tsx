// Small pieces every page uses: state badges, usage bars, a confirmation dialog, an
// operation's progress, loading and empty states, dates, a table's scrolling box.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Schemas } from '../api/client';
import { ProblemView } from './ProblemView';

const OK = ['running', 'active', 'available', 'up', 'succeeded', 'in-use', 'attached', 'ok', 'bound'];
const WARN = ['queued', 'creating', 'building', 'starting', 'stopping', 'migrating', 'deleting', 'maintenance', 'draining', 'pending', 'uploading', 'attaching', 'detaching', 'rebooting'];
const BAD = ['error', 'failed', 'down', 'disabled', 'unreachable'];

/** A resource's state as a badge with its text (never colour alone). */
export function StateBadge({ state }: { state: string | null | undefined }) {
  const s = state ?? 'unknown';
  const cls = OK.includes(s) ? 'ok' : WARN.includes(s) ? 'warn' : BAD.includes(s) ? 'bad' : 'muted';
  return <span class={`badge ${cls}`}>{s}</span>;
}

/** used of limit as a bar, with the numbers as text beside it. */
export function UsageBar({ label, used, limit, unit = '' }: { label: string; used: number; limit: number | null | undefined; unit?: string }) {
  const pct = limit ? Math.min(100, Math.round((used / limit) * 100)) : 0;
  const cls = pct >= 100 ? 'bar full' : pct >= 80 ? 'bar high' : 'bar';
  return (
    <div class="usage">
      <div class="usage-label">
        {label}: {used}
        {unit} of {limit === null || limit === undefined ? 'unlimited' : `${limit}${unit}`}
      </div>
      <div class={cls} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={limit ?? 0} aria-valuenow={used}>
        <span style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p role="status" class="muted">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="muted">{children}</p>;
}

export function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  const d = new Date(iso);
  return <time dateTime={iso} title={iso}>{d.toLocaleString()}</time>;
}

/** A button that asks before it acts (a modal <dialog>, keyboard friendly). */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  danger,
  disabled,
  onConfirm,
}: {
  label: string;
  question: ComponentChildren;
  confirmLabel?: string;
  danger?: boolean;
  disabled?: boolean;
  onConfirm: () => void | Promise<void>;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" class={danger ? 'danger' : undefined} disabled={disabled} onClick={() => ref.current?.showModal()}>
        {label}
      </button>
      <dialog ref={ref} aria-label={label}>
        <form
          method="dialog"
          onSubmit={(e) => {
            const submitter = (e as SubmitEvent).submitter as HTMLButtonElement | null;
            if (submitter?.value === 'yes') void onConfirm();
          }}
        >
          <p>{question}</p>
          <div class="actions">
            <button type="submit" value="yes" class={danger ? 'danger' : 'primary'}>
              {confirmLabel ?? label}
            </button>
            <button type="submit" value="no" autoFocus>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

export type Operation = Schemas['Operation'];

/** Follow an operation (202's Location) until it ends: its step and progress, then done(). */
export function OperationProgress({ id, onDone }: { id: string; onDone?: (op: Operation) => void }) {
  const [op, setOp] = useState<Operation | null>(null);
  const [error, setError] = useState<unknown>(null);
  const doneRef = useRef(onDone);
  doneRef.current = onDone;
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const o = await api<Operation>(`/v1/operations/${encodeURIComponent(id)}`);
        if (stop) return;
        setOp(o);
        if (o.state === 'succeeded' || o.state === 'failed') {
          doneRef.current?.(o);
          return;
        }
      } catch (e) {
        if (stop) return;
        setError(e);
      }
      timer = setTimeout(poll, 700);
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [id]);
  if (error) return <ProblemView error={error} />;
  if (!op) return <Loading what="Starting" />;
  return (
    <div class="operation" role="status" aria-live="polite">
      <span>
        {op.kind}: <StateBadge state={op.state} /> {op.step}
      </span>{' '}
      <progress max={100} value={op.progress ?? 0} aria-label={`${op.kind} progress`}>
        {op.progress ?? 0}%
      </progress>{' '}
      {op.progress ?? 0}%
      {op.state === 'failed' && op.error && (
        <p class="bad-text">
          {op.error.code}: {op.error.message}
        </p>
      )}
    </div>
  );
}

/** A table that may scroll sideways on a narrow screen: the scrolling box is focusable and
 * named, so a keyboard can scroll it too (axe: scrollable-region-focusable). */
export function ScrollRegion({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
