// Regions and the tenant's residency policy: which regions the policy allows and why not (the
// intersection of the lists it gives; an empty or absent list constrains nothing), as sovd's
// placement reads it; the policy in words; the regions and the policy, loaded.
import { api, listAll, type Schemas } from '../api/client';

export type Region = Schemas['Region'];
export type ResidencyPolicy = Schemas['ResidencyPolicy'];

export interface Verdict {
  allowed: boolean;
  /** Why not, for a person; empty when allowed. */
  reasons: string[];
}

export function regionVerdict(policy: ResidencyPolicy | null | undefined, r: Region): Verdict {
  const reasons: string[] = [];
  const j = policy?.jurisdictions ?? [];
  const c = policy?.countries ?? [];
  const g = policy?.regions ?? [];
  if (j.length > 0 && !j.includes(r.jurisdiction as never))
    reasons.push(`its jurisdiction ${r.jurisdiction ?? '?'} is not one the policy allows (${j.join(', ')})`);
  if (c.length > 0 && !c.includes(r.country ?? ''))
    reasons.push(`its country ${r.country ?? '?'} is not one the policy allows (${c.join(', ')})`);
  if (g.length > 0 && !g.includes(r.code ?? '')) reasons.push(`the policy names only the regions ${g.join(', ')}`);
  return { allowed: reasons.length === 0, reasons };
}

export function policyAllows(p: ResidencyPolicy | null | undefined, r: Region): boolean {
  return regionVerdict(p, r).allowed;
}

/** The policy in words: "jurisdictions EU; countries FR, DE"; `absent` when there is none. */
export function policyText(p: ResidencyPolicy | null | undefined, absent = 'unknown'): string {
  if (!p) return absent;
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
