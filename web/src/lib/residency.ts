// Which regions a tenant's residency policy allows, and why the others are not: the policy's
// lists are intersected (an empty or absent list constrains nothing), as sovd's placement does.
import type { Schemas } from '../api/client';

type Policy = Schemas['ResidencyPolicy'];
type Region = Schemas['Region'];

export interface Verdict {
  allowed: boolean;
  /** Why not, for a person; empty when allowed. */
  reasons: string[];
}

export function regionVerdict(policy: Policy | undefined, r: Region): Verdict {
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

/** The policy in words: "jurisdictions EU; countries FR, DE". */
export function policyText(policy: Policy | undefined): string {
  if (!policy) return 'unknown';
  const parts: string[] = [];
  if (policy.jurisdictions?.length) parts.push(`jurisdictions ${policy.jurisdictions.join(', ')}`);
  if (policy.countries?.length) parts.push(`countries ${policy.countries.join(', ')}`);
  if (policy.regions?.length) parts.push(`regions ${policy.regions.join(', ')}`);
  return parts.length ? parts.join('; ') : 'anywhere';
}
