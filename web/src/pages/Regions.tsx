// Regions (operators): every region with its country, the jurisdiction that follows from it,
// its datacenter and zones; add one, change its name, datacenter or zones, delete an empty one.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, listAll, type Schemas } from '../api/client';
import { ProblemView } from '../components/ProblemView';
import { ConfirmButton, Empty, Loading, ScrollRegion } from '../components/common';
import { TextField } from '../components/Field';
import { Reveal, splitList } from '../components/OpsFields';
import { useApi, useSubmit, useRemove } from '../lib/hooks';
import { useSession } from '../lib/session';

type Region = Schemas['Region'];

const JURISDICTION: Record<string, string> = {
  EU: 'EU (member state)',
  EEA: 'EEA (outside the EU)',
  OTHER: 'outside the EU and EEA',
};

function AddRegion({ onAdded, onCancel }: { onAdded: (r: Region) => void; onCancel: () => void }) {
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [country, setCountry] = useState('');
  const [datacenter, setDatacenter] = useState('');
  const [zones, setZones] = useState('');

  const { submit, busy, error } = useSubmit(async () => {
    const r = await api<Region>('/v1/regions', {
      method: 'POST',
      body: { code: code.trim(), name: name.trim(), country: country.trim().toUpperCase(), datacenter: datacenter.trim(), zones: splitList(zones) },
    });
    setCode('');
    setName('');
    setCountry('');
    setDatacenter('');
    setZones('');
    onAdded(r);
  });

  const fields = ['code', 'name', 'country', 'datacenter', 'zones'];
  return (
    <form class="ops-form" onSubmit={submit} aria-labelledby="add-region-h">
      <h2 id="add-region-h">Add a region</h2>
      <div class="grid">
        <TextField label="Code" field="code" value={code} onValue={setCode} error={error} required hint="Lower case, e.g. fr-par-1" />
        <TextField label="Name" field="name" value={name} onValue={setName} error={error} required />
        <TextField
          label="Country"
          field="country"
          value={country}
          onValue={setCountry}
          error={error}
          required
          hint="ISO 3166-1 alpha-2, e.g. FR; the jurisdiction follows from it"
        />
        <TextField label="Datacenter" field="datacenter" value={datacenter} onValue={setDatacenter} error={error} required />
        <TextField label="Zones" field="zones" value={zones} onValue={setZones} error={error} required hint="Separated by commas, e.g. a, b" />
      </div>
      <ProblemView error={error} fields={fields} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating region…' : 'Create region'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function EditRegion({ region, onSaved }: { region: Region; onSaved: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [name, setName] = useState(region.name ?? '');
  const [datacenter, setDatacenter] = useState(region.datacenter ?? '');
  const [zones, setZones] = useState((region.zones ?? []).join(', '));

  const [editing, setEditing] = useState(false);

  const open = () => {
    setName(region.name ?? '');
    setDatacenter(region.datacenter ?? '');
    setZones((region.zones ?? []).join(', '));
    setError(null);
    setEditing(true);
  };

  /* The dialog exists only while it is open, so its fields never shadow the page's own. */
  useEffect(() => {
    if (editing && ref.current && !ref.current.open) ref.current.showModal();
  }, [editing]);

  const { submit, busy, error, setError } = useSubmit(async () => {
    await api<Region>(`/v1/regions/${encodeURIComponent(region.code ?? '')}`, {
      method: 'PATCH',
      body: { name: name.trim(), datacenter: datacenter.trim(), zones: splitList(zones) },
    });
    ref.current?.close();
    setEditing(false);
    onSaved();
  });

  return (
    <>
      <button type="button" onClick={open} aria-label={`Edit region ${region.code}`}>
        Edit
      </button>
      {editing && (
        <dialog ref={ref} aria-label={`Edit region ${region.code}`} onClose={() => setEditing(false)}>
          <form class="ops-form" onSubmit={submit}>
            <h2>Edit region {region.code}</h2>
            <p class="muted">The code and the country never change.</p>
            <TextField label="Name" field="name" value={name} onValue={setName} error={error} required />
            <TextField label="Datacenter" field="datacenter" value={datacenter} onValue={setDatacenter} error={error} required />
            <TextField label="Zones" field="zones" value={zones} onValue={setZones} error={error} required hint="A zone with hosts cannot go" />
            <ProblemView error={error} fields={['name', 'datacenter', 'zones']} />
            <div class="actions">
              <button type="submit" class="primary" disabled={busy}>
                {busy ? 'Saving…' : 'Save region'}
              </button>
              <button type="button" onClick={() => ref.current?.close()}>
                Cancel
              </button>
            </div>
          </form>
        </dialog>
      )}
    </>
  );
}

export default function Regions() {
  const session = useSession();
  const regions = useApi(() => listAll<Region>('/v1/regions'), []);
  const removal = useRemove(regions.reload);
  const { notice, setNotice } = removal;

  const remove = (r: Region) => removal.remove(`/v1/regions/${encodeURIComponent(r.code ?? '')}`, `Region ${r.code} deleted.`);

  return (
    <section>
      <h1>Regions</h1>
      <p class="muted">Where data may live. A tenant's residency policy chooses among these; the jurisdiction follows from the country.</p>
      <ProblemView error={regions.error} />
      <ProblemView error={removal.error} />
      {notice && (
        <p role="status" class="done-text">
          {notice}
        </p>
      )}
      {regions.loading && !regions.data ? (
        <Loading what="Loading regions" />
      ) : regions.data && regions.data.length === 0 ? (
        <Empty>No regions yet.</Empty>
      ) : (
        regions.data && (
          <ScrollRegion label="Regions table">
            <table>
              <caption class="muted">{regions.data.length} regions</caption>
              <thead>
                <tr>
                  <th scope="col">Code</th>
                  <th scope="col">Name</th>
                  <th scope="col">Country</th>
                  <th scope="col">Jurisdiction</th>
                  <th scope="col">Datacenter</th>
                  <th scope="col">Zones</th>
                  {session.isOperator && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {regions.data.map((r) => (
                  <tr key={r.code}>
                    <td>
                      <code>{r.code}</code>
                    </td>
                    <td>{r.name}</td>
                    <td>{r.country}</td>
                    <td title={JURISDICTION[r.jurisdiction ?? ''] ?? ''}>{r.jurisdiction}</td>
                    <td>{r.datacenter}</td>
                    <td>{(r.zones ?? []).join(', ')}</td>
                    {session.isOperator && (
                      <td>
                        <div class="actions">
                          <EditRegion region={r} onSaved={regions.reload} />
                          <ConfirmButton
                            label={`Delete region ${r.code}`}
                            question={`Delete region ${r.code}? Only a region without hosts can go.`}
                            confirmLabel="Delete"
                            danger
                            onConfirm={() => remove(r)}
                          />
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )
      )}
      {session.isOperator && (
        <Reveal opener="Add region">
          {(close) => (
            <AddRegion
              onCancel={close}
              onAdded={(r) => {
                setNotice(`Region ${r.code} added (${r.jurisdiction}).`);
                regions.reload();
                close();
              }}
            />
          )}
        </Reveal>
      )}
    </section>
  );
}
