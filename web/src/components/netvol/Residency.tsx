// Residency on the network and volume pages: where the data lives now, the history of records
// (GET .../residency) as a timeline, and a region (and zone) picker limited to the places the
// tenant's residency policy allows: the others are listed, disabled, as outside the policy, so
// the limit is visible.
import { listAll, type Schemas } from '../../api/client';
import { useApi } from '../../lib/hooks';
import { loadPlaces, policyAllows, policyText } from '../../lib/regions';
import { useSession } from '../../lib/session';
import { Field, fieldAttrs } from '../Field';
import { ProblemView } from '../ProblemView';
import { Empty, Loading, When } from '../common';

type Rec = Schemas['ResidencyRecord'];
type Place = Schemas['ResidencyPlace'];

function place(p: Place | undefined): string {
  if (!p) return 'nowhere';
  const parts = [p.region, p.country && `(${p.country}, ${p.jurisdiction ?? '?'})`, p.host && `host ${p.host}`];
  return parts.filter(Boolean).join(' ');
}

/** Now: region, country, jurisdiction, datacenter, host, since (and a key's place when given). */
export function ResidencyNow({
  residency,
}: {
  residency: { region?: string; country?: string; jurisdiction?: string; datacenter?: string; host?: string | null; since?: string | null; key?: { region?: string; country?: string } | null } | null | undefined;
}) {
  if (!residency) return <span class="muted">Not placed</span>;
  return (
    <span>
      {residency.region} · {residency.country} · {residency.jurisdiction}
      {residency.datacenter ? ` · ${residency.datacenter}` : ''}
      {residency.host ? ` · host ${residency.host}` : ''}
      {residency.since && (
        <>
          {' '}
          since <When iso={residency.since} />
        </>
      )}
      {residency.key && (
        <>
          {' '}
          · key kept in {residency.key.region} ({residency.key.country})
        </>
      )}
    </span>
  );
}

/** The residency records of one resource, oldest first, as an ordered list (a timeline). */
export function ResidencyHistory({ path, title = 'Residency history' }: { path: string; title?: string }) {
  const recs = useApi((signal) => listAll<Rec>(path).then((r) => (signal.aborted ? [] : r)), [path]);
  return (
    <section aria-labelledby="nv-residency-h">
      <h2 id="nv-residency-h">{title}</h2>
      <ProblemView error={recs.error} />
      {recs.loading && !recs.data ? (
        <Loading what="Loading residency records" />
      ) : recs.data && recs.data.length === 0 ? (
        <Empty>No residency records yet.</Empty>
      ) : (
        <ol class="nv-timeline" aria-label={title}>
          {(recs.data ?? []).map((r) => (
            <li key={r.seq}>
              <When iso={r.at} /> <strong>{r.event}</strong>: {r.event === 'placed' ? place(r.to) : `${place(r.from)} → ${place(r.to)}`}
              {r.reason && <span class="muted"> — {r.reason}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function RegionSelect({
  idPrefix,
  region,
  zone,
  onRegion,
  onZone,
  error,
}: {
  idPrefix: string;
  region: string;
  zone?: string;
  onRegion: (v: string) => void;
  /** Given: a zone picker too. */
  onZone?: (v: string) => void;
  error: unknown;
}) {
  const s = useSession();
  const places = useApi(() => loadPlaces(s.tenantId), [s.tenantId]);
  const regions = places.data?.regions ?? [];
  const policy = places.data?.policy;
  const chosen = regions.find((r) => r.code === region);
  return (
    <>
      <ProblemView error={places.error} />
      <Field
        id={`${idPrefix}-region`}
        label="Region"
        field="region"
        error={error}
        hint={<>Limited to what your residency policy allows: {policyText(policy)}.</>}
      >
        <select
          {...fieldAttrs(error, 'region', `${idPrefix}-region`)}
          value={region}
          onChange={(e) => {
            onRegion((e.target as HTMLSelectElement).value);
            onZone?.('');
          }}
        >
          <option value="">Any region the policy allows</option>
          {regions.map((r) => {
            const ok = policyAllows(policy, r);
            return (
              <option key={r.code} value={r.code} disabled={!ok}>
                {r.code} — {r.country}, {r.jurisdiction}
                {ok ? '' : ' (outside your residency policy)'}
              </option>
            );
          })}
        </select>
      </Field>
      {onZone && (
        <Field id={`${idPrefix}-zone`} label="Zone" field="zone" error={error}>
          <select
            {...fieldAttrs(error, 'zone', `${idPrefix}-zone`)}
            value={zone ?? ''}
            disabled={!chosen}
            onChange={(e) => onZone((e.target as HTMLSelectElement).value)}
          >
            <option value="">{chosen ? 'Any zone' : 'Choose a region first'}</option>
            {(chosen?.zones ?? []).map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </Field>
      )}
    </>
  );
}
