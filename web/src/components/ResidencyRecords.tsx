// The residency table: every resource with where its data lives now (its last residency
// record), filtered by kind, region, country, jurisdiction or name; each row opens the
// resource's whole history (GET .../{id}/residency: placed, moved, copied, deleted).
import { useEffect, useState } from 'preact/hooks';
import { KINDS, loadHistory, type Resource, type ResidencyRecord } from '../lib/residency';
import { ProblemView } from './ProblemView';
import { Empty, Loading, StateBadge, When, ScrollRegion } from './common';

type Place = ResidencyRecord['to'];

function placeText(p: Place): string {
  if (!p) return '—';
  return [p.region, p.country, p.jurisdiction, p.host ? `host ${p.host}` : null].filter(Boolean).join(' · ');
}

function History({ resource }: { resource: Resource }) {
  const [state, setState] = useState<{ items?: ResidencyRecord[]; error?: unknown }>({});
  useEffect(() => {
    let live = true;
    loadHistory(resource).then(
      (items) => live && setState({ items }),
      (error) => live && setState({ error }),
    );
    return () => {
      live = false;
    };
  }, [resource.id]);
  if (state.error) return <ProblemView error={state.error} />;
  if (!state.items) return <Loading what="Loading the history" />;
  if (state.items.length === 0) return <Empty>No records.</Empty>;
  return (
    <table class="history">
      <caption>
        Residency history of {resource.kind.label.toLowerCase()} {resource.name}, oldest first
      </caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Event</th>
          <th scope="col">From</th>
          <th scope="col">To</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {state.items.map((r) => (
          <tr key={r.seq}>
            <td>
              <When iso={r.at} />
            </td>
            <td>{r.event}</td>
            <td>{placeText(r.from)}</td>
            <td>{placeText(r.to)}</td>
            <td>{r.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ResidencyRecords({ resources, countryName, showTenant = false }: { resources: Resource[]; countryName: (c: string) => string; showTenant?: boolean }) {
  const [kind, setKind] = useState('');
  const [region, setRegion] = useState('');
  const [country, setCountry] = useState('');
  const [jurisdiction, setJurisdiction] = useState('');
  const [text, setText] = useState('');
  const [open, setOpen] = useState<string | null>(null);

  const regions = [...new Set(resources.map((r) => r.residency?.region).filter((x): x is string => !!x))].sort();
  const countries = [...new Set(resources.map((r) => r.residency?.country).filter((x): x is string => !!x))].sort();
  const t = text.trim().toLowerCase();
  const shown = resources.filter(
    (r) =>
      (!kind || r.kind.kind === kind) &&
      (!region || r.residency?.region === region) &&
      (!country || r.residency?.country === country) &&
      (!jurisdiction || r.residency?.jurisdiction === jurisdiction) &&
      (!t || r.name.toLowerCase().includes(t) || r.id.toLowerCase().includes(t)),
  );
  const sel = (id: string, label: string, value: string, set: (v: string) => void, options: [string, string][]) => (
    <div>
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
        <option value="">All</option>
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );

  return (
    <>
      <form class="filters" aria-label="Residency record filters" onSubmit={(e) => e.preventDefault()}>
        {sel('rr-kind', 'Resource type', kind, setKind, KINDS.map((k) => [k.kind, k.plural]))}
        {sel('rr-region', 'Region', region, setRegion, regions.map((r) => [r, r]))}
        {sel('rr-country', 'Country', country, setCountry, countries.map((c) => [c, `${countryName(c)} (${c})`]))}
        {sel('rr-jurisdiction', 'Jurisdiction', jurisdiction, setJurisdiction, [
          ['EU', 'EU'],
          ['EEA', 'EEA'],
          ['OTHER', 'Other'],
        ])}
        <div>
          <label for="rr-text">Name or id</label>
          <input id="rr-text" type="search" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        </div>
      </form>
      {shown.length === 0 ? (
        <Empty>No resource matches.</Empty>
      ) : (
        <ScrollRegion label="Residency records table">
          <table class="records">
            <caption class="muted">
              {shown.length} of {resources.length} resources: where each one's data lives now (its last residency record).
            </caption>
            <thead>
              <tr>
                <th scope="col">Resource</th>
                {showTenant && <th scope="col">Tenant</th>}
                <th scope="col">State</th>
                <th scope="col">Region</th>
                <th scope="col">Country</th>
                <th scope="col">Jurisdiction</th>
                <th scope="col">Datacenter</th>
                <th scope="col">Host</th>
                <th scope="col">Since</th>
                <th scope="col">History</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => {
                const key = `${r.kind.kind}:${r.id}`;
                const isOpen = open === key;
                const res = r.residency;
                return [
                  <tr key={key}>
                    <th scope="row">
                      <span class="muted">{r.kind.label}</span>{' '}
                      {r.kind.href ? <a href={r.kind.href(r.id)}>{r.name}</a> : r.name}
                    </th>
                    {showTenant && (
                      <td>
                        {r.tenantId ? (
                          <a href={`/console/operator/tenants/${r.tenantId}`} class="mono-small">
                            {r.tenantId.slice(0, 8)}
                          </a>
                        ) : (
                          '—'
                        )}
                      </td>
                    )}
                    <td>
                      <StateBadge state={r.state} />
                    </td>
                    <td>{res?.region ?? '—'}</td>
                    <td>{res?.country ? `${countryName(res.country)} (${res.country})` : '—'}</td>
                    <td>{res?.jurisdiction ?? '—'}</td>
                    <td>{res?.datacenter ?? '—'}</td>
                    <td>{res?.host ?? '—'}</td>
                    <td>
                      <When iso={res?.since} />
                    </td>
                    <td>
                      <button type="button" aria-expanded={isOpen} aria-controls={isOpen ? `hist-${r.id}` : undefined} onClick={() => setOpen(isOpen ? null : key)}>
                        {isOpen ? `Hide history of ${r.name}` : `History of ${r.name}`}
                      </button>
                    </td>
                  </tr>,
                  isOpen && (
                    <tr key={`${key}-h`} id={`hist-${r.id}`}>
                      <td colSpan={showTenant ? 10 : 9}>
                        <History resource={r} />
                      </td>
                    </tr>
                  ),
                ];
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </>
  );
}
