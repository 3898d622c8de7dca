// Data residency, for compliance officers: where the tenant's data lives (a map of Europe and
// the same figures as a table), every resource's residency with its history, signed reports
// verified in the browser, and a check of a document file someone downloaded earlier.
import { api, listAll, type Schemas } from '../api/client';
import { useSession } from '../lib/session';
import { useApi } from '../lib/hooks';
import { KINDS, loadInventory, type Resource } from '../lib/residency';
import { policyText } from '../lib/regions';
import { ProblemView } from '../components/ProblemView';
import { Loading } from '../components/common';
import { EuropeMap, JURISDICTION_TEXT, countryName, offMap, type MapPlace } from '../components/EuropeMap';
import { ResidencyRecords } from '../components/ResidencyRecords';
import { ResidencyReports } from '../components/ResidencyReports';
import { VerifyFiles } from '../components/VerifyFiles';
import './Compliance.css';

type Region = Schemas['Region'];
type Policy = Schemas['ResidencyPolicy'];

export interface PlaceRow extends MapPlace {
  counts: Record<string, number>;
}

/** Resources grouped by the region their data lives in, with counts per kind. */
export function placesOf(resources: Resource[], regions: Region[]): PlaceRow[] {
  const byCode = new Map(regions.map((r) => [r.code ?? '', r]));
  const rows = new Map<string, PlaceRow>();
  for (const res of resources) {
    const where = res.residency;
    if (!where?.region) continue;
    let row = rows.get(where.region);
    if (!row) {
      const reg = byCode.get(where.region);
      row = {
        code: where.region,
        name: reg?.name ?? where.region,
        country: reg?.country ?? where.country ?? '',
        jurisdiction: reg?.jurisdiction ?? where.jurisdiction ?? 'OTHER',
        total: 0,
        summary: '',
        counts: {},
      };
      rows.set(where.region, row);
    }
    row.counts[res.kind.kind] = (row.counts[res.kind.kind] ?? 0) + 1;
    row.total++;
  }
  for (const row of rows.values())
    row.summary = KINDS.filter((k) => row.counts[k.kind])
      .map((k) => `${row.counts[k.kind]} ${(row.counts[k.kind] === 1 ? k.label : k.plural).toLowerCase()}`)
      .join(', ');
  return [...rows.values()].sort((a, b) => a.code.localeCompare(b.code));
}

function PlacesTable({ places }: { places: PlaceRow[] }) {
  const outside = new Set(offMap(places).map((p) => p.code));
  return (
    <div class="table-wrap places" role="region" aria-label="Regions holding data table" tabIndex={0}>
      <table>
        <caption>Regions holding data</caption>
        <thead>
          <tr>
            <th scope="col">Region</th>
            <th scope="col">Country</th>
            <th scope="col">Jurisdiction</th>
            {KINDS.map((k) => (
              <th scope="col" key={k.kind}>
                {k.plural}
              </th>
            ))}
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          {places.map((p) => (
            <tr key={p.code} data-region={p.code}>
              <th scope="row">
                {p.code}
                <div class="muted">{p.name}</div>
                {outside.has(p.code) && <div class="muted">(outside the map)</div>}
              </th>
              <td>
                {countryName(p.country)} ({p.country})
              </td>
              <td>
                <span class={`jur jur-${p.jurisdiction.toLowerCase()}`}>{p.jurisdiction}</span>
                <div class="muted">{JURISDICTION_TEXT[p.jurisdiction] ?? ''}</div>
              </td>
              {KINDS.map((k) => (
                <td key={k.kind}>{p.counts[k.kind] ?? 0}</td>
              ))}
              <td>{p.total}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default function Compliance() {
  const session = useSession();
  const reportsAllowed = session.isOperator || session.role === 'admin' || session.role === 'auditor';
  const data = useApi(async () => {
    const [inventory, regions, policy] = await Promise.all([
      loadInventory(),
      listAll<Region>('/v1/regions'),
      session.tenantId
        ? api<Policy>(`/v1/tenants/${encodeURIComponent(session.tenantId)}/residency-policy`).catch(() => null)
        : Promise.resolve(null),
    ]);
    return { inventory, regions, policy, places: placesOf(inventory.resources, regions) };
  }, [session.tenantId]);

  const whose = session.isOperator ? 'every tenant’s data' : 'your data';
  const d = data.data;
  return (
    <section class="compliance">
      <h1>Data residency</h1>
      {d && !session.isOperator && (
        <p>
          Your tenant’s residency policy allows: <strong>{policyText(d.policy, 'no policy')}</strong>. Every placement and move is recorded, and nothing is placed
          outside it.
        </p>
      )}
      <h2 id="where-h">Where {whose} lives</h2>
      <ProblemView error={data.error} />
      {data.loading && !d ? (
        <Loading what="Loading where the data lives" />
      ) : d ? (
        <>
          {d.inventory.failed.length > 0 && (
            <div class="problem" role="alert">
              <strong>Some resources could not be listed</strong>
              <ul>
                {d.inventory.failed.map((f) => (
                  <li key={f.kind.kind}>
                    {f.kind.plural}: {f.error instanceof Error ? f.error.message : String(f.error)}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {d.inventory.off.length > 0 && (
            <p class="muted">
              {d.inventory.off.map((k) => k.plural).join(', ')}: not offered by this sovd (it runs without OVN), so none hold data.
            </p>
          )}
          <div class="where">
            <EuropeMap places={d.places} title={`Map of Europe: where ${whose} lives`} />
            {d.places.length === 0 ? <p class="muted">No region holds {whose} yet.</p> : <PlacesTable places={d.places} />}
          </div>
          <h2 id="records-h">Residency records</h2>
          <p class="muted">Each resource’s current place; open its history for every record (placed, moved, copied, deleted) and the reason.</p>
          <ResidencyRecords resources={d.inventory.resources} countryName={countryName} showTenant={session.isOperator} />
        </>
      ) : null}
      <h2 id="reports-h">Signed reports</h2>
      {reportsAllowed ? (
        <ResidencyReports />
      ) : (
        <p class="muted">Admins, auditors and operators generate reports. You can still verify a document you were given, below.</p>
      )}
      <VerifyFiles />
    </section>
  );
}
