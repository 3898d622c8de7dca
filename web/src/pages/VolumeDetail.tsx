// A volume: its facts and residency (and its key's, when encrypted), attach to an instance of the
// tenant and detach, extend, its snapshots (take, delete, restore as a new volume), and the
// residency history.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, listAll, type Schemas } from '../api/client';
import { canWrite, useSession } from '../lib/session';
import { useApi, useSubmit } from '../lib/hooks';
import { ProblemView } from '../components/ProblemView';
import { ConfirmButton, Empty, Loading, StateBadge, When, ScrollRegion } from '../components/common';
import { BlockedBy } from '../components/netvol/BlockedBy';
import { Field, fieldAttrs } from '../components/Field';
import { useOperations } from '../components/netvol/Operations';
import { ResidencyHistory, ResidencyNow } from '../components/netvol/Residency';
import { Attachments, VOLUME_BUSY } from '../components/netvol/VolumeBits';
import { NotFound } from './NotFound';
import '../components/netvol/netvol.css';

type Volume = Schemas['Volume'];
type Snapshot = Schemas['Snapshot'];
type Instance = Schemas['Instance'];
type Accepted = Schemas['VolumeAccepted'];
type Track = (op: { id?: string } | undefined, label: string) => void;

export default function VolumeDetail({ id = '' }: { id?: string }) {
  const s = useSession();
  const write = canWrite(s);
  const [busy, setBusy] = useState(false);
  const enc = encodeURIComponent(id);
  const d = useApi(
    async () => {
      const volume = await api<Volume>(`/v1/volumes/${enc}`);
      const snapshots = await listAll<Snapshot>('/v1/snapshots', { volume: volume.id });
      return { volume, snapshots: snapshots.filter((x) => x.state !== 'deleted') };
    },
    [id],
    busy ? 2000 : undefined,
  );
  const ops = useOperations(d.reload);
  const transitional = !!d.data && [d.data.volume, ...d.data.snapshots].some((x) => VOLUME_BUSY.includes(x.state ?? ''));
  useEffect(() => setBusy(transitional), [transitional]);

  if (d.error instanceof ApiError && d.error.status === 404) return <NotFound />;
  if (!d.data)
    return (
      <section>
        <h1>Volume</h1>
        <ProblemView error={d.error} />
        {!d.error && <Loading what="Loading the volume" />}
      </section>
    );
  const v = d.data.volume;
  return (
    <section>
      <p>
        <a href="/console/volumes">Volumes</a>
      </p>
      <h1>Volume {v.name}</h1>
      <ProblemView error={d.error} />
      <dl class="nv-facts">
        <dt>State</dt>
        <dd>
          <StateBadge state={v.state} /> {v.state_reason && <span class="muted">{v.state_reason}</span>}
        </dd>
        <dt>Size</dt>
        <dd>{v.size_gib} GiB</dd>
        <dt>Type</dt>
        <dd>
          {v.type ?? '—'}
          {v.encrypted ? ' (encrypted)' : ''}
        </dd>
        <dt>Region / zone</dt>
        <dd>
          {v.region} / {v.zone}
        </dd>
        <dt>Host</dt>
        <dd>{v.host?.name ?? <span class="muted">none</span>}</dd>
        <dt>Attached to</dt>
        <dd>
          <Attachments v={v} />
        </dd>
        <dt>Source</dt>
        <dd>{v.source ? `${v.source.type} ${v.source.id}` : <span class="muted">empty volume</span>}</dd>
        <dt>Residency</dt>
        <dd>
          <ResidencyNow residency={v.residency} />
        </dd>
        <dt>Created</dt>
        <dd>
          <When iso={v.created_at} />
        </dd>
        <dt>Id</dt>
        <dd>
          <code>{v.id}</code>
        </dd>
      </dl>
      {ops.view}
      {write && <VolumeActions volume={v} track={ops.track} />}
      <Snapshots volume={v} snapshots={d.data.snapshots} write={write} track={ops.track} />
      <ResidencyHistory path={`/v1/volumes/${encodeURIComponent(v.id ?? id)}/residency`} />
    </section>
  );
}

function VolumeActions({ volume: v, track }: { volume: Volume; track: Track }) {
  const instances = useApi(() => listAll<Instance>('/v1/instances'), []);
  const [instance, setInstance] = useState('');
  const [size, setSize] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  const act = async (body: Record<string, unknown>, label: string) => {
    setSending(true);
    setError(null);
    try {
      const r = await api<Accepted>(`/v1/volumes/${encodeURIComponent(v.id ?? '')}/actions`, { method: 'POST', body });
      track(r?.operation, label);
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setSending(false);
    }
  };
  const candidates = (instances.data ?? []).filter(
    (i) => i.region === v.region && i.state !== 'deleted' && i.state !== 'deleting' && !v.attachments?.some((a) => a.instance === i.id),
  );
  const attached = v.attachments ?? [];
  return (
    <section aria-labelledby="vol-actions-h">
      <h2 id="vol-actions-h">Attachments</h2>
      <ProblemView error={error} fields={['instance', 'size_gib']} />
      <ProblemView error={instances.error} />
      {attached.map((a) => (
        <div class="actions" key={a.instance}>
          <ConfirmButton
            label={`Detach from ${a.instance_name ?? a.instance}`}
            question={
              <>
                Detach {v.name} from {a.instance_name}? Unmount it in the guest first, or the guest may lose writes.
              </>
            }
            confirmLabel="Detach"
            disabled={sending || a.boot}
            onConfirm={() => {
              void act({ action: 'detach', instance: a.instance }, `Detaching ${v.name} from ${a.instance_name ?? ''}`);
            }}
          />
          {a.boot && <span class="muted">A boot disk stays with its instance.</span>}
        </div>
      ))}
      <form
        class="nv-form"
        aria-labelledby="vol-attach-h"
        onSubmit={(e) => {
          e.preventDefault();
          if (instance) void act({ action: 'attach', instance }, `Attaching ${v.name}`).then((ok) => ok && setInstance(''));
        }}
      >
        <h3 id="vol-attach-h">Attach to an instance</h3>
        <Field id="vol-attach-instance" label="Instance to attach to" field="instance" error={error} hint={`Instances in ${v.region}.`}>
          <select {...fieldAttrs(error, 'instance', 'vol-attach-instance')} value={instance} onChange={(e) => setInstance((e.target as HTMLSelectElement).value)}>
            <option value="">Choose an instance</option>
            {candidates.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name} ({i.state})
              </option>
            ))}
          </select>
        </Field>
        <div class="actions">
          <button type="submit" disabled={!instance || sending}>
            Attach to instance
          </button>
        </div>
      </form>
      <form
        class="nv-form"
        aria-labelledby="vol-extend-h"
        onSubmit={(e) => {
          e.preventDefault();
          void act({ action: 'extend', size_gib: Number(size) }, `Extending ${v.name} to ${size} GiB`).then((ok) => ok && setSize(''));
        }}
      >
        <h3 id="vol-extend-h">Extend</h3>
        <Field id="vol-extend-size" label="New size (GiB)" field="size_gib" error={error} hint={`Larger than ${v.size_gib} GiB.`}>
          <input
            {...fieldAttrs(error, 'size_gib', 'vol-extend-size')}
            type="number"
            min={(v.size_gib ?? 0) + 1}
            max={65536}
            required
            value={size}
            onInput={(e) => setSize((e.target as HTMLInputElement).value)}
          />
        </Field>
        <div class="actions">
          <button type="submit" disabled={!size || sending}>
            Extend volume
          </button>
        </div>
      </form>
    </section>
  );
}

function Snapshots({ volume: v, snapshots, write, track }: { volume: Volume; snapshots: Snapshot[]; write: boolean; track: Track }) {
  const [name, setName] = useState('');
  const { submit: take, busy: sending, error } = useSubmit(async () => {
    const r = await api<Schemas['SnapshotAccepted']>('/v1/snapshots', { method: 'POST', body: { name, volume: v.id } });
    setName('');
    track(r?.operation, `Taking snapshot ${name}`);
  });
  return (
    <section aria-labelledby="snapshots-h" id="snapshots">
      <h2 id="snapshots-h">Snapshots</h2>
      <p class="muted">A snapshot is a whole copy of the volume, kept on its host; restoring makes a new volume from it.</p>
      {snapshots.length === 0 ? (
        <Empty>No snapshots of this volume.</Empty>
      ) : (
        <ScrollRegion label="List of snapshots">
          <table aria-label="Snapshots">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Size</th>
                <th scope="col">Taken</th>
                <th scope="col">Residency</th>
                {write && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {snapshots.map((x) => (
                <SnapshotRow key={x.id} snapshot={x} write={write} track={track} />
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {write && (
        <form class="nv-form" onSubmit={take} aria-labelledby="nv-take-snap-h">
          <h3 id="nv-take-snap-h">Take a snapshot</h3>
          <ProblemView error={error} fields={['name', 'volume']} />
          <Field id="snap-name" label="Snapshot name" field="name" error={error}>
            <input {...fieldAttrs(error, 'name', 'snap-name')} required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </Field>
          <div class="actions">
            <button type="submit" class="primary" disabled={sending}>
              {sending ? 'Taking snapshot…' : 'Take snapshot'}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function SnapshotRow({ snapshot: x, write, track }: { snapshot: Snapshot; write: boolean; track: Track }) {
  const [restoring, setRestoring] = useState(false);
  const [name, setName] = useState(`${x.name}-restored`.slice(0, 63));
  const [error, setError] = useState<unknown>(null);
  const [made, setMade] = useState<Volume | null>(null);
  const del = async () => {
    setError(null);
    try {
      const r = await api<Schemas['SnapshotAccepted']>(`/v1/snapshots/${encodeURIComponent(x.id ?? '')}`, { method: 'DELETE' });
      track(r?.operation, `Deleting snapshot ${x.name}`);
    } catch (e) {
      setError(e);
    }
  };
  const restore = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api<Accepted>('/v1/volumes', { method: 'POST', body: { name, source: { type: 'snapshot', id: x.id } } });
      setRestoring(false);
      setMade(r?.volume ?? null);
      track(r?.operation, `Restoring ${x.name} as volume ${name}`);
    } catch (err) {
      setError(err);
    }
  };
  const rid = `restore-${x.id}`;
  return (
    <tr>
      <td>{x.name}</td>
      <td>
        <StateBadge state={x.state} />
      </td>
      <td>{x.size_gib} GiB</td>
      <td>
        <When iso={x.created_at} />
      </td>
      <td>
        <ResidencyNow residency={x.residency} />
      </td>
      {write && (
        <td>
          <ProblemView error={error} fields={restoring ? ['name'] : []} />
          <BlockedBy error={error} what={`Snapshot ${x.name}`} />
          {made && (
            <p>
              New volume <a href={`/console/volumes/${encodeURIComponent(made.id ?? '')}`}>{made.name}</a>
            </p>
          )}
          {restoring ? (
            <form onSubmit={restore} aria-label={`Restore snapshot ${x.name}`}>
              <Field id={rid} label="Name of the new volume" field="name" error={error}>
                <input {...fieldAttrs(error, 'name', rid)} required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
              </Field>
              <div class="actions">
                <button type="submit" class="primary">
                  Restore as new volume
                </button>
                <button type="button" onClick={() => setRestoring(false)}>
                  Cancel
                </button>
              </div>
            </form>
          ) : (
            <div class="actions">
              <button type="button" disabled={x.state !== 'available'} onClick={() => setRestoring(true)}>
                Restore snapshot {x.name}
              </button>
              <ConfirmButton
                label={`Delete snapshot ${x.name}`}
                question={<>Delete snapshot {x.name}? Volumes restored from it stay.</>}
                confirmLabel="Delete snapshot"
                danger
                disabled={x.state === 'deleting'}
                onConfirm={del}
              />
            </div>
          )}
        </td>
      )}
    </tr>
  );
}
