// A network: its facts and residency, subnets (create, delete), ports (create, delete, security
// groups), its router (create, delete), public IPs on its ports, and the residency history.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, listAll, type Schemas } from '../api/client';
import { canWrite, useSession } from '../lib/session';
import { useApi, useSubmit } from '../lib/hooks';
import { FieldError, ProblemView } from '../components/ProblemView';
import { ConfirmButton, Empty, Loading, StateBadge, When, ScrollRegion } from '../components/common';
import { BlockedBy, useDeletes } from '../components/netvol/BlockedBy';
import { Field, fieldAttrs } from '../components/Field';
import { useOperations } from '../components/netvol/Operations';
import { PublicIps } from '../components/netvol/PublicIps';
import { ResidencyHistory, ResidencyNow } from '../components/netvol/Residency';
import { NotFound } from './NotFound';
import '../components/netvol/netvol.css';

type Network = Schemas['Network'];
type Subnet = Schemas['Subnet'];
type Port = Schemas['Port'];
type Router = Schemas['Router'];
type Group = Schemas['SecurityGroup'];
type Instance = Schemas['Instance'];

const BUSY = ['creating', 'updating', 'deleting', 'attaching', 'detaching'];
type Track = (op: { id?: string } | undefined, label: string) => void;

interface Data {
  network: Network;
  subnets: Subnet[];
  ports: Port[];
  router: Router | null;
  groups: Group[];
  /** Instances of the network's region: what a free port may be plugged into. */
  instances: Instance[];
}

export default function NetworkDetail({ id = '' }: { id?: string }) {
  const s = useSession();
  const write = canWrite(s);
  const [busy, setBusy] = useState(false);
  const enc = encodeURIComponent(id);
  const d = useApi<Data>(
    async () => {
      const network = await api<Network>(`/v1/networks/${enc}`);
      const [subnets, ports, router, groups, instances] = await Promise.all([
        listAll<Subnet>('/v1/subnets', { network: network.id }),
        listAll<Port>('/v1/ports', { network: network.id }),
        network.router ? api<Router>(`/v1/routers/${encodeURIComponent(network.router)}`).catch(() => null) : Promise.resolve(null),
        listAll<Group>('/v1/security-groups').catch(() => [] as Group[]),
        listAll<Instance>('/v1/instances').catch(() => [] as Instance[]),
      ]);
      return {
        network,
        subnets: subnets.filter((x) => x.state !== 'deleted'),
        ports: ports.filter((x) => x.state !== 'deleted'),
        router: router && router.state !== 'deleted' ? router : null,
        groups: groups.filter((g) => g.state !== 'deleted'),
        instances: instances.filter((i) => i.region === network.region && i.state !== 'deleted' && i.state !== 'deleting'),
      };
    },
    [id],
    busy ? 2000 : undefined,
  );
  const ops = useOperations(d.reload);
  const data = d.data;
  const transitional =
    !!data &&
    [data.network, ...data.subnets, ...data.ports, ...(data.router ? [data.router] : [])].some((x) => BUSY.includes(x.state ?? ''));
  useEffect(() => setBusy(transitional), [transitional]);

  if (d.error instanceof ApiError && d.error.status === 404) return <NotFound />;
  if (!data) {
    return (
      <section>
        <h1>Network</h1>
        <ProblemView error={d.error} />
        {!d.error && <Loading what="Loading the network" />}
      </section>
    );
  }
  const n = data.network;
  return (
    <section>
      <p>
        <a href="/console/networks">Networks</a>
      </p>
      <h1>Network {n.name}</h1>
      <ProblemView error={d.error} />
      <dl class="nv-facts">
        <dt>State</dt>
        <dd>
          <StateBadge state={n.state} /> {n.state_reason && <span class="muted">{n.state_reason}</span>}
        </dd>
        <dt>CIDR</dt>
        <dd>
          <code>{n.cidr}</code>
        </dd>
        <dt>Region</dt>
        <dd>{n.region}</dd>
        <dt>Workspace</dt>
        <dd>{n.workspace}</dd>
        <dt>Residency</dt>
        <dd>
          <ResidencyNow residency={n.residency} />
        </dd>
        <dt>Created</dt>
        <dd>
          <When iso={n.created_at} />
        </dd>
        <dt>Id</dt>
        <dd>
          <code>{n.id}</code>
        </dd>
      </dl>
      {ops.view}
      <Subnets network={n} subnets={data.subnets} write={write} track={ops.track} />
      <Ports network={n} subnets={data.subnets} ports={data.ports} groups={data.groups} instances={data.instances} write={write} track={ops.track} />
      <RouterSection network={n} router={data.router} write={write} track={ops.track} />
      <section aria-labelledby="public-ips">
        <PublicIps networkPorts={data.ports} region={n.region} onChange={d.reload} />
      </section>
      <p>
        Security groups are shared by the workspace's networks: <a href="/console/networks?tab=security-groups">manage security groups</a>.
      </p>
      <ResidencyHistory path={`/v1/networks/${encodeURIComponent(n.id ?? id)}/residency`} />
    </section>
  );
}

/* ---- subnets ---- */

function Subnets({ network, subnets, write, track }: { network: Network; subnets: Subnet[]; write: boolean; track: Track }) {
  const deletes = useDeletes(track);
  const here = `/console/networks/${encodeURIComponent(network.id ?? '')}`;
  const del = (x: Subnet) => deletes.remove(x.id, `/v1/subnets/${encodeURIComponent(x.id ?? '')}`, `Deleting subnet ${x.name}`);
  return (
    <section aria-labelledby="subnets-h" id="subnets">
      <h2 id="subnets-h">Subnets</h2>
      <p class="muted">OVN's DHCP hands each port its address in its subnet; there is no switch to turn DHCP off.</p>
      {subnets.length === 0 ? (
        <Empty>No subnets: a port needs one.</Empty>
      ) : (
        <ScrollRegion label="List of subnets">
          <table aria-label="Subnets">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">CIDR</th>
                <th scope="col">Gateway</th>
                <th scope="col">Zone</th>
                <th scope="col">DNS servers</th>
                <th scope="col">Addresses used</th>
                <th scope="col">State</th>
                {write && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {subnets.map((x) => (
                <tr key={x.id}>
                  <td>{x.name}</td>
                  <td>
                    <code>{x.cidr}</code>
                  </td>
                  <td>
                    <code>{x.gateway}</code>
                  </td>
                  <td>{x.zone ?? <span class="muted">every zone</span>}</td>
                  <td>{x.dns_servers?.length ? x.dns_servers.join(', ') : <span class="muted">default</span>}</td>
                  <td>
                    {x.addresses_used ?? 0} of {x.addresses_total ?? '?'}
                  </td>
                  <td>
                    <StateBadge state={x.state} />
                  </td>
                  {write && (
                    <td>
                      <ConfirmButton
                        label={`Delete subnet ${x.name}`}
                        question={<>Delete subnet {x.name} ({x.cidr})? Its ports must be deleted first.</>}
                        confirmLabel="Delete subnet"
                        danger
                        disabled={x.state === 'deleting'}
                        onConfirm={() => del(x)}
                      />
                      {deletes.refusal(x.id, `Subnet ${x.name}`, here)}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {write && <CreateSubnet network={network} track={track} />}
    </section>
  );
}

function CreateSubnet({ network, track }: { network: Network; track: Track }) {
  const [name, setName] = useState('');
  const [cidr, setCidr] = useState('');
  const [gateway, setGateway] = useState('');
  const [zone, setZone] = useState('');
  const [dns, setDns] = useState('');
  const { submit, busy: sending, error } = useSubmit(async () => {
    const body: Record<string, unknown> = { name, network: network.id, cidr };
    if (gateway) body.gateway = gateway;
    if (zone) body.zone = zone;
    const servers = dns
      .split(/[\s,]+/)
      .map((x) => x.trim())
      .filter(Boolean);
    if (servers.length) body.dns_servers = servers;
    const r = await api<Schemas['SubnetAccepted']>('/v1/subnets', { method: 'POST', body });
    setName('');
    setCidr('');
    setGateway('');
    track(r?.operation, `Creating subnet ${r?.subnet?.name ?? name}`);
  });
  return (
    <form class="nv-form" onSubmit={submit} aria-labelledby="nv-create-subnet-h">
      <h3 id="nv-create-subnet-h">Create a subnet</h3>
      <ProblemView error={error} fields={['name', 'cidr', 'gateway', 'zone', 'dns_servers']} />
      <Field id="subnet-name" label="Subnet name" field="name" error={error}>
        <input {...fieldAttrs(error, 'name', 'subnet-name')} required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </Field>
      <Field id="subnet-cidr" label="Subnet CIDR" field="cidr" error={error} hint={`Inside ${network.cidr}, /16 to /29, overlapping no other subnet.`}>
        <input {...fieldAttrs(error, 'cidr', 'subnet-cidr')} required value={cidr} onInput={(e) => setCidr((e.target as HTMLInputElement).value)} />
      </Field>
      <Field id="subnet-gateway" label="Gateway" field="gateway" error={error} hint="Optional: the first host address by default.">
        <input {...fieldAttrs(error, 'gateway', 'subnet-gateway')} value={gateway} onInput={(e) => setGateway((e.target as HTMLInputElement).value)} />
      </Field>
      <Field id="subnet-zone" label="Zone" field="zone" error={error} hint={`Optional: a zone of ${network.region}; empty: every zone.`}>
        <input {...fieldAttrs(error, 'zone', 'subnet-zone')} value={zone} onInput={(e) => setZone((e.target as HTMLInputElement).value)} />
      </Field>
      <Field id="subnet-dns" label="DNS servers" field="dns_servers" error={error} hint="Optional: up to 4 addresses, separated by commas.">
        <input {...fieldAttrs(error, 'dns_servers', 'subnet-dns')} value={dns} onInput={(e) => setDns((e.target as HTMLInputElement).value)} />
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={sending}>
          {sending ? 'Creating subnet…' : 'Create subnet'}
        </button>
      </div>
    </form>
  );
}

/* ---- ports ---- */

function GroupChecks({ idPrefix, groups, chosen, onChange, legend }: { idPrefix: string; groups: Group[]; chosen: string[]; onChange: (ids: string[]) => void; legend: string }) {
  return (
    <fieldset class="nv-checks">
      <legend>{legend}</legend>
      {groups.length === 0 && <p class="muted">No security groups.</p>}
      {groups.map((g) => (
        <label class="nv-check" key={g.id} for={`${idPrefix}-${g.id}`}>
          <input
            id={`${idPrefix}-${g.id}`}
            type="checkbox"
            checked={chosen.includes(g.id)}
            onChange={(e) => onChange((e.target as HTMLInputElement).checked ? [...chosen, g.id] : chosen.filter((x) => x !== g.id))}
          />
          {g.name}
        </label>
      ))}
    </fieldset>
  );
}

function Ports({
  network,
  subnets,
  ports,
  groups,
  instances,
  write,
  track,
}: {
  network: Network;
  subnets: Subnet[];
  ports: Port[];
  groups: Group[];
  instances: Instance[];
  write: boolean;
  track: Track;
}) {
  const name = (gid: string) => groups.find((g) => g.id === gid)?.name ?? gid.slice(0, 8);
  return (
    <section aria-labelledby="ports-h" id="ports">
      <h2 id="ports-h">Ports</h2>
      {ports.length === 0 ? (
        <Empty>No ports on this network.</Empty>
      ) : (
        <ScrollRegion label="List of ports">
          <table aria-label="Ports">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">IP</th>
                <th scope="col">MAC</th>
                <th scope="col">Subnet</th>
                <th scope="col">Instance</th>
                <th scope="col">Security groups</th>
                <th scope="col">Public IP</th>
                <th scope="col">State</th>
                {write && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {ports.map((p) => (
                <PortRow key={p.id} port={p} groups={groups} instances={instances} groupName={name} write={write} track={track} network={network} />
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {write && <CreatePort subnets={subnets} groups={groups} track={track} />}
    </section>
  );
}

function PortRow({
  port: p,
  groups,
  instances,
  groupName,
  write,
  track,
  network,
}: {
  port: Port;
  groups: Group[];
  instances: Instance[];
  groupName: (id: string) => string;
  write: boolean;
  track: Track;
  network: Network;
}) {
  const [editing, setEditing] = useState(false);
  const [chosen, setChosen] = useState<string[]>(p.security_groups ?? []);
  const [error, setError] = useState<unknown>(null);
  const [instance, setInstance] = useState('');
  const here = `/console/networks/${encodeURIComponent(network.id ?? '')}`;
  const plug = async (body: Record<string, string>, label: string) => {
    setError(null);
    try {
      const r = await api<Schemas['PortAccepted']>(`/v1/ports/${encodeURIComponent(p.id ?? '')}/actions`, { method: 'POST', body });
      setInstance('');
      track(r?.operation, label);
    } catch (err) {
      setError(err);
    }
  };
  const del = async () => {
    setError(null);
    try {
      const r = await api<Schemas['PortAccepted']>(`/v1/ports/${encodeURIComponent(p.id ?? '')}`, { method: 'DELETE' });
      track(r?.operation, `Deleting port ${p.name}`);
    } catch (e) {
      setError(e);
    }
  };
  const saveGroups = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api<Schemas['PortAccepted']>(`/v1/ports/${encodeURIComponent(p.id ?? '')}/security-groups`, {
        method: 'PUT',
        body: { security_groups: chosen },
      });
      setEditing(false);
      track(r?.operation, `Changing the security groups of port ${p.name}`);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <tr>
      <td>{p.name}</td>
      <td>
        <code>{p.ip}</code>
      </td>
      <td>
        <code>{p.mac}</code>
      </td>
      <td>{p.subnet?.name}</td>
      <td>
        {p.instance ? <a href={`/console/instances/${encodeURIComponent(p.instance.id ?? '')}`}>{p.instance.name ?? p.instance.id}</a> : <span class="muted">none</span>}
        {p.instance && <span class="muted"> {p.up ? '(up)' : '(down)'}</span>}
      </td>
      <td>{p.security_groups?.length ? p.security_groups.map(groupName).join(', ') : <span class="muted">none (nothing may reach it)</span>}</td>
      <td>{p.public_ip ? <code>{p.public_ip}</code> : <span class="muted">none</span>}</td>
      <td>
        <StateBadge state={p.state} />
      </td>
      {write && (
        <td>
          <ProblemView error={error} fields={editing ? ['security_groups'] : p.instance ? [] : ['instance']} />
          <BlockedBy error={error} what={`Port ${p.name}`} here={here} />
          {editing ? (
            <form onSubmit={saveGroups} aria-label={`Security groups of port ${p.name}`}>
              <GroupChecks idPrefix={`pg-${p.id}`} groups={groups} chosen={chosen} onChange={setChosen} legend={`Security groups of ${p.name}`} />
              <FieldErrorFor error={error} field="security_groups" />
              <div class="actions">
                <button type="submit" class="primary">
                  Save security groups
                </button>
                <button type="button" onClick={() => setEditing(false)}>
                  Cancel
                </button>
              </div>
            </form>
          ) : (
            <div class="actions">
              {p.instance ? (
                <ConfirmButton
                  label={`Detach port ${p.name} from ${p.instance.name ?? 'its instance'}`}
                  question={<>Unplug port {p.name} from instance {p.instance.name}? The instance loses this NIC.</>}
                  confirmLabel="Detach port"
                  disabled={p.state !== 'in-use'}
                  onConfirm={() => plug({ action: 'detach', instance: p.instance?.id ?? '' }, `Detaching port ${p.name}`)}
                />
              ) : (
                <form
                  class="nv-inline"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (instance) void plug({ action: 'attach', instance }, `Attaching port ${p.name}`);
                  }}
                >
                  <div>
                    <label for={`port-${p.id}-instance`}>Instance for {p.name}</label>
                    <select
                      {...fieldAttrs(error, 'instance', `port-${p.id}-instance`)}
                      value={instance}
                      onChange={(e) => setInstance((e.target as HTMLSelectElement).value)}
                    >
                      <option value="">Choose an instance</option>
                      {instances.map((i) => (
                        <option key={i.id} value={i.id}>
                          {i.name} ({i.state})
                        </option>
                      ))}
                    </select>
                    <FieldError error={error} field="instance" id={`port-${p.id}-instance-error`} />
                  </div>
                  <button type="submit" disabled={!instance || p.state !== 'available'}>
                    Attach port {p.name}
                  </button>
                </form>
              )}
              <button
                type="button"
                onClick={() => {
                  setChosen(p.security_groups ?? []);
                  setEditing(true);
                }}
              >
                Change security groups of {p.name}
              </button>
              <ConfirmButton
                label={`Delete port ${p.name}`}
                question={<>Delete port {p.name} ({p.ip})?{p.instance ? ' It is plugged into an instance: detach it first.' : ''}</>}
                confirmLabel="Delete port"
                danger
                disabled={p.state === 'deleting'}
                onConfirm={del}
              />
            </div>
          )}
        </td>
      )}
    </tr>
  );
}

function FieldErrorFor({ error, field }: { error: unknown; field: string }) {
  const m = error instanceof ApiError ? error.problem.errors?.find((e) => e.field === field || e.field.startsWith(`${field}[`)) : undefined;
  return m ? (
    <p class="field-error" role="alert">
      {m.message}
    </p>
  ) : null;
}

function CreatePort({ subnets, groups, track }: { subnets: Subnet[]; groups: Group[]; track: Track }) {
  const [subnet, setSubnet] = useState('');
  const [name, setName] = useState('');
  const [ip, setIp] = useState('');
  const [chosen, setChosen] = useState<string[]>(() => groups.filter((g) => g.is_default).map((g) => g.id));
  const sub = subnet || subnets[0]?.id || '';
  const { submit, busy: sending, error } = useSubmit(async () => {
    const body: Record<string, unknown> = { subnet: sub, security_groups: chosen };
    if (name) body.name = name;
    if (ip) body.ip = ip;
    const r = await api<Schemas['PortAccepted']>('/v1/ports', { method: 'POST', body });
    setName('');
    setIp('');
    track(r?.operation, `Creating port ${r?.port?.name ?? name}`);
  });
  return (
    <form class="nv-form" onSubmit={submit} aria-labelledby="nv-create-port-h">
      <h3 id="nv-create-port-h">Create a port</h3>
      <ProblemView error={error} fields={['subnet', 'name', 'ip', 'security_groups']} />
      <Field id="port-subnet" label="Subnet of the port" field="subnet" error={error}>
        <select {...fieldAttrs(error, 'subnet', 'port-subnet')} value={sub} required onChange={(e) => setSubnet((e.target as HTMLSelectElement).value)}>
          {subnets.length === 0 && <option value="">Create a subnet first</option>}
          {subnets.map((x) => (
            <option key={x.id} value={x.id}>
              {x.name} ({x.cidr})
            </option>
          ))}
        </select>
      </Field>
      <Field id="port-name" label="Port name" field="name" error={error} hint="Optional: port- and the start of its id by default.">
        <input {...fieldAttrs(error, 'name', 'port-name')} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </Field>
      <Field id="port-ip" label="IP address" field="ip" error={error} hint="Optional: the lowest free address by default.">
        <input {...fieldAttrs(error, 'ip', 'port-ip')} value={ip} onInput={(e) => setIp((e.target as HTMLInputElement).value)} />
      </Field>
      <GroupChecks idPrefix="port-sg" groups={groups} chosen={chosen} onChange={setChosen} legend="Security groups of the new port" />
      <FieldErrorFor error={error} field="security_groups" />
      <div class="actions">
        <button type="submit" class="primary" disabled={sending || !sub}>
          {sending ? 'Creating port…' : 'Create port'}
        </button>
      </div>
    </form>
  );
}

/* ---- router ---- */

function RouterSection({ network, router, write, track }: { network: Network; router: Router | null; write: boolean; track: Track }) {
  const [name, setName] = useState(`${network.name ?? 'net'}-router`.slice(0, 63));
  const [snat, setSnat] = useState(true);
  const { submit: create, busy: sending, error, setError } = useSubmit(async () => {
    const r = await api<Schemas['RouterAccepted']>('/v1/routers', { method: 'POST', body: { name, network: network.id, snat } });
    track(r?.operation, `Creating router ${name}`);
  });
  const del = async () => {
    if (!router) return;
    setError(null);
    try {
      const r = await api<Schemas['RouterAccepted']>(`/v1/routers/${encodeURIComponent(router.id)}`, { method: 'DELETE' });
      track(r?.operation, `Deleting router ${router.name}`);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="routers-h" id="routers">
      <h2 id="routers-h">Router</h2>
      <p class="muted">A network's router is its way out to the internet (one per network); public IPs need it.</p>
      {router ? (
        <>
          <ProblemView error={error} />
          <BlockedBy error={error} what={`Router ${router.name}`} />
          <dl class="nv-facts">
            <dt>Name</dt>
            <dd>{router.name}</dd>
            <dt>State</dt>
            <dd>
              <StateBadge state={router.state} />
            </dd>
            <dt>External address</dt>
            <dd>{router.external_ip ? <code>{router.external_ip}</code> : <span class="muted">none yet</span>}</dd>
            <dt>Source NAT</dt>
            <dd>{router.snat ? 'on: the subnets reach out through the router’s address' : 'off'}</dd>
            <dt>Region</dt>
            <dd>{router.region}</dd>
          </dl>
          {write && (
            <ConfirmButton
              label={`Delete router ${router.name}`}
              question={<>Delete router {router.name}? The network loses its way out, and public IPs on its ports must be detached first.</>}
              confirmLabel="Delete router"
              danger
              disabled={router.state === 'deleting'}
              onConfirm={del}
            />
          )}
        </>
      ) : write ? (
        <form class="nv-form" onSubmit={create} aria-labelledby="nv-create-router-h">
          <h3 id="nv-create-router-h">Create a router</h3>
          <ProblemView error={error} fields={['name', 'snat']} />
          <Field id="router-name" label="Router name" field="name" error={error}>
            <input {...fieldAttrs(error, 'name', 'router-name')} required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </Field>
          <label class="nv-check">
            <input type="checkbox" checked={snat} onChange={(e) => setSnat((e.target as HTMLInputElement).checked)} />
            Source NAT (the subnets reach the internet through the router’s address)
          </label>
          <div class="actions">
            <button type="submit" class="primary" disabled={sending}>
              {sending ? 'Creating router…' : 'Create router'}
            </button>
          </div>
        </form>
      ) : (
        <Empty>No router.</Empty>
      )}
    </section>
  );
}
