// Hosts (operators): every hypervisor host with its state, virtualisation (KVM or TCG),
// region and zone, and capacity bars; kept fresh while the page is open. "Add host" registers
// one and follows its host.register operation.
import { useId, useMemo, useState } from 'preact/hooks';
import { api, listAll, type Schemas } from '../api/client';
import { ProblemView } from '../components/ProblemView';
import { Empty, Loading, OperationProgress, StateBadge, When, type Operation, ScrollRegion } from '../components/common';
import { CapacityBars, virtualization, type Host } from '../components/HostParts';
import { SelectField, TextField } from '../components/Field';
import { Reveal, numberOrUndefined } from '../components/OpsFields';
import { useApi, useSubmit } from '../lib/hooks';
import { BASE } from '../components/HostParts';

type Region = Schemas['Region'];
type HostAccepted = Schemas['HostAccepted'];

const STATES = ['discovering', 'up', 'down', 'disabled', 'draining', 'maintenance', 'error'];
const POLL_MS = 5000;

function AddHost({ regions, onAdded, onCancel }: { regions: Region[]; onAdded: () => void; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [region, setRegion] = useState('');
  const [zone, setZone] = useState('');
  const [uri, setUri] = useState('');
  const [cpuRatio, setCpuRatio] = useState('');
  const [ramRatio, setRamRatio] = useState('');
  const [accepted, setAccepted] = useState<HostAccepted | null>(null);
  const [finished, setFinished] = useState<Operation | null>(null);

  const zoneListId = useId();
  const chosen = regions.find((r) => r.code === region);
  const zones = chosen?.zones ?? [];

  const { submit, busy, error } = useSubmit(async () => {
    setAccepted(null);
    setFinished(null);
    const body: Record<string, unknown> = { name: name.trim(), region, zone, libvirt_uri: uri.trim() };
    const cr = numberOrUndefined(cpuRatio);
    const rr = numberOrUndefined(ramRatio);
    if (cr !== undefined) body.cpu_allocation_ratio = cr;
    if (rr !== undefined) body.ram_allocation_ratio = rr;
    const a = await api<HostAccepted>('/v1/hosts', { method: 'POST', body });
    setAccepted(a);
    setName('');
    setUri('');
    setCpuRatio('');
    setRamRatio('');
    onAdded();
  });

  const fields = ['name', 'region', 'zone', 'libvirt_uri', 'cpu_allocation_ratio', 'ram_allocation_ratio'];
  return (
    <form class="ops-form" onSubmit={submit} aria-labelledby="add-host-h">
      <h2 id="add-host-h">Add a host</h2>
      <p class="muted">sovd opens the libvirt URI, finds out what the machine is and what it can run, and then places instances on it.</p>
      <div class="grid">
        <TextField label="Name" field="name" value={name} onValue={setName} error={error} required hint="Lower case, e.g. kvm-1" />
        <SelectField
          label="Region"
          field="region"
          value={region}
          onValue={(v) => {
            setRegion(v);
            setZone(regions.find((r) => r.code === v)?.zones?.[0] ?? '');
          }}
          error={error}
          required
          options={[{ value: '', label: 'Choose a region' }, ...regions.map((r) => ({ value: r.code ?? '', label: `${r.code} (${r.country})` }))]}
        />
        <TextField
          label="Zone"
          field="zone"
          value={zone}
          onValue={setZone}
          error={error}
          required
          list={zoneListId}
          hint={chosen ? `Zones of ${chosen.code}: ${zones.join(', ')}` : 'Choose a region first'}
        />
        <datalist id={zoneListId}>
          {zones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <TextField
          label="libvirt URI"
          field="libvirt_uri"
          value={uri}
          onValue={setUri}
          error={error}
          required
          hint="e.g. qemu+tls://kvm-1.example.eu/system, qemu:///system"
        />
        <TextField
          label="CPU allocation ratio"
          field="cpu_allocation_ratio"
          type="number"
          step="any"
          min={0.01}
          max={100}
          value={cpuRatio}
          onValue={setCpuRatio}
          error={error}
          hint="vCPUs per physical CPU; 4 when empty"
        />
        <TextField
          label="RAM allocation ratio"
          field="ram_allocation_ratio"
          type="number"
          step="any"
          min={0.01}
          max={100}
          value={ramRatio}
          onValue={setRamRatio}
          error={error}
          hint="1 when empty"
        />
      </div>
      <ProblemView error={error} fields={fields} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Adding host…' : 'Add host'}
        </button>
        <button type="button" onClick={onCancel}>
          {accepted ? 'Close' : 'Cancel'}
        </button>
      </div>
      {accepted?.operation?.id && (
        <div aria-live="polite">
          <p>
            Registering host{' '}
            <a href={`${BASE}/operator/hosts/${accepted.host?.id}`}>
              <strong>{accepted.host?.name}</strong>
            </a>
            :
          </p>
          <OperationProgress
            id={accepted.operation.id}
            onDone={(op) => {
              setFinished(op);
              onAdded();
            }}
          />
          {finished?.state === 'succeeded' && <p class="done-text">Host {accepted.host?.name} is registered.</p>}
        </div>
      )}
    </form>
  );
}

export default function Hosts() {
  const [region, setRegion] = useState('');
  const [state, setState] = useState('');
  const regions = useApi(() => listAll<Region>('/v1/regions'), []);
  const hosts = useApi(() => listAll<Host>('/v1/hosts', { region, state }), [region, state], POLL_MS);
  const regionOptions = useMemo(() => regions.data ?? [], [regions.data]);

  return (
    <section>
      <h1>Hosts</h1>
      <p class="muted">Only hosts that are up receive new instances. Capacity is what the allocation ratios allow.</p>
      <div class="filters" role="search" aria-label="Filter hosts">
        {/* Labels that do not contain the add form's "Region": getByLabel('Region') finds one field. */}
        <div>
          <label for="hosts-region">Show hosts in</label>
          <select id="hosts-region" value={region} onChange={(e) => setRegion((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">every region</option>
            {regionOptions.map((r) => (
              <option key={r.code} value={r.code}>
                {r.code}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="hosts-state">Show hosts that are</label>
          <select id="hosts-state" value={state} onChange={(e) => setState((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">in any state</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ProblemView error={hosts.error} />
      {hosts.loading && !hosts.data ? (
        <Loading what="Loading hosts" />
      ) : hosts.data && hosts.data.length === 0 ? (
        <Empty>{region || state ? 'No host matches.' : 'No hosts yet: add one below.'}</Empty>
      ) : (
        hosts.data && (
          <ScrollRegion label="Hosts table">
            <table>
              <caption class="muted">{hosts.data.length} hosts</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">State</th>
                  <th scope="col">Virtualisation</th>
                  <th scope="col">Region / zone</th>
                  <th scope="col">Capacity</th>
                </tr>
              </thead>
              <tbody>
                {hosts.data.map((h) => (
                  <tr key={h.id}>
                    <td>
                      <a href={`${BASE}/operator/hosts/${h.id}`}>{h.name}</a>
                    </td>
                    <td>
                      <StateBadge state={h.state} />
                      {h.state_reason && <div class="muted">{h.state_reason}</div>}
                      {h.down_since && (
                        <div class="bad-text">
                          Not answering since <When iso={h.down_since} />
                        </div>
                      )}
                    </td>
                    <td title={h.hypervisor_reason ?? ''}>{virtualization(h)}</td>
                    <td>
                      {h.region} / {h.zone}
                    </td>
                    <td>
                      <CapacityBars host={h} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )
      )}
      <ProblemView error={regions.error} />
      <Reveal opener="Add host">{(close) => <AddHost regions={regionOptions} onAdded={hosts.reload} onCancel={close} />}</Reveal>
    </section>
  );
}
