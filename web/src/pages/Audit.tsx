// The audit log: every API call that changed something (and every refusal), a hash chain that
// GET /v1/audit/verify walks. Filters are the route's; pages follow its keyset links.
import { useState } from 'preact/hooks';
import { api, listAll, type Page, type Schemas } from '../api/client';
import { useSession } from '../lib/session';
import { useApi } from '../lib/hooks';
import { Field, fieldAttrs, invalid } from '../components/Field';
import { ProblemView } from '../components/ProblemView';
import { Empty, Loading, When, ScrollRegion } from '../components/common';
import './Audit.css';

type Entry = Schemas['AuditEntry'];
type Verdict = Schemas['AuditVerdict'];
type User = Schemas['User'];

interface Filters {
  action: string;
  resource_type: string;
  resource_id: string;
  user_id: string;
  tenant_id: string;
  since: string;
  until: string;
}

const EMPTY: Filters = { action: '', resource_type: '', resource_id: '', user_id: '', tenant_id: '', since: '', until: '' };

/** Now less hours, as a datetime-local value ("2026-12-07T10:00", local time). */
function hoursAgo(hours: number): string {
  const d = new Date(Date.now() - hours * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A datetime-local value ("2026-12-07T10:00") as RFC 3339 UTC; other text passes as typed. */
function toRfc3339(v: string): string {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function ChainVerdict() {
  const v = useApi(() => api<Verdict>('/v1/audit/verify'), []);
  return (
    <section aria-labelledby="chain-h" class="chain">
      <h2 id="chain-h">Hash chain</h2>
      {v.loading ? (
        <Loading what="Verifying the chain" />
      ) : v.error ? (
        <ProblemView error={v.error} />
      ) : v.data?.ok ? (
        <p class="verdict good" role="status">
          <span aria-hidden="true">✓ </span>
          <strong>Chain verified</strong>: no entry was changed or removed ({v.data.entries} entries in your scope).
        </p>
      ) : (
        <p class="verdict broken" role="alert">
          <span aria-hidden="true">✗ </span>
          <strong>Chain broken</strong> at entry #{v.data?.first_broken?.seq}: {v.data?.first_broken?.reason}. Entries from there on cannot be trusted;
          someone edited or deleted audit rows in the database.
        </p>
      )}
      <button type="button" onClick={v.reload} disabled={v.loading}>
        Verify the chain again
      </button>
    </section>
  );
}

function FilterField({ id, label, value, onInput, error, type = 'text', help }: {
  id: keyof Filters; label: string; value: string; onInput: (v: string) => void; error: unknown; type?: string; help?: string;
}) {
  return (
    <Field id={`audit-${id}`} label={label} field={id} error={error}>
      <input
        {...fieldAttrs(error, id, `audit-${id}`)} aria-invalid={invalid(error, id)}
        type={type}
        value={value}
        placeholder={help}
        onInput={(e) => onInput((e.target as HTMLInputElement).value)}
      />
    </Field>
  );
}

export default function Audit() {
  const session = useSession();
  const allowed = session.isOperator || session.role === 'admin' || session.role === 'auditor';
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [more, setMore] = useState<{ items: Entry[]; next: string | null; error: unknown; busy: boolean }>({ items: [], next: null, error: null, busy: false });

  const first = useApi(async () => {
    if (!allowed) return { items: [], next: null } as Page<Entry>;
    const q = { ...applied, since: toRfc3339(applied.since), until: toRfc3339(applied.until), limit: 100 };
    const p = await api<Page<Entry>>('/v1/audit', { query: q });
    setMore({ items: [], next: p.next, error: null, busy: false });
    return p;
  }, [applied, allowed], undefined);

  // Admins (and operators) may read their tenant's users: the log names them, not just their ids.
  const users = useApi(
    () =>
      allowed && (session.isOperator || session.role === 'admin')
        ? listAll<User>(`/v1/tenants/${encodeURIComponent(session.tenantId)}/users`).catch(() => [] as User[])
        : Promise.resolve([] as User[]),
    [allowed, session.tenantId],
  );
  const nameOf = new Map((users.data ?? []).map((u) => [u.id, u.name]));

  if (!allowed)
    return (
      <section>
        <h1>Audit log</h1>
        <p>Only admins, auditors and operators read the audit log. Ask an admin of your tenant.</p>
      </section>
    );

  const entries = [...(first.data?.items ?? []), ...more.items];
  const loadMore = async () => {
    if (!more.next) return;
    setMore({ ...more, busy: true, error: null });
    try {
      const p = await api<Page<Entry>>(more.next);
      setMore({ items: [...more.items, ...p.items], next: p.next, error: null, busy: false });
    } catch (e) {
      setMore({ ...more, busy: false, error: e });
    }
  };
  const set = (k: keyof Filters) => (v: string) => setDraft({ ...draft, [k]: v });

  return (
    <section class="audit-page">
      <h1>Audit log</h1>
      <ChainVerdict />
      <h2>Entries</h2>
      <form
        class="filters audit-filters"
        aria-label="Audit log filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...draft });
        }}
      >
        <FilterField id="action" label="Action" value={draft.action} onInput={set('action')} error={first.error} help="instances.create" />
        <FilterField id="resource_type" label="Resource type" value={draft.resource_type} onInput={set('resource_type')} error={first.error} help="instance" />
        <FilterField id="resource_id" label="Resource id" value={draft.resource_id} onInput={set('resource_id')} error={first.error} />
        <FilterField id="user_id" label="User id" value={draft.user_id} onInput={set('user_id')} error={first.error} />
        {session.isOperator && <FilterField id="tenant_id" label="Tenant id" value={draft.tenant_id} onInput={set('tenant_id')} error={first.error} />}
        <FilterField id="since" label="Since" type="datetime-local" value={draft.since} onInput={set('since')} error={first.error} />
        <FilterField id="until" label="Until" type="datetime-local" value={draft.until} onInput={set('until')} error={first.error} />
        <div class="actions">
          <button type="submit" class="primary">
            Apply filters
          </button>
          <button
            type="button"
            onClick={() => {
              // The log reads oldest first: the last day is where a person usually looks.
              const f = { ...draft, since: hoursAgo(24), until: '' };
              setDraft(f);
              setApplied(f);
            }}
          >
            Show the last 24 hours
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              setApplied(EMPTY);
            }}
          >
            Clear filters
          </button>
        </div>
      </form>
      <ProblemView error={first.error} fields={Object.keys(EMPTY)} />
      {first.loading && !first.data ? (
        <Loading what="Loading the audit log" />
      ) : entries.length === 0 ? (
        <Empty>No entries match.</Empty>
      ) : (
        <ScrollRegion label="Audit entries table">
          <table class="audit">
            <caption class="muted">Oldest first; {entries.length} shown{more.next ? ', more below' : ''}.</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col">Outcome</th>
                <th scope="col">Who</th>
                <th scope="col">Source</th>
                <th scope="col">Hash</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>
                    <When iso={e.at} />
                  </td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>
                    {e.resource_type}
                    {e.resource_id && (
                      <div class="muted mono-small" title={e.resource_id}>
                        {e.resource_id}
                      </div>
                    )}
                  </td>
                  <td>
                    <span class={`badge ${(e.outcome ?? 0) < 400 ? 'ok' : (e.outcome ?? 0) < 500 ? 'warn' : 'bad'}`}>{e.outcome}</span>
                  </td>
                  <td>
                    {e.user_id && nameOf.has(e.user_id) ? <strong>{nameOf.get(e.user_id)}</strong> : null} {e.role}
                    {e.user_id && (
                      <div class="muted mono-small" title={e.user_id}>
                        {e.user_id}
                      </div>
                    )}
                  </td>
                  <td>{e.source}</td>
                  <td>
                    <code class="mono-small" title={e.hash}>
                      {e.hash?.slice(0, 12)}…
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <ProblemView error={more.error} />
      {more.next && (
        <button type="button" onClick={loadMore} disabled={more.busy}>
          {more.busy ? 'Loading…' : 'More entries'}
        </button>
      )}
    </section>
  );
}
