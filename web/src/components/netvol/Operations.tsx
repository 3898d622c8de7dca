// The network and volume pages' operations: the list of those a page started (202 Accepted),
// each followed until it ends.
import { useState } from 'preact/hooks';
import { OperationProgress, type Operation } from '../common';

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
