// A tenant: its name, its quotas (usage bars, limits an operator sets), its residency policy
// (jurisdictions, countries, regions: the allowed set is their intersection) with the regions
// it allows today, and its users. Operators see every tenant; another tenant's id is not found.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, ApiError, listAll, type Schemas } from '../api/client';
import { ProblemView } from '../components/ProblemView';
import { ConfirmButton, Empty, Loading, UsageBar, When, ScrollRegion } from '../components/common';
import { BASE } from '../components/HostParts';
import { SelectField, TextField } from '../components/Field';
import { numberOrUndefined, splitList } from '../components/OpsFields';
import { useApi, useSubmit, useRemove } from '../lib/hooks';
import { useSession } from '../lib/session';
import { NotFound } from './NotFound';
import { NewSecret } from '../components/TokenSecret';

type Tenant = Schemas['Tenant'];
type Quotas = Schemas['Quotas'];
type Policy = Schemas['ResidencyPolicy'];
type Region = Schemas['Region'];
type User = Schemas['User'];
type TokenCreated = Schemas['TokenCreated'];

/** The quotas in the order a person reads them, with their units. */
export const QUOTAS: { key: string; label: string; unit?: string }[] = [
  { key: 'instances', label: 'Instances' },
  { key: 'vcpus', label: 'vCPUs' },
  { key: 'memory_mib', label: 'Memory', unit: ' MiB' },
  { key: 'gpus', label: 'GPUs' },
  { key: 'volumes', label: 'Volumes' },
  { key: 'storage_gib', label: 'Storage', unit: ' GiB' },
  { key: 'snapshots', label: 'Snapshots' },
  { key: 'workspaces', label: 'Workspaces' },
  { key: 'networks', label: 'Networks' },
  { key: 'subnets', label: 'Subnets' },
  { key: 'ports', label: 'Ports' },
  { key: 'security_groups', label: 'Security groups' },
  { key: 'security_group_rules', label: 'Security group rules' },
  { key: 'public_ips', label: 'Public IPs' },
];

const JURISDICTIONS: { code: 'EU' | 'EEA' | 'OTHER'; label: string }[] = [
  { code: 'EU', label: 'EU' },
  { code: 'EEA', label: 'EEA (Iceland, Liechtenstein, Norway)' },
  { code: 'OTHER', label: 'Outside the EU and EEA' },
];

type QuotaEntry = { limit?: number; used?: number };

function quotaOf(q: Quotas | undefined, key: string): QuotaEntry | undefined {
  return (q?.quotas as Record<string, QuotaEntry> | undefined)?.[key];
}

/** The regions a policy allows: in every list that is given and not empty. */
export function allowedRegions(p: Policy, regions: Region[]): Region[] {
  const j = p.jurisdictions ?? [];
  const c = p.countries ?? [];
  const r = p.regions ?? [];
  return regions.filter(
    (g) =>
      (j.length === 0 || j.includes(g.jurisdiction as 'EU')) &&
      (c.length === 0 || c.includes(g.country ?? '')) &&
      (r.length === 0 || r.includes(g.code ?? '')),
  );
}

function TenantName({ tenant, onSaved }: { tenant: Tenant; onSaved: () => void }) {
  const [name, setName] = useState(tenant.name);
  const [display, setDisplay] = useState(tenant.display_name);
  const [saved, setSaved] = useState(false);

  const { submit, busy, error } = useSubmit(async () => {
    setSaved(false);
    await api<Tenant>(`/v1/tenants/${encodeURIComponent(tenant.id)}`, {
      method: 'PATCH',
      body: { name: name.trim(), display_name: display.trim() },
    });
    setSaved(true);
    onSaved();
  });

  return (
    <form class="ops-form" onSubmit={submit} aria-labelledby="tenant-name-h">
      <h2 id="tenant-name-h">Name</h2>
      <div class="grid">
        <TextField label="Tenant name" field="name" value={name} onValue={setName} error={error} required />
        <TextField label="Display name" field="display_name" value={display} onValue={setDisplay} error={error} />
      </div>
      <ProblemView error={error} fields={['name', 'display_name']} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save name'}
        </button>
        {saved && (
          <span role="status" class="done-text">
            Saved.
          </span>
        )}
      </div>
    </form>
  );
}

function QuotaSection({ tenantId, canEdit }: { tenantId: string; canEdit: boolean }) {
  const quotas = useApi(() => api<Quotas>(`/v1/tenants/${encodeURIComponent(tenantId)}/quotas`), [tenantId]);
  const [limits, setLimits] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');

  const shown = QUOTAS.filter((q) => quotaOf(quotas.data, q.key));
  const current = (key: string) => limits[key] ?? String(quotaOf(quotas.data, key)?.limit ?? '');

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setNotice('');
    const body: Record<string, number> = {};
    for (const q of shown) {
      const v = numberOrUndefined(current(q.key));
      if (v !== undefined && v !== quotaOf(quotas.data, q.key)?.limit) body[q.key] = v;
    }
    if (Object.keys(body).length === 0) {
      setNotice('No limit changed.');
      return;
    }
    setBusy(true);
    try {
      await api<Quotas>(`/v1/tenants/${encodeURIComponent(tenantId)}/quotas`, { method: 'PUT', body });
      setLimits({});
      setNotice('Limits saved.');
      quotas.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="quotas-h">
      <h2 id="quotas-h">Quotas</h2>
      <ProblemView error={quotas.error} />
      {quotas.loading && !quotas.data ? (
        <Loading what="Loading quotas" />
      ) : (
        <div class="bars">
          {shown.map((q) => {
            const e = quotaOf(quotas.data, q.key)!;
            return <UsageBar key={q.key} label={q.label} used={e.used ?? 0} limit={e.limit} unit={q.unit} />;
          })}
        </div>
      )}
      {canEdit && quotas.data && (
        <form class="ops-form" onSubmit={submit} aria-labelledby="limits-h">
          <h3 id="limits-h">Limits</h3>
          <div class="grid">
            {shown.map((q) => (
              <TextField
                key={q.key}
                label={`${q.label} limit${q.unit ? ` (${q.unit.trim()})` : ''}`}
                field={q.key}
                type="number"
                min={0}
                value={current(q.key)}
                onValue={(v) => setLimits((l) => ({ ...l, [q.key]: v }))}
                error={error}
              />
            ))}
          </div>
          <ProblemView error={error} fields={shown.map((q) => q.key)} />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Saving…' : 'Save limits'}
            </button>
            {notice && (
              <span role="status" class="done-text">
                {notice}
              </span>
            )}
          </div>
        </form>
      )}
    </section>
  );
}

function PolicySection({ tenantId, canEdit, isOperator }: { tenantId: string; canEdit: boolean; isOperator: boolean }) {
  const policy = useApi(() => api<Policy>(`/v1/tenants/${encodeURIComponent(tenantId)}/residency-policy`), [tenantId]);
  const regions = useApi(() => listAll<Region>('/v1/regions'), []);
  const [editing, setEditing] = useState(false);
  const [jur, setJur] = useState<string[]>([]);
  const [countries, setCountries] = useState('');
  const [regs, setRegs] = useState<string[]>([]);
  const [notice, setNotice] = useState('');

  const p = policy.data;
  const all = regions.data ?? [];
  const list = (xs: string[] | undefined) => (xs && xs.length ? xs.join(', ') : 'any');

  const startEdit = () => {
    setJur([...(p?.jurisdictions ?? [])]);
    setCountries((p?.countries ?? []).join(', '));
    setRegs([...(p?.regions ?? [])]);
    setError(null);
    setNotice('');
    setEditing(true);
  };
  const toggle = (xs: string[], x: string, on: boolean) => (on ? [...xs.filter((y) => y !== x), x] : xs.filter((y) => y !== x));

  const draft: Policy = {
    jurisdictions: jur as Policy['jurisdictions'],
    countries: splitList(countries).map((c) => c.toUpperCase()),
    regions: regs,
  };

  const { submit, busy, error, setError } = useSubmit(async () => {
    await api<Policy>(`/v1/tenants/${encodeURIComponent(tenantId)}/residency-policy`, { method: 'PUT', body: draft });
    setEditing(false);
    setNotice('Policy saved.');
    policy.reload();
  });

  const allowedNow = p ? allowedRegions(p, all) : [];
  const allowedDraft = allowedRegions(draft, all);
  return (
    <section aria-labelledby="policy-h">
      <h2 id="policy-h">Residency policy</h2>
      <ProblemView error={policy.error} />
      <ProblemView error={regions.error} />
      {notice && (
        <p role="status" class="done-text">
          {notice}
        </p>
      )}
      {!p ? (
        !policy.error && <Loading what="Loading the policy" />
      ) : (
        <dl class="facts">
          <dt>Jurisdictions</dt>
          <dd>{list(p.jurisdictions)}</dd>
          <dt>Countries</dt>
          <dd>{list(p.countries)}</dd>
          <dt>Regions</dt>
          <dd>{list(p.regions)}</dd>
          <dt>Allowed regions today</dt>
          <dd>{regions.data ? allowedNow.map((r) => r.code).join(', ') || 'none' : '…'}</dd>
        </dl>
      )}
      {canEdit && p && !editing && (
        <button type="button" onClick={startEdit}>
          Edit policy
        </button>
      )}
      {editing && (
        <form class="ops-form" onSubmit={submit} aria-labelledby="policy-edit-h">
          <h3 id="policy-edit-h">Edit the residency policy</h3>
          <p class="muted">
            The allowed places are those in every list you fill in; an empty list constrains nothing.
            {isOperator ? ' An operator may set any policy.' : ' An admin may only narrow it.'} A policy that would leave the tenant's data
            outside it is refused.
          </p>
          <fieldset>
            <legend>Jurisdictions</legend>
            {JURISDICTIONS.map((j) => (
              <label key={j.code}>
                <input type="checkbox" checked={jur.includes(j.code)} onChange={(e) => setJur(toggle(jur, j.code, (e.currentTarget as HTMLInputElement).checked))} />
                {j.label}
              </label>
            ))}
            <FieldMessage error={error} field="jurisdictions" />
          </fieldset>
          <TextField
            label="Countries"
            field="countries"
            value={countries}
            onValue={setCountries}
            error={error}
            hint="ISO 3166-1 alpha-2 codes separated by commas, e.g. FR, DE; empty for any"
          />
          <fieldset>
            <legend>Regions</legend>
            {all.length === 0 && <p class="muted">No regions yet.</p>}
            {all.map((r) => (
              <label key={r.code}>
                <input
                  type="checkbox"
                  checked={regs.includes(r.code ?? '')}
                  onChange={(e) => setRegs(toggle(regs, r.code ?? '', (e.currentTarget as HTMLInputElement).checked))}
                />
                {r.code} ({r.country}, {r.jurisdiction})
              </label>
            ))}
            <FieldMessage error={error} field="regions" />
          </fieldset>
          <p aria-live="polite">
            This policy allows: <strong>{allowedDraft.map((r) => r.code).join(', ') || 'no region'}</strong>
          </p>
          <ProblemView error={error} fields={['jurisdictions', 'countries', 'regions']} />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Saving…' : 'Save policy'}
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function FieldMessage({ error, field }: { error: unknown; field: string }) {
  const m = error instanceof ApiError ? error.fieldError(field) : undefined;
  return m ? (
    <p class="field-error" role="alert">
      {m}
    </p>
  ) : null;
}

function UsersSection({ tenant, canEdit }: { tenant: Tenant; canEdit: boolean }) {
  const users = useApi(() => listAll<User>(`/v1/tenants/${encodeURIComponent(tenant.id)}/users`), [tenant.id]);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('member');
  const removal = useRemove(users.reload);
  const { notice, setNotice } = removal;

  const roles = [...(tenant.is_operator ? ['operator'] : []), 'admin', 'member', 'reader', 'auditor'];

  const { submit, busy, error } = useSubmit(async () => {
    setNotice('');
    const u = await api<User>(`/v1/tenants/${encodeURIComponent(tenant.id)}/users`, {
      method: 'POST',
      body: { name: name.trim(), email: email.trim(), role },
    });
    setName('');
    setEmail('');
    setNotice(`User ${u.name} added as ${u.role}.`);
    users.reload();
  });

  // A token for one of the tenant's users (its first admin's, say), so that they can sign
  // in: POST /v1/tokens with user_id, which operators may do for any user.
  const [secret, setSecret] = useState<TokenCreated | null>(null);
  const [tokenError, setTokenError] = useState<unknown>(null);
  const makeToken = async (u: User) => {
    setTokenError(null);
    setNotice('');
    try {
      setSecret(await api<TokenCreated>('/v1/tokens', { method: 'POST', body: { name: `${u.name} (made in the console)`, user_id: u.id } }));
    } catch (e) {
      setTokenError(e);
    }
  };

  const remove = (u: User) => removal.remove(`/v1/tenants/${encodeURIComponent(tenant.id)}/users/${encodeURIComponent(u.id)}`, `User ${u.name} deleted.`);

  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <ProblemView error={users.error} />
      <ProblemView error={removal.error} />
      <ProblemView error={tokenError} />
      {secret && <NewSecret token={secret} onDone={() => setSecret(null)} />}
      {notice && (
        <p role="status" class="done-text">
          {notice}
        </p>
      )}
      {users.loading && !users.data ? (
        <Loading what="Loading users" />
      ) : users.data && users.data.length === 0 ? (
        <Empty>No users yet.</Empty>
      ) : (
        users.data && (
          <ScrollRegion label="Users table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  {canEdit && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {users.data.map((u) => (
                  <tr key={u.id}>
                    <td>{u.name}</td>
                    <td>{u.email}</td>
                    <td>{u.role}</td>
                    <td>
                      <When iso={u.created_at} />
                    </td>
                    {canEdit && (
                      <td class="actions">
                        <button type="button" onClick={() => makeToken(u)}>
                          Create token for {u.name}
                        </button>
                        <ConfirmButton
                          label={`Delete user ${u.name}`}
                          question={`Delete user ${u.name}? Their tokens stop working; the audit log keeps their actions.`}
                          confirmLabel="Delete"
                          danger
                          onConfirm={() => remove(u)}
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
      {canEdit && (
        <form class="ops-form" onSubmit={submit} aria-labelledby="add-user-h">
          <h3 id="add-user-h">Add a user</h3>
          <div class="grid">
            <TextField label="User name" field="name" value={name} onValue={setName} error={error} required />
            <TextField label="Email" field="email" type="email" value={email} onValue={setEmail} error={error} required />
            <SelectField label="Role" field="role" value={role} onValue={setRole} error={error} options={roles.map((r) => ({ value: r, label: r }))} />
          </div>
          <ProblemView error={error} fields={['name', 'email', 'role']} />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Adding user…' : 'Add user'}
            </button>
          </div>
          <p class="muted">The user signs in with a token: "Create token for NAME" above makes one (its secret is shown once).</p>
        </form>
      )}
    </section>
  );
}

export default function TenantDetail({ id = '' }: { id?: string }) {
  const session = useSession();
  const { route } = useLocation();
  const tenant = useApi(() => api<Tenant>(`/v1/tenants/${encodeURIComponent(id)}`), [id]);
  const [actionError, setActionError] = useState<unknown>(null);

  if (tenant.error instanceof ApiError && tenant.error.status === 404) return <NotFound />;
  const t = tenant.data;
  if (!t) {
    return (
      <section>
        <h1>Tenant</h1>
        <ProblemView error={tenant.error} />
        {!tenant.error && <Loading what="Loading the tenant" />}
      </section>
    );
  }

  const isAdmin = session.isOperator || (session.role === 'admin' && session.tenantId === t.id);
  const remove = async () => {
    setActionError(null);
    try {
      await api(`/v1/tenants/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
      route(`${BASE}/operator/tenants`);
    } catch (e) {
      setActionError(e);
    }
  };

  return (
    <section>
      {session.isOperator && (
        <p>
          <a href={`${BASE}/operator/tenants`}>Tenants</a>
        </p>
      )}
      <h1>Tenant {t.display_name || t.name}</h1>
      <dl class="facts">
        <dt>Name</dt>
        <dd>
          <code>{t.name}</code>
        </dd>
        <dt>Kind</dt>
        <dd>{t.is_operator ? 'the operator tenant' : 'customer'}</dd>
        <dt>Created</dt>
        <dd>
          <When iso={t.created_at} />
        </dd>
        <dt>ID</dt>
        <dd>
          <code>{t.id}</code>
        </dd>
      </dl>
      <QuotaSection tenantId={t.id} canEdit={session.isOperator} />
      <PolicySection tenantId={t.id} canEdit={isAdmin} isOperator={session.isOperator} />
      <UsersSection tenant={t} canEdit={isAdmin} />
      {isAdmin && <TenantName key={t.id} tenant={t} onSaved={tenant.reload} />}
      {session.isOperator && !t.is_operator && (
        <section aria-labelledby="danger-h">
          <h2 id="danger-h">Delete</h2>
          <ProblemView error={actionError} />
          <ConfirmButton
            label="Delete tenant"
            question={`Delete tenant ${t.name} with its users, tokens and workspaces? A tenant that still holds resources is refused.`}
            confirmLabel="Delete"
            danger
            onConfirm={remove}
          />
        </section>
      )}
    </section>
  );
}
