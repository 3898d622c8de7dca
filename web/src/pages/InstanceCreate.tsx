// The create wizard: name and workspace, flavor, image, region and zone (only where the
// tenant's residency policy allows, shown as such), NICs on the workspace's subnets or ports,
// data volumes, user-data and SSH keys. POST /v1/instances with an Idempotency-Key, then the
// operation's progress, then the instance's page. Errors show next to the field errors[] names.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, listAll, type Schemas } from '../api/client';
import { Loading, OperationProgress, type Operation, ScrollRegion } from '../components/common';
import { FieldErrors, fieldMessages, fieldsShown } from '../components/Field';
import { ProblemView } from '../components/ProblemView';
import { useApi } from '../lib/hooks';
import { idempotencyKey } from '../lib/idempotency';
import { policyText, regionVerdict } from '../lib/regions';
import { canWrite, useSession } from '../lib/session';
import './tenant.css';

type Flavor = Schemas['Flavor'];
type Image = Schemas['Image'];
type Region = Schemas['Region'];
type Policy = Schemas['ResidencyPolicy'];
type Workspace = Schemas['Workspace'];
type Subnet = Schemas['Subnet'];
type Port = Schemas['Port'];
type Volume = Schemas['Volume'];
type Body = Schemas['InstanceCreate'];
type Accepted = Schemas['InstanceAccepted'];

/** One NIC row: "subnet:<id>" (a new port there, optionally at ip) or "port:<id>". */
interface Nic {
  target: string;
  ip: string;
}

/** The fields errors[] may name, each shown under its control. */
const FIELDS = ['name', 'workspace', 'flavor', 'image', 'region', 'zone', 'nics', 'volumes', 'user_data', 'ssh_keys'];

export function flavorLabel(f: Flavor): string {
  const gpus = f.gpus ? `, ${f.gpus} GPU` : '';
  return `${f.name}: ${f.vcpus} vCPU, ${f.memory_mib} MiB, ${f.disk_gib} GiB${gpus}`;
}

export function sshKeyList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

function invalid(error: unknown, prefix: string, exact = false) {
  return fieldMessages(error, prefix, exact).length > 0 ? true : undefined;
}

export default function InstanceCreate() {
  const s = useSession();
  const loc = useLocation();
  const tenant = encodeURIComponent(s.tenantId);

  const [name, setName] = useState('');
  const [workspace, setWorkspace] = useState('default');
  const [flavor, setFlavor] = useState('');
  const [image, setImage] = useState('');
  const [region, setRegion] = useState('');
  const [zone, setZone] = useState('');
  const [nics, setNics] = useState<Nic[]>([]);
  const [volumes, setVolumes] = useState<string[]>([]);
  const [userData, setUserData] = useState('');
  const [sshKeys, setSshKeys] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [accepted, setAccepted] = useState<Accepted | null>(null);
  const [failed, setFailed] = useState<Operation | null>(null);

  // After a refusal, the keyboard goes to the first field it names (else to the problem).
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!error || !formRef.current) return;
    const bad = formRef.current.querySelector<HTMLElement>('[aria-invalid="true"]') ?? formRef.current.querySelector<HTMLElement>('.problem');
    if (bad && !bad.hasAttribute('tabindex') && bad.classList.contains('problem')) bad.setAttribute('tabindex', '-1');
    bad?.focus();
  }, [error]);

  const workspaces = useApi(() => listAll<Workspace>(`/v1/tenants/${tenant}/workspaces`), [tenant]);
  const flavors = useApi(() => listAll<Flavor>('/v1/flavors'), []);
  const regions = useApi(() => listAll<Region>('/v1/regions'), []);
  const policy = useApi(() => api<Policy>(`/v1/tenants/${tenant}/residency-policy`), [tenant]);
  // Operators create in their own tenant: without tenant_id these lists would hold every tenant's.
  const own = s.isOperator ? s.tenantId : undefined;
  const images = useApi(() => listAll<Image>('/v1/images', { workspace, tenant_id: own }), [workspace, own]);
  // Subnets and ports only once asked for: without OVN they answer 503, and most instances
  // take the default NIC.
  const [wantNics, setWantNics] = useState(false);
  const subnets = useApi(() => (wantNics ? listAll<Subnet>('/v1/subnets', { workspace, tenant_id: own }) : Promise.resolve([])), [workspace, own, wantNics]);
  const ports = useApi(() => (wantNics ? listAll<Port>('/v1/ports', { workspace, state: 'available', tenant_id: own }) : Promise.resolve([])), [workspace, own, wantNics]);
  const vols = useApi(() => listAll<Volume>('/v1/volumes', { workspace, state: 'available', tenant_id: own }), [workspace, own]);

  const activeImages = (images.data ?? []).filter((i) => i.state === 'active');
  const chosenImage = activeImages.find((i) => i.id === image);
  const places = useMemo(
    () =>
      (regions.data ?? []).map((r) => {
        const v = regionVerdict(policy.data, r);
        const reasons = [...v.reasons];
        if (v.allowed && chosenImage?.region && chosenImage.region !== r.code) reasons.push(`the image ${chosenImage.name} is stored in ${chosenImage.region}`);
        return { r, policyAllows: v.allowed, usable: reasons.length === 0, reasons };
      }),
    [regions.data, policy.data, chosenImage],
  );
  const chosenRegion = places.find((p) => p.r.code === region);
  const zones = chosenRegion?.r.zones ?? [];
  const availableVolumes = (vols.data ?? []).filter((v) => (v.attachments ?? []).length === 0);

  if (!canWrite(s))
    return (
      <section>
        <h1>Create an instance</h1>
        <p>Your role ({s.role}) may look but not create: ask an admin or member of your tenant.</p>
      </section>
    );

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFailed(null);
    const body: Body = { name: name.trim(), flavor, workspace };
    if (image) body.image = image;
    if (region) body.region = region;
    if (zone) body.zone = zone;
    if (userData) body.user_data = userData;
    const keys = sshKeyList(sshKeys);
    if (keys.length) body.ssh_keys = keys;
    if (volumes.length) body.volumes = volumes;
    if (nics.length)
      body.nics = nics.map((n) => {
        const [kind, id] = n.target.split(':');
        if (kind === 'port') return { port: id };
        return n.ip.trim() ? { subnet: id, ip: n.ip.trim() } : { subnet: id };
      });
    try {
      const a = await api<Accepted>('/v1/instances', { method: 'POST', body, headers: { 'Idempotency-Key': idempotencyKey() } });
      setAccepted(a);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (accepted) {
    const x = accepted.instance;
    const href = `/console/instances/${encodeURIComponent(x?.id ?? '')}`;
    return (
      <section>
        <h1>Creating {x?.name}</h1>
        <p>
          The instance is {x?.state}; a worker builds it. <a href={href}>Open the instance's page</a>
        </p>
        {accepted.operation?.id && (
          <OperationProgress
            id={accepted.operation.id}
            onDone={(op) => {
              if (op.state === 'succeeded') loc.route(href);
              else setFailed(op);
            }}
          />
        )}
        {failed && (
          <p class="bad-text" role="alert">
            The instance could not be built{failed.error?.message ? `: ${failed.error.message}` : ''}. Its page says more.
          </p>
        )}
      </section>
    );
  }

  const loading = flavors.loading || regions.loading || policy.loading || workspaces.loading;
  const describe = (f: string) => (invalid(error, f) ? `err-${f}` : undefined);
  const shown = fieldsShown(error, FIELDS);
  return (
    <section class="wizard">
      <h1>Create an instance</h1>
      <ProblemView error={flavors.error ?? regions.error ?? policy.error ?? workspaces.error} />
      {loading && <Loading what="Loading flavors, images and regions" />}
      <form ref={formRef} onSubmit={submit}>
        <fieldset>
          <legend>Name and workspace</legend>
          <label for="ic-name">Name</label>
          <input
            id="ic-name"
            name="name"
            required
            maxLength={63}
            pattern="[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?"
            autoComplete="off"
            spellcheck={false}
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
            aria-invalid={invalid(error, 'name')}
            aria-describedby={`hint-name${describe('name') ? ' err-name' : ''}`}
          />
          <p class="hint" id="hint-name">
            Lowercase letters, digits and dashes; unique in the workspace.
          </p>
          <FieldErrors error={error} prefix="name" id="err-name" />

          <label for="ic-workspace">Workspace</label>
          <select
            id="ic-workspace"
            value={workspace}
            onChange={(e) => {
              setWorkspace((e.target as HTMLSelectElement).value);
              setImage('');
              setNics([]);
              setVolumes([]);
            }}
            aria-invalid={invalid(error, 'workspace')}
            aria-describedby={describe('workspace')}
          >
            {(workspaces.data ?? []).map((w) => (
              <option key={w.name} value={w.name}>
                {w.name}
              </option>
            ))}
            {!(workspaces.data ?? []).some((w) => w.name === workspace) && <option value={workspace}>{workspace}</option>}
          </select>
          <FieldErrors error={error} prefix="workspace" id="err-workspace" />
        </fieldset>

        <fieldset>
          <legend>Size and system</legend>
          <label for="ic-flavor">Flavor</label>
          <select
            id="ic-flavor"
            required
            value={flavor}
            onChange={(e) => setFlavor((e.target as HTMLSelectElement).value)}
            aria-invalid={invalid(error, 'flavor')}
            aria-describedby={describe('flavor')}
          >
            <option value="">Choose a flavor</option>
            {(flavors.data ?? []).map((f) => (
              <option key={f.id} value={f.id}>
                {flavorLabel(f)}
              </option>
            ))}
          </select>
          <FieldErrors error={error} prefix="flavor" id="err-flavor" />

          <label for="ic-image">Image</label>
          <select
            id="ic-image"
            required
            value={image}
            onChange={(e) => {
              const id = (e.target as HTMLSelectElement).value;
              setImage(id);
              const img = activeImages.find((i) => i.id === id);
              if (img?.region && region && region !== img.region) {
                setRegion('');
                setZone('');
              }
            }}
            aria-invalid={invalid(error, 'image')}
            aria-describedby={`hint-image${describe('image') ? ' err-image' : ''}`}
          >
            <option value="">Choose an image</option>
            {activeImages.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name} ({i.region})
              </option>
            ))}
          </select>
          <p class="hint" id="hint-image">
            {images.loading
              ? 'Loading images…'
              : activeImages.length === 0
                ? `No active image in workspace ${workspace}: upload one under Images.`
                : chosenImage
                  ? `The instance is placed where its image is: ${chosenImage.region}.`
                  : 'Active images of the workspace.'}
          </p>
          <FieldErrors error={error} prefix="image" id="err-image" />
        </fieldset>

        <fieldset>
          <legend>Where it runs</legend>
          <p id="hint-policy">
            Your tenant's residency policy allows <strong>{policyText(policy.data)}</strong>. Only the regions inside it can be chosen.
          </p>
          <div class="row">
            <div>
              <label for="ic-region">Region</label>
              <select
                id="ic-region"
                value={region}
                onChange={(e) => {
                  setRegion((e.target as HTMLSelectElement).value);
                  setZone('');
                }}
                aria-invalid={invalid(error, 'region')}
                aria-describedby={`hint-policy${describe('region') ? ' err-region' : ''}`}
              >
                <option value="">Any allowed region</option>
                {places.map((p) => (
                  <option key={p.r.code} value={p.r.code} disabled={!p.usable}>
                    {p.r.code} ({p.r.country}, {p.r.jurisdiction}){p.usable ? '' : p.policyAllows ? ' (not the image’s region)' : ' (outside the policy)'}
                  </option>
                ))}
              </select>
              <FieldErrors error={error} prefix="region" id="err-region" />
            </div>
            <div>
              <label for="ic-zone">Zone</label>
              <select
                id="ic-zone"
                value={zone}
                disabled={!region}
                onChange={(e) => setZone((e.target as HTMLSelectElement).value)}
                aria-invalid={invalid(error, 'zone')}
                aria-describedby={`hint-zone${describe('zone') ? ' err-zone' : ''}`}
              >
                <option value="">Any zone</option>
                {zones.map((z) => (
                  <option key={z} value={z}>
                    {z}
                  </option>
                ))}
              </select>
              <p class="hint" id="hint-zone">
                {region ? `Zones of ${region}.` : 'Choose a region to choose a zone.'}
              </p>
              <FieldErrors error={error} prefix="zone" id="err-zone" />
            </div>
          </div>
          <ScrollRegion label="Places table">
          <table class="places" aria-label="Places and the residency policy">
            <thead>
              <tr>
                <th scope="col">Region</th>
                <th scope="col">Country</th>
                <th scope="col">Jurisdiction</th>
                <th scope="col">Datacenter</th>
                <th scope="col">Allowed</th>
              </tr>
            </thead>
            <tbody>
              {places.map((p) => (
                <tr key={p.r.code}>
                  <td>{p.r.code}</td>
                  <td>{p.r.country}</td>
                  <td>{p.r.jurisdiction}</td>
                  <td>{p.r.datacenter}</td>
                  <td>{p.usable ? <span class="ok-text">Allowed</span> : <span class={p.policyAllows ? 'muted' : 'bad-text'}>{`${p.policyAllows ? 'Not here' : 'Not allowed'}: ${p.reasons.join('; ')}`}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
          </ScrollRegion>
        </fieldset>

        <fieldset aria-describedby="hint-nics">
          <legend>Network interfaces</legend>
          <p class="hint" id="hint-nics">
            {nics.length === 0
              ? 'None chosen: one interface on the workspace’s default subnet (made at the first instance).'
              : 'In order: eth0 first. A subnet gives a new port; an available port is plugged in as it is.'}
          </p>
          {nics.map((n, i) => {
            const pfx = `nics[${i}]`;
            return (
              <div class="nic" key={i}>
                <div>
                  <label for={`ic-nic-${i}`}>Interface eth{i}</label>
                  <select
                    id={`ic-nic-${i}`}
                    value={n.target}
                    onChange={(e) => setNics(nics.map((m, j) => (j === i ? { ...m, target: (e.target as HTMLSelectElement).value } : m)))}
                    aria-invalid={invalid(error, pfx)}
                    aria-describedby={invalid(error, pfx) ? `err-nic-${i}` : undefined}
                  >
                    <optgroup label="New port on a subnet">
                      {(subnets.data ?? []).map((sn) => (
                        <option key={sn.id} value={`subnet:${sn.id}`}>
                          {sn.network?.name}/{sn.name} ({sn.cidr})
                        </option>
                      ))}
                    </optgroup>
                    <optgroup label="Available port">
                      {(ports.data ?? []).map((p) => (
                        <option key={p.id} value={`port:${p.id}`}>
                          {p.name} ({p.ip})
                        </option>
                      ))}
                    </optgroup>
                  </select>
                </div>
                {n.target.startsWith('subnet:') && (
                  <div>
                    <label for={`ic-nic-ip-${i}`}>IP address of eth{i} (optional)</label>
                    <input
                      id={`ic-nic-ip-${i}`}
                      value={n.ip}
                      inputMode="decimal"
                      placeholder="any free address"
                      onInput={(e) => setNics(nics.map((m, j) => (j === i ? { ...m, ip: (e.target as HTMLInputElement).value } : m)))}
                    />
                  </div>
                )}
                <button type="button" onClick={() => setNics(nics.filter((_, j) => j !== i))}>
                  Remove eth{i}
                </button>
                <FieldErrors error={error} prefix={pfx} id={`err-nic-${i}`} />
              </div>
            );
          })}
          {!wantNics ? (
            <button type="button" onClick={() => setWantNics(true)}>
              Choose network interfaces
            </button>
          ) : subnets.error ? (
            <ProblemView error={subnets.error} />
          ) : (subnets.data ?? []).length + (ports.data ?? []).length > 0 ? (
            <button
              type="button"
              disabled={nics.length >= 8}
              onClick={() => {
                const first = subnets.data?.[0] ? `subnet:${subnets.data[0].id}` : `port:${ports.data?.[0]?.id}`;
                setNics([...nics, { target: first, ip: '' }]);
              }}
            >
              Add network interface
            </button>
          ) : (
            <p class="muted" role="status">
              {subnets.loading || ports.loading ? 'Loading subnets and ports…' : `Workspace ${workspace} has no subnet or available port yet.`}
            </p>
          )}
          <FieldErrors error={error} prefix="nics" id="err-nics" exact />
        </fieldset>

        <fieldset aria-describedby="hint-volumes">
          <legend>Data volumes</legend>
          <p class="hint" id="hint-volumes">
            Available volumes of the workspace, attached as vdc, vdd, … in the order chosen. The instance is placed on their host.
          </p>
          <ProblemView error={vols.error} />
          {availableVolumes.length === 0 ? (
            <p class="muted">{vols.loading ? 'Loading volumes…' : 'No available volume in this workspace.'}</p>
          ) : (
            <ul class="checks">
              {availableVolumes.map((v) => (
                <li key={v.id}>
                  <input
                    type="checkbox"
                    id={`ic-vol-${v.id}`}
                    checked={volumes.includes(v.id ?? '')}
                    onChange={(e) => {
                      const on = (e.target as HTMLInputElement).checked;
                      setVolumes(on ? [...volumes, v.id ?? ''] : volumes.filter((x) => x !== v.id));
                    }}
                  />
                  <label for={`ic-vol-${v.id}`}>
                    {v.name} ({v.size_gib} GiB{v.type ? `, ${v.type}` : ''}, {v.region}
                    {v.host?.name ? `, host ${v.host.name}` : ''})
                  </label>
                </li>
              ))}
            </ul>
          )}
          <FieldErrors error={error} prefix="volumes" id="err-volumes" />
        </fieldset>

        <fieldset>
          <legend>First boot</legend>
          <label for="ic-user-data">User data</label>
          <textarea
            id="ic-user-data"
            rows={6}
            spellcheck={false}
            value={userData}
            placeholder="#cloud-config"
            onInput={(e) => setUserData((e.target as HTMLTextAreaElement).value)}
            aria-invalid={invalid(error, 'user_data')}
            aria-describedby={`hint-user-data${describe('user_data') ? ' err-user_data' : ''}`}
          />
          <p class="hint" id="hint-user-data">
            cloud-init user data (at most 64 KiB).
          </p>
          <FieldErrors error={error} prefix="user_data" id="err-user_data" />

          <label for="ic-ssh">SSH public keys</label>
          <textarea
            id="ic-ssh"
            rows={3}
            spellcheck={false}
            value={sshKeys}
            placeholder="ssh-ed25519 AAAA… you@example.eu"
            onInput={(e) => setSshKeys((e.target as HTMLTextAreaElement).value)}
            aria-invalid={invalid(error, 'ssh_keys')}
            aria-describedby={`hint-ssh${describe('ssh_keys') ? ' err-ssh_keys' : ''}`}
          />
          <p class="hint" id="hint-ssh">
            One public key a line; never a private key.
          </p>
          <FieldErrors error={error} prefix="ssh_keys" id="err-ssh_keys" />
        </fieldset>

        <ProblemView error={error} fields={shown} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Create instance
          </button>
          {busy && <span role="status">Sending…</span>}
          <a href="/console/instances">Cancel</a>
        </div>
      </form>
    </section>
  );
}
