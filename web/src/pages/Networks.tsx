// Networks: the tenant's networks (state, region, CIDR, subnets), create and delete; tabs for the
// tenant-wide security groups and public IPs.
import { useEffect, useState } from 'preact/hooks';
import { api, listAll, type Schemas } from '../api/client';
import { canWrite, useSession } from '../lib/session';
import { useApi, useSubmit } from '../lib/hooks';
import { RegionSelect } from '../components/netvol/Residency';
import { ProblemView } from '../components/ProblemView';
import { ConfirmButton, Empty, Loading, StateBadge, ScrollRegion } from '../components/common';
import { useDeletes } from '../components/netvol/BlockedBy';
import { Field, fieldAttrs } from '../components/Field';
import { useOperations } from '../components/netvol/Operations';
import { Tabs, tabFromUrl, tabToUrl, type TabDef } from '../components/netvol/Tabs';
import { SecurityGroups } from '../components/netvol/SecurityGroups';
import { PublicIps } from '../components/netvol/PublicIps';
import '../components/netvol/netvol.css';

type Network = Schemas['Network'];
type Subnet = Schemas['Subnet'];
type Accepted = Schemas['NetworkAccepted'];

const TABS: TabDef[] = [
  { id: 'networks', label: 'Networks' },
  { id: 'security-groups', label: 'Security groups' },
  { id: 'public-ips', label: 'Public IPs' },
];

const BUSY = ['creating', 'updating', 'deleting', 'attaching', 'detaching'];

export default function Networks({ query }: { query?: Record<string, string> }) {
  const [tab, setTab] = useState(() => tabFromUrl(TABS, query));
  return (
    <section>
      <h1>Networks</h1>
      <Tabs
        label="Networking"
        tabs={TABS}
        current={tab}
        onChange={(t) => {
          setTab(t);
          tabToUrl(t, TABS[0].id);
        }}
      >
        {tab === 'networks' && <NetworkList />}
        {tab === 'security-groups' && <SecurityGroups />}
        {tab === 'public-ips' && <PublicIps />}
      </Tabs>
    </section>
  );
}

function NetworkList() {
  const s = useSession();
  const write = canWrite(s);
  const [busy, setBusy] = useState(false);
  const list = useApi(
    async () => {
      const [networks, subnets] = await Promise.all([listAll<Network>('/v1/networks'), listAll<Subnet>('/v1/subnets')]);
      return { networks, subnets };
    },
    [],
    busy ? 2000 : undefined,
  );
  const ops = useOperations(list.reload);
  const deletes = useDeletes(ops.track);
  const networks = (list.data?.networks ?? []).filter((n) => n.state !== 'deleted');
  const transitional = networks.some((n) => BUSY.includes(n.state ?? ''));
  useEffect(() => setBusy(transitional), [transitional]);

  const remove = (n: Network) => deletes.remove(n.id, `/v1/networks/${encodeURIComponent(n.id ?? '')}`, `Deleting network ${n.name}`);

  return (
    <div>
      <ProblemView error={list.error} />
      {ops.view}
      {list.loading && !list.data ? (
        <Loading what="Loading networks" />
      ) : networks.length === 0 ? (
        <Empty>No networks yet. An instance created without one gets a default network.</Empty>
      ) : (
        <ScrollRegion label="Your networks">
          <table>
            <caption class="muted">Your networks</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Region</th>
                <th scope="col">CIDR</th>
                <th scope="col">Subnets</th>
                <th scope="col">Router</th>
                {write && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {networks.map((n) => {
                const subs = (list.data?.subnets ?? []).filter((x) => x.network?.id === n.id && x.state !== 'deleted');
                const here = `/console/networks/${encodeURIComponent(n.id ?? '')}`;
                return (
                  <tr key={n.id}>
                    <td>
                      <a href={here}>{n.name}</a>
                      {n.is_default && <span class="muted"> (default)</span>}
                    </td>
                    <td>
                      <StateBadge state={n.state} />
                    </td>
                    <td>{n.region}</td>
                    <td>
                      <code>{n.cidr}</code>
                    </td>
                    <td>
                      {subs.length === 0 ? (
                        <span class="muted">none</span>
                      ) : (
                        subs.map((x) => (
                          <div key={x.id}>
                            <code>{x.cidr}</code> <span class="muted">{x.name}</span>
                          </div>
                        ))
                      )}
                    </td>
                    <td>{n.router ? 'yes' : <span class="muted">none</span>}</td>
                    {write && (
                      <td>
                        <ConfirmButton
                          label={`Delete network ${n.name}`}
                          question={
                            <>
                              Delete network <strong>{n.name}</strong> ({n.cidr})? Its subnets, ports and router must be deleted first.
                            </>
                          }
                          confirmLabel="Delete network"
                          danger
                          disabled={n.state === 'deleting'}
                          onConfirm={() => remove(n)}
                        />
                        {deletes.refusal(n.id, `Network ${n.name}`, here)}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {write && <CreateNetwork onCreated={(r) => ops.track(r.operation, `Creating network ${r.network?.name ?? ''}`)} />}
    </div>
  );
}

function CreateNetwork({ onCreated }: { onCreated: (r: Accepted) => void }) {
  const [name, setName] = useState('');
  const [cidr, setCidr] = useState('10.0.0.0/16');
  const [region, setRegion] = useState('');
  const { submit, busy: sending, error } = useSubmit(async () => {
    const r = await api<Accepted>('/v1/networks', { method: 'POST', body: { name, cidr, ...(region ? { region } : {}) } });
    setName('');
    onCreated(r);
  });
  return (
    <form class="nv-form" onSubmit={submit} aria-labelledby="nv-create-net-h">
      <h2 id="nv-create-net-h">Create a network</h2>
      <ProblemView error={error} fields={['name', 'cidr', 'region']} />
      <Field id="net-name" label="Name" field="name" error={error} hint="Lowercase letters, digits and hyphens.">
        <input {...fieldAttrs(error, 'name', 'net-name')} required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </Field>
      <Field id="net-cidr" label="CIDR" field="cidr" error={error} hint="An IPv4 network address, /16 to /28, such as 10.0.0.0/16.">
        <input {...fieldAttrs(error, 'cidr', 'net-cidr')} required value={cidr} onInput={(e) => setCidr((e.target as HTMLInputElement).value)} />
      </Field>
      <RegionSelect idPrefix="net" region={region} onRegion={setRegion} error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={sending}>
          {sending ? 'Creating network…' : 'Create network'}
        </button>
      </div>
    </form>
  );
}
