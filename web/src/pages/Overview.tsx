// Overview: the tenant's instances by state, its quota usage as bars, and its recent operations
// with the progress of those still running. Operators see their own tenant's (with a note).
import { useState } from 'preact/hooks';
import { api, listAll, type Page, type Schemas } from '../api/client';
import { Empty, Loading, StateBadge, UsageBar, When, type Operation, ScrollRegion } from '../components/common';
import { ProblemView } from '../components/ProblemView';
import { useApi } from '../lib/hooks';
import { useSession } from '../lib/session';
import './Overview.css';
import './tenant.css';

type Instance = Schemas['Instance'];
type Quotas = Schemas['Quotas'];

/** The instance states in their lifecycle's order. */
export const INSTANCE_STATES = ['scheduling', 'building', 'running', 'stopped', 'migrating', 'deleting', 'error'] as const;

/** Quota kinds as people read them, in the order shown; unit for the numbers. */
const QUOTA_LABELS: [string, string, string][] = [
  ['instances', 'Instances', ''],
  ['vcpus', 'vCPUs', ''],
  ['memory_mib', 'Memory', ' GiB'],
  ['gpus', 'GPUs', ''],
  ['volumes', 'Volumes', ''],
  ['storage_gib', 'Storage', ' GiB'],
  ['snapshots', 'Snapshots', ''],
  ['workspaces', 'Workspaces', ''],
  ['networks', 'Networks', ''],
  ['subnets', 'Subnets', ''],
  ['ports', 'Ports', ''],
  ['security_groups', 'Security groups', ''],
  ['security_group_rules', 'Security group rules', ''],
  ['public_ips', 'Public IPs', ''],
];

function InstancesByState({ tenantId }: { tenantId?: string }) {
  const q = useApi((signal) => listAll<Instance>('/v1/instances', { tenant_id: tenantId }).then((l) => (signal.aborted ? [] : l)), [tenantId], 5000);
  const counts = new Map<string, number>();
  for (const x of q.data ?? []) counts.set(x.state ?? 'unknown', (counts.get(x.state ?? 'unknown') ?? 0) + 1);
  const states = [...INSTANCE_STATES.filter((s) => counts.has(s)), ...[...counts.keys()].filter((s) => !(INSTANCE_STATES as readonly string[]).includes(s))];
  return (
    <section aria-labelledby="ov-instances">
      <h2 id="ov-instances">Instances by state</h2>
      <ProblemView error={q.error} />
      {q.loading && !q.data ? (
        <Loading what="Counting instances" />
      ) : (q.data ?? []).length === 0 ? (
        <Empty>
          No instances yet. <a href="/console/instances/new">Create an instance</a>.
        </Empty>
      ) : (
        <ul class="ov-states">
          <li>
            <a href="/console/instances">
              <span class="ov-count">{q.data?.length}</span> in all
            </a>
          </li>
          {states.map((s) => (
            <li key={s}>
              <a href={`/console/instances?state=${encodeURIComponent(s)}`} aria-label={`${counts.get(s)} ${s}`}>
                <span class="ov-count">{counts.get(s)}</span> <StateBadge state={s} />
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function QuotaUsage({ tenantId }: { tenantId: string }) {
  const q = useApi(() => api<Quotas>(`/v1/tenants/${encodeURIComponent(tenantId)}/quotas`), [tenantId], 15000);
  const quotas = (q.data?.quotas ?? {}) as Record<string, { limit?: number; used?: number } | undefined>;
  return (
    <section aria-labelledby="ov-quotas">
      <h2 id="ov-quotas">Quota usage</h2>
      <ProblemView error={q.error} />
      {q.loading && !q.data ? (
        <Loading what="Reading quotas" />
      ) : (
        <div class="ov-quotas">
          {QUOTA_LABELS.filter(([k]) => quotas[k]).map(([k, label, unit]) => {
            // Memory in GiB (one decimal): 163840 MiB reads better as 160 GiB.
            const scale = k === 'memory_mib' ? (n: number | undefined) => (n === undefined ? n : Math.round((n / 1024) * 10) / 10) : (n: number | undefined) => n;
            return <UsageBar key={k} label={label} used={scale(quotas[k]?.used) ?? 0} limit={scale(quotas[k]?.limit)} unit={unit} />;
          })}
        </div>
      )}
    </section>
  );
}

function active(o: Operation): boolean {
  return o.state === 'queued' || o.state === 'running';
}

/** Where an operation's resource is shown in the console, when it has a page. */
export function resourceHref(type: string | undefined, id: string | undefined): string | null {
  if (!id) return null;
  const pages: Record<string, string> = { instance: 'instances', volume: 'volumes', network: 'networks', host: 'operator/hosts' };
  const p = type ? pages[type] : undefined;
  return p ? `/console/${p}/${encodeURIComponent(id)}` : null;
}

function RecentOperations({ all }: { all: boolean }) {
  const [running, setRunning] = useState(false);
  // Poll fast while something runs, slowly otherwise (a new operation shows up within 10 s).
  const q = useApi(
    () =>
      api<Page<Operation>>('/v1/operations', { query: { limit: 15 } }).then((p) => {
        setRunning(p.items.some(active));
        return p;
      }),
    [],
    running ? 1500 : 10000,
  );
  const ops = q.data?.items ?? [];
  return (
    <section aria-labelledby="ov-ops">
      <h2 id="ov-ops">Recent operations{all ? ' (all tenants)' : ''}</h2>
      <ProblemView error={q.error} />
      {q.loading && !q.data ? (
        <Loading what="Reading operations" />
      ) : ops.length === 0 ? (
        <Empty>No operations yet.</Empty>
      ) : (
        <ScrollRegion label="Recent operations table">
          <table aria-label="Recent operations, newest first">
            <thead>
              <tr>
                <th scope="col">Operation</th>
                <th scope="col">Resource</th>
                <th scope="col">State</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {ops.map((o) => {
                const href = resourceHref(o.resource_type, o.resource_id);
                return (
                  <tr key={o.id}>
                    <td>{o.kind}</td>
                    <td>
                      {o.resource_type}{' '}
                      {href ? <a href={href}>{o.resource_id?.slice(0, 8)}</a> : <code>{o.resource_id?.slice(0, 8)}</code>}
                    </td>
                    <td>
                      <StateBadge state={o.state} />
                      {o.state === 'failed' && o.error && <div class="bad-text">{o.error.message}</div>}
                    </td>
                    <td>
                      {active(o) ? (
                        <>
                          <progress max={100} value={o.progress ?? 0} aria-label={`${o.kind} progress`} /> {o.progress ?? 0}%
                          {o.step && <div class="muted">{o.step}</div>}
                        </>
                      ) : (
                        <span class="muted">{o.state === 'succeeded' ? 'done' : '—'}</span>
                      )}
                    </td>
                    <td>
                      <When iso={o.created_at} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </section>
  );
}

export default function Overview() {
  const s = useSession();
  return (
    <section class="overview">
      <h1>Overview</h1>
      {s.isOperator && (
        <p class="note" role="note">
          You are an operator: this is your own tenant's overview ({s.me.tenant?.name}). Other tenants' instances and quotas are under{' '}
          <a href="/console/operator/tenants">Tenants</a>; the operations below are every tenant's.
        </p>
      )}
      <InstancesByState tenantId={s.isOperator ? s.tenantId : undefined} />
      <QuotaUsage tenantId={s.tenantId} />
      <RecentOperations all={s.isOperator} />
    </section>
  );
}
