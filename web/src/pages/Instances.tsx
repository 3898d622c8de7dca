// Instances: the tenant's instances (every tenant's for operators), a keyset page at a time
// ("More"), filtered by what GET /v1/instances offers: name, state, workspace, region. The
// filters live in the URL (?state=running), so the overview's counts link here.
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, listAll, type Page, type Schemas } from '../api/client';
import { Empty, Loading, StateBadge, When, ScrollRegion } from '../components/common';
import { ProblemView } from '../components/ProblemView';
import { useApi } from '../lib/hooks';
import { canWrite, useSession } from '../lib/session';
import './tenant.css';

type Instance = Schemas['Instance'];
type Flavor = Schemas['Flavor'];
type Region = Schemas['Region'];
type Workspace = Schemas['Workspace'];

export const PAGE_SIZE = 50;
const STATES = ['scheduling', 'building', 'running', 'stopped', 'migrating', 'deleting', 'deleted', 'error'];
const FILTERS = ['name', 'state', 'workspace', 'region'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

export default function Instances() {
  const s = useSession();
  const loc = useLocation();
  const filters: Filters = {};
  for (const f of FILTERS) if (loc.query[f]) filters[f] = loc.query[f];
  const key = JSON.stringify(filters);

  const [items, setItems] = useState<Instance[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [more, setMore] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const first = useApi(() => api<Page<Instance>>('/v1/instances', { query: { limit: PAGE_SIZE, ...filters } }), [key]);
  useEffect(() => {
    if (!first.data) return;
    setItems(first.data.items);
    setNext(first.data.next);
  }, [first.data]);

  const flavors = useApi(() => listAll<Flavor>('/v1/flavors'), []);
  const regions = useApi(() => listAll<Region>('/v1/regions'), []);
  const workspaces = useApi(() => listAll<Workspace>(`/v1/tenants/${encodeURIComponent(s.tenantId)}/workspaces`), [s.tenantId]);
  const flavorName = new Map((flavors.data ?? []).map((f) => [f.id, f.name]));

  const [name, setName] = useState(filters.name ?? '');
  useEffect(() => setName(filters.name ?? ''), [filters.name]);

  const apply = (change: Filters) => {
    const q = new URLSearchParams();
    const all = { ...filters, ...change };
    for (const f of FILTERS) if (all[f]) q.set(f, all[f] as string);
    const qs = q.toString();
    loc.route(`/console/instances${qs ? `?${qs}` : ''}`, true);
  };

  const loadMore = async () => {
    if (!next) return;
    setMore({ busy: true, error: null });
    try {
      const p = await api<Page<Instance>>(next);
      setItems((old) => [...old, ...p.items]);
      setNext(p.next);
      setMore({ busy: false, error: null });
    } catch (e) {
      setMore({ busy: false, error: e });
    }
  };

  const filtered = FILTERS.some((f) => filters[f]);
  return (
    <section>
      <div class="page-head">
        <h1>Instances</h1>
        {canWrite(s) && (
          <a class="button primary" href="/console/instances/new">
            Create instance
          </a>
        )}
      </div>
      {s.isOperator && <p class="muted">As an operator you see every tenant's instances.</p>}
      <form
        class="filters"
        role="search"
        aria-label="Filter instances"
        onSubmit={(e) => {
          e.preventDefault();
          apply({ name: name.trim() });
        }}
      >
        <div>
          <label for="f-name">Name</label>
          <input id="f-name" type="search" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </div>
        <div>
          <label for="f-state">State</label>
          <select id="f-state" value={filters.state ?? ''} onChange={(e) => apply({ state: (e.target as HTMLSelectElement).value })}>
            <option value="">Any state</option>
            {STATES.map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-workspace">Workspace</label>
          <select id="f-workspace" value={filters.workspace ?? ''} onChange={(e) => apply({ workspace: (e.target as HTMLSelectElement).value })}>
            <option value="">Any workspace</option>
            {(workspaces.data ?? []).map((w) => (
              <option key={w.name} value={w.name}>
                {w.name}
              </option>
            ))}
            {filters.workspace && !(workspaces.data ?? []).some((w) => w.name === filters.workspace) && <option value={filters.workspace}>{filters.workspace}</option>}
          </select>
        </div>
        <div>
          <label for="f-region">Region</label>
          <select id="f-region" value={filters.region ?? ''} onChange={(e) => apply({ region: (e.target as HTMLSelectElement).value })}>
            <option value="">Any region</option>
            {(regions.data ?? []).map((r) => (
              <option key={r.code} value={r.code}>
                {r.code}
              </option>
            ))}
            {filters.region && !(regions.data ?? []).some((r) => r.code === filters.region) && <option value={filters.region}>{filters.region}</option>}
          </select>
        </div>
        <button type="submit">Apply filters</button>
        {filtered && (
          <button
            type="button"
            onClick={() => {
              setName('');
              loc.route('/console/instances', true);
            }}
          >
            Clear filters
          </button>
        )}
        <button type="button" onClick={first.reload}>
          Refresh
        </button>
      </form>
      <ProblemView error={first.error} />
      {first.loading && !first.data ? (
        <Loading what="Loading instances" />
      ) : items.length === 0 ? (
        <Empty>{filtered ? 'No instance matches these filters.' : 'No instances yet.'}</Empty>
      ) : (
        <ScrollRegion label="Instances table">
          <table aria-label="Instances">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Workspace</th>
                {s.isOperator && <th scope="col">Tenant</th>}
                <th scope="col">Flavor</th>
                <th scope="col">Region / zone</th>
                <th scope="col">Addresses</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((x) => (
                <tr key={x.id}>
                  <td>
                    <a href={`/console/instances/${encodeURIComponent(x.id ?? '')}`}>{x.name}</a>
                  </td>
                  <td>
                    <StateBadge state={x.state} />
                  </td>
                  <td>{x.workspace ?? '—'}</td>
                  {s.isOperator && (
                    <td>
                      <code title={x.tenant_id ?? ''}>{x.tenant_id?.slice(0, 8) ?? '—'}</code>
                    </td>
                  )}
                  <td>{(x.flavor_id && flavorName.get(x.flavor_id)) ?? `${x.vcpus} vCPU, ${x.memory_mib} MiB`}</td>
                  <td>
                    {x.region}
                    {x.zone ? ` / ${x.zone}` : ''}
                  </td>
                  <td>{(x.addresses ?? []).join(', ') || <span class="muted">—</span>}</td>
                  <td>
                    <When iso={x.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <ProblemView error={more.error} />
      {next && (
        <button type="button" onClick={loadMore} disabled={more.busy}>
          {more.busy ? 'Loading more…' : 'More'}
        </button>
      )}
      <p class="muted" role="status">
        {first.data ? `${items.length} shown${next ? ', more to load' : ''}` : ''}
      </p>
    </section>
  );
}
