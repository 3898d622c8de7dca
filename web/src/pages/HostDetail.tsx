// A host (operators): what discovery found, its capacity, the instances on it, and what an
// operator does with it: maintenance on and off, disable or drain, evacuate (following the
// operation to its result: moved, stayed, failed), allocation ratios, accepting a different
// machine found at its URI, delete.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, ApiError, listAll, type Schemas } from '../api/client';
import { ProblemView } from '../components/ProblemView';
import { ConfirmButton, Empty, Loading, OperationProgress, StateBadge, When, type Operation, ScrollRegion } from '../components/common';
import { BASE, CapacityBars, virtualization, type Host } from '../components/HostParts';
import { TextField } from '../components/Field';
import { mib, numberOrUndefined } from '../components/OpsFields';
import { useApi, useSubmit } from '../lib/hooks';
import { NotFound } from './NotFound';

type Instance = Schemas['Instance'];
type HostAccepted = Schemas['HostAccepted'];

const POLL_MS = 5000;
/** States an operator sets; down, discovering and error are sovd's. */
const OPERATOR_STATES = ['disabled', 'draining', 'maintenance'];

interface Moved {
  instance_id: string;
  tenant_id?: string;
  operation_id?: string;
  live?: boolean;
}
interface Stayed {
  instance_id: string;
  tenant_id?: string;
  state?: string;
  reason?: string;
  operation_id?: string;
  error?: { code?: string; message?: string } | string | null;
}
interface EvacuationResult {
  moved?: Moved[];
  stayed?: Stayed[];
  failed?: Stayed[];
  waited?: Stayed[];
}

function errorText(e: Stayed['error']): string {
  if (!e) return '';
  if (typeof e === 'string') return e;
  return [e.code, e.message].filter(Boolean).join(': ');
}

function InstanceLink({ id }: { id: string }) {
  return (
    <a href={`${BASE}/instances/${id}`}>
      <code>{id}</code>
    </a>
  );
}

/** What an evacuation did with each instance. */
export function EvacuationSummary({ op }: { op: Operation }) {
  const r = (op.result ?? {}) as EvacuationResult;
  const moved = r.moved ?? [];
  const stayed = r.stayed ?? [];
  const failed = r.failed ?? [];
  const waited = r.waited ?? [];
  return (
    <div class="evacuation" aria-label="Evacuation result" role="region">
      <h3>Evacuation result</h3>
      <p>
        {op.state === 'succeeded' ? 'The evacuation finished' : 'The evacuation failed'}: {moved.length} moved, {stayed.length} stayed,{' '}
        {failed.length} failed{waited.length > 0 ? `, ${waited.length} waited` : ''}.
      </p>
      {moved.length > 0 && (
        <>
          <h4>Moved</h4>
          <ul>
            {moved.map((m) => (
              <li key={m.instance_id}>
                <InstanceLink id={m.instance_id} /> ({m.live ? 'live migration' : 'cold migration'})
              </li>
            ))}
          </ul>
        </>
      )}
      {stayed.length > 0 && (
        <>
          <h4>Stayed</h4>
          <ul>
            {stayed.map((s) => (
              <li key={s.instance_id}>
                <InstanceLink id={s.instance_id} />
                {s.state ? ` (${s.state})` : ''}: {s.reason}
              </li>
            ))}
          </ul>
        </>
      )}
      {failed.length > 0 && (
        <>
          <h4>Failed</h4>
          <ul>
            {failed.map((f) => (
              <li key={f.instance_id} class="bad-text">
                <InstanceLink id={f.instance_id} />: {errorText(f.error) || f.reason}
              </li>
            ))}
          </ul>
        </>
      )}
      {waited.length > 0 && (
        <>
          <h4>Waited</h4>
          <ul>
            {waited.map((w) => (
              <li key={w.instance_id}>
                <InstanceLink id={w.instance_id} />: {w.reason}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function Ratios({ host, onSaved }: { host: Host; onSaved: () => void }) {
  const [cpu, setCpu] = useState(String(host.cpu_allocation_ratio ?? ''));
  const [ram, setRam] = useState(String(host.ram_allocation_ratio ?? ''));
  const [saved, setSaved] = useState(false);

  const { submit, busy, error } = useSubmit(async () => {
    setSaved(false);
    const body: Record<string, number> = {};
    const c = numberOrUndefined(cpu);
    const r = numberOrUndefined(ram);
    if (c !== undefined) body.cpu_allocation_ratio = c;
    if (r !== undefined) body.ram_allocation_ratio = r;
    await api<Host>(`/v1/hosts/${encodeURIComponent(host.id ?? '')}`, { method: 'PATCH', body });
    setSaved(true);
    onSaved();
  });

  return (
    <form class="ops-form" onSubmit={submit} aria-labelledby="ratios-h">
      <h2 id="ratios-h">Allocation ratios</h2>
      <div class="grid">
        <TextField label="CPU allocation ratio" field="cpu_allocation_ratio" type="number" step="any" min={0.01} max={100} value={cpu} onValue={setCpu} error={error} required />
        <TextField label="RAM allocation ratio" field="ram_allocation_ratio" type="number" step="any" min={0.01} max={100} value={ram} onValue={setRam} error={error} required />
      </div>
      <ProblemView error={error} fields={['cpu_allocation_ratio', 'ram_allocation_ratio']} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save ratios'}
        </button>
        {saved && (
          <span role="status" class="done-text">
            Saved.
          </span>
        )}
      </div>
    </form>
  );
}

function Machine({ m }: { m: Host['machine'] }) {
  if (!m) return <span class="muted">not known yet</span>;
  return (
    <>
      <code>{m.id}</code>
      {m.smbios_uuid && <span class="muted"> (SMBIOS {m.smbios_uuid})</span>}
    </>
  );
}

function Facts({ h }: { h: Host }) {
  return (
    <dl class="facts">
      <dt>State</dt>
      <dd>
        <StateBadge state={h.state} /> {h.state_reason}
      </dd>
      {h.down_since && (
        <>
          <dt>Not answering since</dt>
          <dd class="bad-text">
            <When iso={h.down_since} />
          </dd>
        </>
      )}
      <dt>Virtualisation</dt>
      <dd>
        {virtualization(h)}
        {h.hypervisor_reason && <span class="muted"> ({h.hypervisor_reason})</span>}
      </dd>
      <dt>Region / zone</dt>
      <dd>
        {h.region} / {h.zone}
      </dd>
      <dt>libvirt URI</dt>
      <dd>
        <code>{h.libvirt_uri}</code>
      </dd>
      <dt>Machine</dt>
      <dd>
        <Machine m={h.machine} />
      </dd>
      <dt>CPU</dt>
      <dd>
        {h.cpus ?? '—'} CPUs{h.cpu_model ? `, ${h.cpu_model}` : ''}
        {h.numa_cells ? `, ${h.numa_cells} NUMA cells` : ''}
      </dd>
      <dt>Memory</dt>
      <dd>{mib(h.memory_mib)}</dd>
      <dt>Storage</dt>
      <dd>
        {h.storage_gib ?? '—'} GiB{h.storage_pool ? ` in pool ${h.storage_pool}` : ''}
      </dd>
      {(h.gpus ?? 0) > 0 && (
        <>
          <dt>GPUs</dt>
          <dd>
            {h.gpus} {(h.gpu_models ?? []).join(', ')}
          </dd>
        </>
      )}
      <dt>Allocation ratios</dt>
      <dd>
        CPU {h.cpu_allocation_ratio ?? '—'}, RAM {h.ram_allocation_ratio ?? '—'}
      </dd>
      <dt>Last checked</dt>
      <dd>
        <When iso={h.checked_at} />
      </dd>
      <dt>Registered</dt>
      <dd>
        <When iso={h.created_at} />
      </dd>
      <dt>ID</dt>
      <dd>
        <code>{h.id}</code>
      </dd>
    </dl>
  );
}

function InstancesOn({ host }: { host: Host }) {
  /* GET /v1/instances has no host filter: the host's region's instances, narrowed here. */
  const list = useApi(
    () => listAll<Instance>('/v1/instances', { region: host.region }).then((all) => all.filter((i) => i.host?.id === host.id)),
    [host.id, host.region],
    POLL_MS * 2,
  );
  return (
    <section aria-labelledby="on-host-h">
      <h2 id="on-host-h">Instances on this host</h2>
      <ProblemView error={list.error} />
      {list.loading && !list.data ? (
        <Loading what="Loading instances" />
      ) : list.data && list.data.length === 0 ? (
        <Empty>No instances on this host.</Empty>
      ) : (
        list.data && (
          <ScrollRegion label="Instances on this host table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">State</th>
                  <th scope="col">Tenant</th>
                  <th scope="col">vCPU</th>
                  <th scope="col">Memory</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((i) => (
                  <tr key={i.id}>
                    <td>
                      <a href={`${BASE}/instances/${i.id}`}>{i.name}</a>
                    </td>
                    <td>
                      <StateBadge state={i.state} />
                    </td>
                    <td>
                      {i.tenant_id ? (
                        <a href={`${BASE}/operator/tenants/${i.tenant_id}`}>
                          <code>{i.tenant_id.slice(0, 8)}</code>
                        </a>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td>{i.vcpus}</td>
                    <td>{mib(i.memory_mib)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )
      )}
    </section>
  );
}

export default function HostDetail({ id = '' }: { id?: string }) {
  const { route } = useLocation();
  const host = useApi(() => api<Host>(`/v1/hosts/${encodeURIComponent(id)}`), [id], POLL_MS);
  /* An evacuation that is still running when the page opens is followed too. */
  const ops = useApi(() => api<{ items: Operation[] }>('/v1/operations', { query: { resource_id: id, limit: 20 } }), [id]);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [evacuation, setEvacuation] = useState<string | null>(null);
  const [evacuated, setEvacuated] = useState<Operation | null>(null);

  if (host.error instanceof ApiError && host.error.status === 404) return <NotFound />;
  const h = host.data;
  const running = (ops.data?.items ?? []).find((o) => o.kind === 'host.evacuate' && (o.state === 'queued' || o.state === 'running'));
  const followed = evacuation ?? running?.id ?? null;

  const act = async (what: () => Promise<unknown>) => {
    setBusy(true);
    setActionError(null);
    try {
      await what();
      host.reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };

  const setState = (state: string) =>
    act(() => api<Host>(`/v1/hosts/${encodeURIComponent(id)}`, { method: 'PATCH', body: { state } }));

  const evacuate = () =>
    act(async () => {
      setEvacuated(null);
      const a = await api<HostAccepted>(`/v1/hosts/${encodeURIComponent(id)}/evacuate`, { method: 'POST' });
      if (a.operation?.id) setEvacuation(a.operation.id);
      return a;
    });

  const remove = async () => {
    setActionError(null);
    try {
      await api(`/v1/hosts/${encodeURIComponent(id)}`, { method: 'DELETE' });
      route(`${BASE}/operator/hosts`);
    } catch (e) {
      setActionError(e);
    }
  };

  if (!h) {
    return (
      <section>
        <h1>Host</h1>
        <ProblemView error={host.error} />
        {!host.error && <Loading what="Loading the host" />}
      </section>
    );
  }

  const state = h.state ?? '';
  const operatorHeld = OPERATOR_STATES.includes(state);
  return (
    <section>
      <p>
        <a href={`${BASE}/operator/hosts`}>Hosts</a>
      </p>
      <h1>Host {h.name}</h1>
      <ProblemView error={host.error} />
      <Facts h={h} />
      <h2>Capacity</h2>
      <div class="bars">
        <CapacityBars host={h} />
      </div>

      <section aria-labelledby="host-actions-h">
        <h2 id="host-actions-h">Actions</h2>
        <ProblemView error={actionError} />
        {h.machine_seen && (
          <div class="problem">
            <strong>A different machine answers at this host's URI</strong>
            <p>
              Found <code>{h.machine_seen.id}</code> where <Machine m={h.machine} /> was registered. The host stays down until you
              accept the new machine or the registered one answers again.
            </p>
            <ConfirmButton
              label="Accept the new machine"
              question={`Make ${h.machine_seen.id} the machine of host ${h.name}?`}
              confirmLabel="Accept"
              disabled={busy}
              onConfirm={() => act(() => api<Host>(`/v1/hosts/${encodeURIComponent(id)}/confirm-machine`, { method: 'POST' }))}
            />
          </div>
        )}
        <div class="actions">
          {state !== 'maintenance' && (state === 'up' || operatorHeld) && (
            <ConfirmButton
              label="Put in maintenance"
              question={`Put host ${h.name} in maintenance? It receives no new instances; those on it keep running.`}
              disabled={busy}
              onConfirm={() => setState('maintenance')}
            />
          )}
          {state === 'maintenance' && (
            <button type="button" disabled={busy} onClick={() => setState('up')}>
              End maintenance
            </button>
          )}
          {(state === 'disabled' || state === 'draining') && (
            <button type="button" disabled={busy} onClick={() => setState('up')}>
              Return to service
            </button>
          )}
          {(state === 'up' || state === 'maintenance' || state === 'draining') && (
            <ConfirmButton
              label="Disable"
              question={`Disable host ${h.name}? It receives no new instances.`}
              disabled={busy}
              onConfirm={() => setState('disabled')}
            />
          )}
          {(state === 'up' || state === 'maintenance' || state === 'disabled') && (
            <ConfirmButton
              label="Drain"
              question={`Drain host ${h.name}? It receives no new instances.`}
              disabled={busy}
              onConfirm={() => setState('draining')}
            />
          )}
          {(state === 'up' || operatorHeld) && (
            <ConfirmButton
              label="Evacuate"
              question={`Evacuate host ${h.name}? It goes to maintenance and every instance on it migrates to another host inside its tenant's residency policy; an instance with no room there stays.`}
              danger
              disabled={busy || followed !== null}
              onConfirm={evacuate}
            />
          )}
          <ConfirmButton
            label="Delete host"
            question={`Delete host ${h.name}? Only a host without instances or volumes can go.`}
            confirmLabel="Delete"
            danger
            disabled={busy}
            onConfirm={remove}
          />
        </div>
        {followed && !evacuated && (
          <div aria-label="Evacuation" role="region">
            <h3>Evacuation</h3>
            <OperationProgress
              id={followed}
              onDone={(op) => {
                /* OperationProgress gives the finished operation; its result lists each instance. */
                setEvacuated(op);
                setEvacuation(null);
                ops.reload();
                host.reload();
              }}
            />
          </div>
        )}
        {evacuated && <EvacuationSummary op={evacuated} />}
      </section>

      <Ratios key={h.id} host={h} onSaved={host.reload} />
      <InstancesOn host={h} />
    </section>
  );
}
