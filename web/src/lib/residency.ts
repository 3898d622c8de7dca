// Which regions a tenant's residency policy allows, and why the others are not: the policy's
// lists are intersected (an empty or absent list constrains nothing), as sovd's placement does.
// What the Compliance page reads: every resource that carries residency, by kind, with where
// its data lives now (the resource's `residency`, its last record), and a resource's history.
import { api, listAll, type Schemas } from '../api/client';

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

export type Residency = NonNullable<Schemas['Residency']>;
export type ResidencyRecord = Schemas['ResidencyRecord'];

export interface Kind {
  kind: string;
  label: string;
  plural: string;
  /** The list route; its /{id}/residency is the history. */
  path: string;
  /** The console page of one, where there is one. */
  href?: (id: string) => string;
  /** Exists only where sovd has OVN (tenant networks): its list answers 503 without. */
  needsOvn?: boolean;
}

export const KINDS: Kind[] = [
  { kind: 'instance', label: 'Instance', plural: 'Instances', path: '/v1/instances', href: (id) => `/console/instances/${id}` },
  { kind: 'image', label: 'Image', plural: 'Images', path: '/v1/images' },
  { kind: 'volume', label: 'Volume', plural: 'Volumes', path: '/v1/volumes', href: (id) => `/console/volumes/${id}` },
  { kind: 'snapshot', label: 'Snapshot', plural: 'Snapshots', path: '/v1/snapshots' },
  { kind: 'network', label: 'Network', plural: 'Networks', path: '/v1/networks', href: (id) => `/console/networks/${id}`, needsOvn: true },
  { kind: 'public-ip', label: 'Public IP', plural: 'Public IPs', path: '/v1/public-ips' },
];

export interface Resource {
  kind: Kind;
  id: string;
  name: string;
  state: string;
  tenantId: string | null;
  residency: Residency | null;
}

interface Listed {
  id?: string;
  name?: string;
  state?: string;
  tenant_id?: string | null;
  residency?: Residency | null;
}

export interface Inventory {
  resources: Resource[];
  /** Kinds whose list failed (a service down): named on the page, not silently left out. */
  failed: { kind: Kind; error: unknown }[];
  /** Kinds this sovd does not offer (tenant networks without OVN, as /readyz says). */
  off: Kind[];
}

export async function loadInventory(): Promise<Inventory> {
  const ready = await api<{ ovn?: string }>('/readyz').catch(() => null);
  const off = KINDS.filter((k) => k.needsOvn && ready?.ovn === 'not configured');
  const kinds = KINDS.filter((k) => !off.includes(k));
  const settled = await Promise.allSettled(kinds.map((k) => listAll<Listed>(k.path)));
  const resources: Resource[] = [];
  const failed: Inventory['failed'] = [];
  settled.forEach((s, i) => {
    const kind = kinds[i];
    if (s.status === 'rejected') {
      failed.push({ kind, error: s.reason });
      return;
    }
    for (const r of s.value)
      resources.push({
        kind,
        id: r.id ?? '',
        name: r.name ?? r.id ?? '',
        state: r.state ?? '',
        tenantId: r.tenant_id ?? null,
        residency: r.residency ?? null,
      });
  });
  return { resources, failed, off };
}

export function loadHistory(r: Resource): Promise<ResidencyRecord[]> {
  return listAll<ResidencyRecord>(`${r.kind.path}/${encodeURIComponent(r.id)}/residency`);
}
