// Regions and the tenant's residency policy: which regions the policy allows (the intersection
// of the lists it gives; an empty list constrains nothing), as the scheduler reads it.
import { api, listAll, type Schemas } from '../api/client';

export type Region = Schemas['Region'];
export type ResidencyPolicy = Schemas['ResidencyPolicy'];

export function policyAllows(p: ResidencyPolicy | null | undefined, r: Region): boolean {
  if (!p) return true;
  if (p.jurisdictions?.length && !p.jurisdictions.includes(r.jurisdiction as 'EU' | 'EEA' | 'OTHER')) return false;
  if (p.countries?.length && !p.countries.includes(r.country ?? '')) return false;
  if (p.regions?.length && !p.regions.includes(r.code ?? '')) return false;
  return true;
}

/** "EU", "EEA, NO" ...: the policy in words. */
export function policyText(p: ResidencyPolicy | null | undefined): string {
  if (!p) return 'no policy';
  const parts: string[] = [];
  if (p.jurisdictions?.length) parts.push(`jurisdictions ${p.jurisdictions.join(', ')}`);
  if (p.countries?.length) parts.push(`countries ${p.countries.join(', ')}`);
  if (p.regions?.length) parts.push(`regions ${p.regions.join(', ')}`);
  return parts.length ? parts.join('; ') : 'anywhere';
}

export interface PlacesLoaded {
  regions: Region[];
  policy: ResidencyPolicy | null;
}

/** Every region and the tenant's policy (null when it cannot be read). */
export async function loadPlaces(tenantId: string): Promise<PlacesLoaded> {
  const [regions, policy] = await Promise.all([
    listAll<Region>('/v1/regions'),
    tenantId
      ? api<ResidencyPolicy>(`/v1/tenants/${encodeURIComponent(tenantId)}/residency-policy`).catch(() => null)
      : Promise.resolve(null),
  ]);
  return { regions, policy };
}
