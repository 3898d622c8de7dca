// What the Compliance page reads: every resource that carries residency, by kind, with where
// its data lives now (the resource's `residency`, its last record), and a resource's history.
import { api, listAll, type Schemas } from '../api/client';

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
