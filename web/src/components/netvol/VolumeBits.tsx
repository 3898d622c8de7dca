// Pieces the volume list and a volume's page share.
import type { Schemas } from '../../api/client';

type Volume = Schemas['Volume'];

/** States a volume or snapshot passes through while a worker acts on it (the page polls). */
export const VOLUME_BUSY = ['creating', 'attaching', 'detaching', 'extending', 'deleting'];

export function Attachments({ v }: { v: Volume }) {
  if (!v.attachments?.length) return <span class="muted">nothing</span>;
  return (
    <>
      {v.attachments.map((a) => (
        <div key={a.instance}>
          <a href={`/console/instances/${encodeURIComponent(a.instance ?? '')}`}>{a.instance_name ?? a.instance}</a>
          <span class="muted">
            {' '}
            as {a.device}
            {a.boot ? ' (boot disk)' : ''}
          </span>
        </div>
      ))}
    </>
  );
}
