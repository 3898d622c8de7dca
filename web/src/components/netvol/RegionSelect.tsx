// A region (and optionally zone) picker limited to the places the tenant's residency policy
// allows: the others are listed, disabled, as outside the policy, so the limit is visible.
import { useSession } from '../../lib/session';
import { useApi } from '../../lib/hooks';
import { ProblemView } from '../ProblemView';
import { Field, fieldAttrs } from '../Field';
import { loadPlaces, policyAllows, policyText } from '../../lib/regions';

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
