// A 409 to a DELETE names what keeps the resource back (blocked_by): shown as links to each;
// useDeletes() sends a list's deletes and keeps the refusal beside the row it belongs to.
import { useState } from 'preact/hooks';
import { api, ApiError } from '../../api/client';
import { ProblemView } from '../ProblemView';

const BASE = '/console';

/** Where the console shows a resource of this kind (blocked_by's kind), if it has a page. */
export function hrefOf(kind: string, id: string, here?: string): string | null {
  const e = encodeURIComponent(id);
  switch (kind) {
    case 'subnet':
    case 'port':
    case 'router':
    case 'snapshot':
      return here ? `${here}#${kind}s` : null;
    case 'instance':
      return `${BASE}/instances/${e}`;
    case 'network':
      return `${BASE}/networks/${e}`;
    case 'volume':
      return `${BASE}/volumes/${e}`;
    case 'security_group':
      return `${BASE}/networks?tab=security-groups`;
    case 'public_ip':
      return `${BASE}/networks?tab=public-ips`;
    case 'host':
      return `${BASE}/operator/hosts/${e}`;
    default:
      return null;
  }
}

const KIND: Record<string, string> = {
  public_ip: 'public IP',
  security_group: 'security group',
};

/** here: the page of the resource itself, where its subnets, ports, router or snapshots are. */
export function BlockedBy({ error, what, here }: { error: unknown; what: string; here?: string }) {
  if (!(error instanceof ApiError) || !error.problem.blocked_by?.length) return null;
  return (
    <div class="nv-blocked">
      <p>{what} is still used by:</p>
      <ul aria-label={`What keeps ${what}`}>
        {error.problem.blocked_by.map((b) => {
          const href = hrefOf(b.kind, b.id, here);
          const text = `${KIND[b.kind] ?? b.kind} ${b.name || b.id}`;
          return <li key={`${b.kind}:${b.id}`}>{href ? <a href={href}>{text}</a> : text}</li>;
        })}
      </ul>
    </div>
  );
}

/**
 * Deletes from a list: remove(id, path, label) sends DELETE and tracks its operation under label;
 * a refusal is kept for that id, and refusal(id, what, here) shows it (the problem, then what
 * keeps the resource) in that row.
 */
export function useDeletes(track: (op: { id?: string } | undefined, label: string) => void) {
  const [failed, setFailed] = useState<{ id: string; error: unknown } | null>(null);
  const remove = async (id: string | undefined, path: string, label: string) => {
    setFailed(null);
    try {
      const r = await api<{ operation?: { id?: string } } | undefined>(path, { method: 'DELETE' });
      track(r?.operation, label);
    } catch (e) {
      setFailed({ id: id ?? '', error: e });
    }
  };
  const refusal = (id: string | undefined, what: string, here?: string) =>
    failed && failed.id === id ? (
      <>
        <ProblemView error={failed.error} />
        <BlockedBy error={failed.error} what={what} here={here} />
      </>
    ) : null;
  return { remove, refusal };
}
