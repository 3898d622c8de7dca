// Flavors: the sizes instances come in. Everyone sees them; operators offer new ones and
// withdraw those no instance uses.
import { useState } from 'preact/hooks';
import { api, listAll, type Schemas } from '../api/client';
import { ProblemView } from '../components/ProblemView';
import { ConfirmButton, Empty, Loading, ScrollRegion } from '../components/common';
import { TextField } from '../components/Field';
import { mib, numberOrUndefined } from '../components/OpsFields';
import { useApi, useSubmit, useRemove } from '../lib/hooks';
import { useSession } from '../lib/session';

type Flavor = Schemas['Flavor'];

function CreateFlavor({ onCreated }: { onCreated: (f: Flavor) => void }) {
  const [name, setName] = useState('');
  const [vcpus, setVcpus] = useState('');
  const [memory, setMemory] = useState('');
  const [disk, setDisk] = useState('');
  const [gpus, setGpus] = useState('');

  const { submit, busy, error } = useSubmit(async () => {
    const body: Record<string, unknown> = {
      name: name.trim(),
      vcpus: numberOrUndefined(vcpus),
      memory_mib: numberOrUndefined(memory),
      disk_gib: numberOrUndefined(disk),
    };
    const g = numberOrUndefined(gpus);
    if (g !== undefined) body.gpus = g;
    const f = await api<Flavor>('/v1/flavors', { method: 'POST', body });
    setName('');
    setVcpus('');
    setMemory('');
    setDisk('');
    setGpus('');
    onCreated(f);
  });

  return (
    <form class="ops-form" onSubmit={submit} aria-labelledby="create-flavor-h">
      <h2 id="create-flavor-h">Create a flavor</h2>
      <div class="grid">
        <TextField label="Name" field="name" value={name} onValue={setName} error={error} required hint="Lower case, e.g. m1-small" />
        <TextField label="vCPUs" field="vcpus" type="number" min={1} max={1024} value={vcpus} onValue={setVcpus} error={error} required />
        <TextField
          label="Memory (MiB)"
          field="memory_mib"
          type="number"
          min={64}
          value={memory}
          onValue={setMemory}
          error={error}
          required
          hint="At least 64"
        />
        <TextField label="Disk (GiB)" field="disk_gib" type="number" min={1} max={65536} value={disk} onValue={setDisk} error={error} required />
        <TextField label="GPUs" field="gpus" type="number" min={0} max={64} value={gpus} onValue={setGpus} error={error} hint="0 when empty" />
      </div>
      <ProblemView error={error} fields={['name', 'vcpus', 'memory_mib', 'disk_gib', 'gpus']} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating flavor…' : 'Create flavor'}
        </button>
      </div>
    </form>
  );
}

export default function Flavors() {
  const session = useSession();
  const flavors = useApi(() => listAll<Flavor>('/v1/flavors'), []);
  const removal = useRemove(flavors.reload);
  const { notice, setNotice } = removal;

  const remove = (f: Flavor) => removal.remove(`/v1/flavors/${encodeURIComponent(f.id ?? '')}`, `Flavor ${f.name} deleted.`);

  return (
    <section>
      <h1>Flavors</h1>
      <p class="muted">The sizes an instance can have: vCPUs, memory, root disk and GPUs.</p>
      <ProblemView error={flavors.error} />
      <ProblemView error={removal.error} />
      {notice && (
        <p role="status" class="done-text">
          {notice}
        </p>
      )}
      {flavors.loading && !flavors.data ? (
        <Loading what="Loading flavors" />
      ) : flavors.data && flavors.data.length === 0 ? (
        <Empty>No flavors yet.</Empty>
      ) : (
        flavors.data && (
          <ScrollRegion label="Flavors table">
            <table>
              <caption class="muted">{flavors.data.length} flavors</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">vCPUs</th>
                  <th scope="col">Memory</th>
                  <th scope="col">Disk</th>
                  <th scope="col">GPUs</th>
                  {session.isOperator && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {flavors.data.map((f) => (
                  <tr key={f.id}>
                    <td>
                      <code>{f.name}</code>
                    </td>
                    <td>{f.vcpus}</td>
                    <td>{mib(f.memory_mib)}</td>
                    <td>{f.disk_gib} GiB</td>
                    <td>{f.gpus ?? 0}</td>
                    {session.isOperator && (
                      <td>
                        <ConfirmButton
                          label={`Delete flavor ${f.name}`}
                          question={`Delete flavor ${f.name}? Only a flavor no instance uses can go.`}
                          confirmLabel="Delete"
                          danger
                          onConfirm={() => remove(f)}
                        />
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
        <CreateFlavor
          onCreated={(f) => {
            setNotice(`Flavor ${f.name} created.`);
            flavors.reload();
          }}
        />
      )}
    </section>
  );
}
