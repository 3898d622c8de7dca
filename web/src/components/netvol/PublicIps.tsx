// Public IPs: allocate one from a region's pool (a region the residency policy allows), attach it
// to a port (and so to that port's instance), detach it, release it. Tenant-wide on the Networks
// page; on a network's page, those on its ports and the free ones of its region, and its ports to
// attach to.
import { useEffect, useState } from 'preact/hooks';
import { api, listAll, type Schemas } from '../../api/client';
import { canWrite, useSession } from '../../lib/session';
import { useApi, useSubmit } from '../../lib/hooks';
import { ProblemView } from '../ProblemView';
import { ConfirmButton, Empty, Loading, StateBadge, ScrollRegion } from '../common';
import { Field, fieldAttrs } from '../Field';
import { useOperations } from './Operations';
import { ResidencyNow, RegionSelect } from './Residency';

type PublicIp = Schemas['PublicIp'];
type Port = Schemas['Port'];
type Accepted = Schemas['PublicIpAccepted'];

const BUSY = ['creating', 'attaching', 'detaching', 'deleting'];

export function portLabel(p: Port): string {
  const inst = p.instance ? ` on ${p.instance.name ?? p.instance.id}` : '';
  return `${p.name} (${p.ip}${inst})`;
}

export function PublicIps({ networkPorts, region, onChange }: { networkPorts?: Port[]; region?: string; onChange?: () => void }) {
  const s = useSession();
  const write = canWrite(s);
  const [busy, setBusy] = useState(false);
  const scoped = networkPorts !== undefined;
  const list = useApi(
    async () => {
      const [ips, ports] = await Promise.all([
        listAll<PublicIp>('/v1/public-ips'),
        scoped ? Promise.resolve(networkPorts) : listAll<Port>('/v1/ports'),
      ]);
      return { ips, ports: ports.filter((p) => p.state !== 'deleted') };
    },
    [scoped, networkPorts?.map((p) => p.id).join(',')],
    busy ? 2000 : undefined,
  );
  const reload = () => {
    list.reload();
    onChange?.();
  };
  const ops = useOperations(reload);
  const ports = list.data?.ports ?? [];
  const portIds = new Set(ports.map((p) => p.id));
  const ips = (list.data?.ips ?? []).filter(
    (i) => i.state !== 'deleted' && (!scoped || (i.port ? portIds.has(i.port.id) : i.region === region)),
  );
  const transitional = ips.some((i) => BUSY.includes(i.state));
  useEffect(() => setBusy(transitional), [transitional]);

  return (
    <div>
      <h2 id="public-ips">Public IPs</h2>
      <p class="muted">An address from a region's public pool, attached to a port; the port's network needs a router.</p>
      <ProblemView error={list.error} />
      {ops.view}
      {list.loading && !list.data ? (
        <Loading what="Loading public IPs" />
      ) : ips.length === 0 ? (
        <Empty>{scoped ? 'No public IP on this network’s ports, and none free in its region.' : 'No public IPs yet.'}</Empty>
      ) : (
        <ScrollRegion label="List of public IPs">
          <table aria-label="Public IPs">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Address</th>
                <th scope="col">State</th>
                <th scope="col">Region</th>
                <th scope="col">Attached to</th>
                <th scope="col">Residency</th>
                {write && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {ips.map((ip) => (
                <IpRow key={ip.id} ip={ip} ports={ports} write={write} track={ops.track} />
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {write && <Allocate ports={ports} onCreated={(r) => ops.track(r.operation, `Allocating public IP ${r.public_ip?.name ?? ''}`)} />}
    </div>
  );
}

function IpRow({
  ip,
  ports,
  write,
  track,
}: {
  ip: PublicIp;
  ports: Port[];
  write: boolean;
  track: (op: { id?: string } | undefined, label: string) => void;
}) {
  const [port, setPort] = useState('');
  const [error, setError] = useState<unknown>(null);
  const attached = ip.port ? ports.find((p) => p.id === ip.port?.id) : undefined;
  const act = async (body: Record<string, string>, label: string) => {
    setError(null);
    try {
      const r = await api<Accepted>(`/v1/public-ips/${encodeURIComponent(ip.id)}/actions`, { method: 'POST', body });
      track(r?.operation, label);
    } catch (e) {
      setError(e);
    }
  };
  const release = async () => {
    setError(null);
    try {
      const r = await api<Accepted>(`/v1/public-ips/${encodeURIComponent(ip.id)}`, { method: 'DELETE' });
      track(r?.operation, `Releasing public IP ${ip.address}`);
    } catch (e) {
      setError(e);
    }
  };
  const pid = `pip-${ip.id}-port`;
  return (
    <tr>
      <td>{ip.name}</td>
      <td>
        <code>{ip.address}</code>
      </td>
      <td>
        <StateBadge state={ip.state} />
      </td>
      <td>{ip.region}</td>
      <td>
        {ip.port ? (
          attached ? (
            <>
              port {portLabel(attached)}
              {attached.instance && (
                <>
                  {' '}
                  · <a href={`/console/instances/${encodeURIComponent(attached.instance.id ?? '')}`}>{attached.instance.name ?? 'instance'}</a>
                </>
              )}
            </>
          ) : (
            <>port {ip.port.ip}</>
          )
        ) : (
          <span class="muted">nothing</span>
        )}
      </td>
      <td>
        <ResidencyNow residency={ip.residency} />
      </td>
      {write && (
        <td>
          <ProblemView error={error} fields={['port']} />
          {ip.port ? (
            <div class="actions">
              <ConfirmButton
                label={`Detach public IP ${ip.address}`}
                question={<>Detach {ip.address} from its port? The instance is no longer reachable at this address.</>}
                confirmLabel="Detach"
                onConfirm={() => act({ action: 'detach' }, `Detaching ${ip.address}`)}
              />
            </div>
          ) : (
            <form
              class="nv-inline"
              onSubmit={(e) => {
                e.preventDefault();
                if (port) void act({ action: 'attach', port }, `Attaching ${ip.address}`);
              }}
            >
              <div>
                <label for={pid}>Port for {ip.address}</label>
                <select {...fieldAttrs(error, 'port', pid)} value={port} onChange={(e) => setPort((e.target as HTMLSelectElement).value)}>
                  <option value="">Choose a port</option>
                  {ports.map((p) => (
                    <option key={p.id} value={p.id}>
                      {portLabel(p)}
                    </option>
                  ))}
                </select>
              </div>
              <button type="submit" disabled={!port}>
                Attach {ip.address}
              </button>
            </form>
          )}
          <div class="actions">
            <ConfirmButton
              label={`Release public IP ${ip.address}`}
              question={<>Release {ip.address}? It goes back to the region's pool; you may not get it again.</>}
              confirmLabel="Release"
              danger
              disabled={ip.state === 'deleting'}
              onConfirm={release}
            />
          </div>
        </td>
      )}
    </tr>
  );
}

function Allocate({ ports, onCreated }: { ports: Port[]; onCreated: (r: Accepted) => void }) {
  const [name, setName] = useState('');
  const [region, setRegion] = useState('');
  const [port, setPort] = useState('');
  const { submit, busy: sending, error } = useSubmit(async () => {
    const body: Record<string, string> = { name };
    if (region) body.region = region;
    if (port) body.port = port;
    const r = await api<Accepted>('/v1/public-ips', { method: 'POST', body });
    setName('');
    onCreated(r);
  });
  return (
    <form class="nv-form" onSubmit={submit} aria-labelledby="nv-alloc-h">
      <h3 id="nv-alloc-h">Allocate a public IP</h3>
      <ProblemView error={error} fields={['name', 'region', 'port']} />
      <Field id="pip-name" label="Public IP name" field="name" error={error}>
        <input {...fieldAttrs(error, 'name', 'pip-name')} required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </Field>
      <RegionSelect idPrefix="pip" region={region} onRegion={setRegion} error={error} />
      <Field id="pip-port" label="Attach to port" field="port" error={error} hint="Optional: leave it unattached for now.">
        <select {...fieldAttrs(error, 'port', 'pip-port')} value={port} onChange={(e) => setPort((e.target as HTMLSelectElement).value)}>
          <option value="">None</option>
          {ports.map((p) => (
            <option key={p.id} value={p.id}>
              {portLabel(p)}
            </option>
          ))}
        </select>
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={sending}>
          {sending ? 'Allocating public IP…' : 'Allocate public IP'}
        </button>
      </div>
    </form>
  );
}
