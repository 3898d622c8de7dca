// Volumes: the tenant's block storage volumes (state, size, type, where, attached to), create one
// (name, size, volume type, region and zone within the residency policy), delete one.
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
import { Attachments, VOLUME_BUSY } from '../components/netvol/VolumeBits';
import '../components/netvol/netvol.css';

type Volume = Schemas['Volume'];
type VolumeType = Schemas['VolumeType'];
type Accepted = Schemas['VolumeAccepted'];

export default function Volumes() {
  const s = useSession();
  const write = canWrite(s);
  const [busy, setBusy] = useState(false);
  const list = useApi(() => listAll<Volume>('/v1/volumes'), [], busy ? 2000 : undefined);
  const ops = useOperations(list.reload);
  const deletes = useDeletes(ops.track);
  const volumes = (list.data ?? []).filter((v) => v.state !== 'deleted');
  const transitional = volumes.some((v) => VOLUME_BUSY.includes(v.state ?? ''));
  useEffect(() => setBusy(transitional), [transitional]);

  const remove = (v: Volume) => deletes.remove(v.id, `/v1/volumes/${encodeURIComponent(v.id ?? '')}`, `Deleting volume ${v.name}`);

  return (
    <section>
      <h1>Volumes</h1>
      <ProblemView error={list.error} />
      {ops.view}
      {list.loading && !list.data ? (
        <Loading what="Loading volumes" />
      ) : volumes.length === 0 ? (
        <Empty>No volumes yet.</Empty>
      ) : (
        <ScrollRegion label="Your volumes">
          <table>
            <caption class="muted">Your volumes</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Size</th>
                <th scope="col">Type</th>
                <th scope="col">Region / zone</th>
                <th scope="col">Attached to</th>
                {write && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {volumes.map((v) => {
                const here = `/console/volumes/${encodeURIComponent(v.id ?? '')}`;
                return (
                  <tr key={v.id}>
                    <td>
                      <a href={here}>{v.name}</a>
                      {v.encrypted && <span class="muted"> (encrypted)</span>}
                    </td>
                    <td>
                      <StateBadge state={v.state} />
                    </td>
                    <td>{v.size_gib} GiB</td>
                    <td>{v.type ?? <span class="muted">—</span>}</td>
                    <td>
                      {v.region} / {v.zone}
                    </td>
                    <td>
                      <Attachments v={v} />
                    </td>
                    {write && (
                      <td>
                        <ConfirmButton
                          label={`Delete volume ${v.name}`}
                          question={
                            <>
                              Delete volume <strong>{v.name}</strong> ({v.size_gib} GiB)? Its data is gone for good.
                            </>
                          }
                          confirmLabel="Delete volume"
                          danger
                          disabled={v.state === 'deleting'}
                          onConfirm={() => remove(v)}
                        />
                        {deletes.refusal(v.id, `Volume ${v.name}`, here)}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {write && <CreateVolume onCreated={(r) => ops.track(r.operation, `Creating volume ${r.volume?.name ?? ''}`)} />}
    </section>
  );
}

function CreateVolume({ onCreated }: { onCreated: (r: Accepted) => void }) {
  const types = useApi(() => listAll<VolumeType>('/v1/volume-types'), []);
  const [name, setName] = useState('');
  const [size, setSize] = useState('10');
  const [type, setType] = useState('');
  const [region, setRegion] = useState('');
  const [zone, setZone] = useState('');
  const { submit, busy: sending, error } = useSubmit(async () => {
    const body: Record<string, unknown> = { name, size_gib: Number(size) };
    if (type) body.type = type;
    if (region) body.region = region;
    if (zone) body.zone = zone;
    const r = await api<Accepted>('/v1/volumes', { method: 'POST', body });
    setName('');
    onCreated(r);
  });
  return (
    <form class="nv-form" onSubmit={submit} aria-labelledby="nv-create-vol-h">
      <h2 id="nv-create-vol-h">Create a volume</h2>
      <ProblemView error={error} fields={['name', 'size_gib', 'type', 'region', 'zone']} />
      <ProblemView error={types.error} />
      <Field id="vol-name" label="Name" field="name" error={error} hint="Lowercase letters, digits and hyphens.">
        <input {...fieldAttrs(error, 'name', 'vol-name')} required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </Field>
      <Field id="vol-size" label="Size (GiB)" field="size_gib" error={error}>
        <input
          {...fieldAttrs(error, 'size_gib', 'vol-size')}
          type="number"
          min={1}
          max={65536}
          step={1}
          required
          value={size}
          onInput={(e) => setSize((e.target as HTMLInputElement).value)}
        />
      </Field>
      <Field id="vol-type" label="Volume type" field="type" error={error}>
        <select {...fieldAttrs(error, 'type', 'vol-type')} value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
          <option value="">The default type</option>
          {(types.data ?? []).map((t) => (
            <option key={t.id} value={t.name}>
              {t.name}
              {t.encrypted ? ' (encrypted)' : ''}
              {t.max_iops ? `, ${t.max_iops} IOPS` : ''}
            </option>
          ))}
        </select>
      </Field>
      <RegionSelect idPrefix="vol" region={region} zone={zone} onRegion={setRegion} onZone={setZone} error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={sending}>
          {sending ? 'Creating volume…' : 'Create volume'}
        </button>
      </div>
    </form>
  );
}
