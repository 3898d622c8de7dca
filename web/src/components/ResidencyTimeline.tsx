// A resource's residency history (GET /v1/{things}/{id}/residency) as a timeline, oldest first:
// when, what happened (placed, moved, copied, deleted), from where to where, why, and the
// residency policy in force then.
import type { Schemas } from '../api/client';
import { policyText } from '../lib/regions';
import { When } from './common';

type RecordT = Schemas['ResidencyRecord'];
type Place = Schemas['ResidencyPlace'];

export function placeText(p: Place | undefined): string {
  if (!p) return 'nowhere';
  const host = p.host ? `, host ${p.host}` : '';
  return `${p.region ?? '?'} (${p.country ?? '?'}, ${p.jurisdiction ?? '?'}${host})`;
}

export function ResidencyTimeline({ records, label }: { records: RecordT[]; label: string }) {
  if (records.length === 0) return <p class="muted">No residency record yet.</p>;
  return (
    <ol class="timeline" aria-label={label}>
      {records.map((r) => (
        <li key={r.seq} class={`tl-${r.event ?? 'event'}`}>
          <div class="tl-when">
            <When iso={r.at} />
          </div>
          <div class="tl-what">
            <strong>{r.event}</strong>{' '}
            {r.event === 'placed' || !r.from ? (
              <>in {placeText(r.to)}</>
            ) : r.event === 'deleted' ? (
              <>from {placeText(r.from)}</>
            ) : (
              <>
                from {placeText(r.from)} to {placeText(r.to)}
              </>
            )}
          </div>
          {r.reason && <div class="tl-why">{r.reason}</div>}
          <div class="tl-policy muted">Policy then: {policyText(r.policy)}</div>
        </li>
      ))}
    </ol>
  );
}
