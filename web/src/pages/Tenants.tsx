// Tenants (operators): every customer organisation; create one (it gets a default workspace,
// default quotas and the EU residency policy), then set it up on its own page.
import { useState } from 'preact/hooks';
import { api, listAll, type Schemas } from '../api/client';
import { ProblemView } from '../components/ProblemView';
import { Empty, Loading, When, ScrollRegion } from '../components/common';
import { BASE } from '../components/HostParts';
import { TextField } from '../components/Field';
import { useApi, useSubmit } from '../lib/hooks';

type Tenant = Schemas['Tenant'];

function CreateTenant({ onCreated }: { onCreated: (t: Tenant) => void }) {
  const [name, setName] = useState('');
  const [display, setDisplay] = useState('');

  const { submit, busy, error } = useSubmit(async () => {
    const body: Record<string, string> = { name: name.trim() };
    if (display.trim()) body.display_name = display.trim();
    const t = await api<Tenant>('/v1/tenants', { method: 'POST', body });
    setName('');
    setDisplay('');
    onCreated(t);
  });

  return (
    <form class="ops-form" onSubmit={submit} aria-labelledby="create-tenant-h">
      <h2 id="create-tenant-h">Create a tenant</h2>
      <p class="muted">A new tenant gets a default workspace, default quotas and the EU as its residency policy.</p>
      <div class="grid">
        <TextField label="Tenant name" field="name" value={name} onValue={setName} error={error} required hint="Lower case, e.g. acme" />
        <TextField label="Display name" field="display_name" value={display} onValue={setDisplay} error={error} hint="e.g. ACME GmbH" />
      </div>
      <ProblemView error={error} fields={['name', 'display_name']} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating tenant…' : 'Create tenant'}
        </button>
      </div>
    </form>
  );
}

export default function Tenants() {
  const tenants = useApi(() => listAll<Tenant>('/v1/tenants'), []);
  const [created, setCreated] = useState<Tenant | null>(null);

  return (
    <section>
      <h1>Tenants</h1>
      <p class="muted">Customer organisations, each with its users, quotas and residency policy.</p>
      <ProblemView error={tenants.error} />
      {created && (
        <p role="status" class="done-text">
          Tenant <a href={`${BASE}/operator/tenants/${created.id}`}>{created.name}</a> created: set its quotas, residency policy and
          users there.
        </p>
      )}
      {tenants.loading && !tenants.data ? (
        <Loading what="Loading tenants" />
      ) : tenants.data && tenants.data.length === 0 ? (
        <Empty>No tenants yet.</Empty>
      ) : (
        tenants.data && (
          <ScrollRegion label="Tenants table">
            <table>
              <caption class="muted">{tenants.data.length} tenants</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Display name</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {tenants.data.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <a href={`${BASE}/operator/tenants/${t.id}`}>{t.name}</a>
                    </td>
                    <td>{t.display_name}</td>
                    <td>{t.is_operator ? 'operator' : 'customer'}</td>
                    <td>
                      <When iso={t.created_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )
      )}
      <CreateTenant
        onCreated={(t) => {
          setCreated(t);
          tenants.reload();
        }}
      />
    </section>
  );
}
