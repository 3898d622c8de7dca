// Form helpers for the network and volume pages: a labelled field that shows its errors[]
// message under itself (aria-invalid, aria-describedby), and the list of operations a page
// started (202 Accepted), each followed until it ends.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { FieldError } from '../ProblemView';
import { OperationProgress, type Operation } from '../common';

/** The attributes a control needs to tie it to its label and its field error. */
export function fieldAttrs(error: unknown, field: string, id: string) {
  const bad = error instanceof ApiError && error.fieldError(field) !== undefined;
  return { id, 'aria-invalid': bad ? ('true' as const) : undefined, 'aria-describedby': bad ? `${id}-error` : undefined };
}

/** A label, the control (children, given fieldAttrs(error, field, id)), a hint, the field's error. */
export function Field({
  id,
  label,
  field,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  field: string;
  error: unknown;
  hint?: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <div class="nv-field">
      <label for={id}>{label}</label>
      {children}
      {hint && <p class="muted nv-hint">{hint}</p>}
      <FieldError error={error} field={field} id={`${id}-error`} />
    </div>
  );
}

interface Tracked {
  key: number;
  id: string;
  label: string;
}

let seq = 0;

/**
 * Operations started from a page: track(op) adds one (an answer without an operation reloads at
 * once); each shows its progress until it ends, then the page reloads. A failed one stays, with its
 * error, until dismissed.
 */
export function useOperations(reload: () => void) {
  const [ops, setOps] = useState<Tracked[]>([]);
  const [failed, setFailed] = useState<Record<number, boolean>>({});
  const track = (op: { id?: string } | null | undefined, label: string) => {
    reload();
    if (op?.id) {
      const id = op.id;
      setOps((o) => [...o, { key: ++seq, id, label }]);
    }
  };
  const done = (key: number, op: Operation) => {
    reload();
    if (op.state === 'failed') setFailed((f) => ({ ...f, [key]: true }));
    else setOps((o) => o.filter((x) => x.key !== key));
  };
  const view =
    ops.length === 0 ? null : (
      <ul class="nv-ops" aria-label="Operations in progress">
        {ops.map((o) => (
          <li key={o.key}>
            <span class="nv-op-label">{o.label}</span>
            <OperationProgress id={o.id} onDone={(op) => done(o.key, op)} />
            {failed[o.key] && (
              <button type="button" onClick={() => setOps((x) => x.filter((y) => y.key !== o.key))}>
                Dismiss
              </button>
            )}
          </li>
        ))}
      </ul>
    );
  return { track, view, busy: ops.some((o) => !failed[o.key]) };
}

/** A table that may scroll sideways on a narrow screen: a named region that takes keyboard focus,
 * so its hidden columns can be scrolled to with the arrow keys. */
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
