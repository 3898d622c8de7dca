// Signed residency reports: generate one (POST /v1/residency/reports, then its operation's
// progress), list them, download the document, its signature and the key, and verify the
// signature here with WebCrypto over exactly the downloaded bytes.
import { useState } from 'preact/hooks';
import { api, listAll, type Schemas } from '../api/client';
import { useSession } from '../lib/session';
import { useApi, useField, useSubmit } from '../lib/hooks';
import { Field, fieldAttrs, invalid } from './Field';
import { fetchBytes, formatBytes, saveBytes, type Bytes } from '../lib/bytes';
import { sha256Hex, verdictOf, type Verdict } from '../lib/signature';
import { ProblemView } from './ProblemView';
import { Empty, Loading, OperationProgress, StateBadge, When, ScrollRegion } from './common';
import { OpensslCommand, SignatureVerdict, opensslCommands } from './SignatureVerdict';

type Report = Schemas['ResidencyReport'];
type Accepted = Schemas['ResidencyReportAccepted'];
type SigningKey = Schemas['SigningKey'];

const short = (id: string | undefined) => (id ?? '').slice(0, 8);
export const documentName = (r: Report) => `report-${short(r.id)}.${r.format === 'json' ? 'json' : 'csv'}`;
export const signatureName = (r: Report) => `report-${short(r.id)}.sig`;

export async function fetchKey(keyId: string): Promise<SigningKey> {
  return api<SigningKey>('/v1/residency/signing-key', { query: { key_id: keyId } });
}

function day(offset: number): string {
  const d = new Date(Date.now() + offset * 86400_000);
  return d.toISOString().slice(0, 10);
}

function GenerateReport({ onDone }: { onDone: (reportId: string) => void }) {
  const session = useSession();
  const [from, onFrom] = useField(day(-30));
  const [to, onTo] = useField(day(1));
  const [format, onFormat] = useField('csv');
  const [tenants, onTenants] = useField('');
  const [pending, setPending] = useState<{ op: string; report: string } | null>(null);

  const { submit, busy, error } = useSubmit(async () => {
    const body: Record<string, unknown> = { from: `${from}T00:00:00Z`, to: `${to}T00:00:00Z`, format };
    const list = tenants.split(/[\s,]+/).filter(Boolean);
    if (list.length) body.tenants = list;
    const r = await api<Accepted>('/v1/residency/reports', { method: 'POST', body });
    if (r.operation?.id && r.report?.id) setPending({ op: r.operation.id, report: r.report.id });
    else if (r.report?.id) onDone(r.report.id);
  });

  return (
    <form onSubmit={submit} class="card report-form" aria-labelledby="gen-h">
      <h3 id="gen-h">Generate a report</h3>
      <div class="filters">
        <Field id="rep-from" label="From (inclusive)" field="from" error={error}>
          <input {...fieldAttrs(error, 'from', 'rep-from')} aria-invalid={invalid(error, 'from')} type="date" required value={from} onInput={onFrom} />
        </Field>
        <Field id="rep-to" label="To (exclusive)" field="to" error={error}>
          <input {...fieldAttrs(error, 'to', 'rep-to')} aria-invalid={invalid(error, 'to')} type="date" required value={to} onInput={onTo} />
        </Field>
        <Field id="rep-format" label="Format" field="format" error={error}>
          <select {...fieldAttrs(error, 'format', 'rep-format')} aria-invalid={invalid(error, 'format')} value={format} onChange={onFormat}>
            <option value="csv">CSV</option>
            <option value="json">JSON</option>
          </select>
        </Field>
      </div>
      {session.isOperator && (
        <Field id="rep-tenants" label="Tenants (ids, comma-separated; empty: every tenant)" field="tenants" error={error}>
          <input {...fieldAttrs(error, 'tenants', 'rep-tenants')} aria-invalid={invalid(error, 'tenants')} value={tenants} onInput={onTenants} />
        </Field>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || pending !== null}>
          {busy ? 'Asking…' : 'Generate report'}
        </button>
      </div>
      {pending && (
        <OperationProgress
          id={pending.op}
          onDone={() => {
            const id = pending.report;
            setPending(null);
            onDone(id);
          }}
        />
      )}
      <ProblemView error={error} fields={['from', 'to', 'format', 'tenants']} />
    </form>
  );
}

function ReportPanel({ report }: { report: Report }) {
  const id = report.id ?? '';
  const base = `/v1/residency/reports/${encodeURIComponent(id)}`;
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [digest, setDigest] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const keyId = report.key_id ?? '';

  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const verify = () =>
    run('verify', async () => {
      setVerdict(null);
      const [doc, sig, key] = await Promise.all([fetchBytes(`${base}/document`), fetchBytes(`${base}/signature`), fetchKey(keyId)]);
      setVerdict(await verdictOf(keyId, key.public_key_pem ?? '', doc.bytes, sig.bytes));
      setDigest(globalThis.crypto?.subtle ? await sha256Hex(doc.bytes) : null);
    });

  const download = (what: string, path: string, name: string, accept?: string) =>
    run(what, async () => {
      const got = await fetchBytes(path, accept);
      saveBytes(got.bytes as Bytes, name);
    });

  const ready = report.state === 'succeeded';
  return (
    <section class="card report-panel" aria-labelledby="panel-h">
      <h3 id="panel-h">Report {short(id)}</h3>
      <dl class="facts">
        <dt>Period</dt>
        <dd>
          <When iso={report.period?.from} /> to <When iso={report.period?.to} />
        </dd>
        <dt>Scope</dt>
        <dd>{report.scope === null ? 'every tenant' : (report.scope ?? []).join(', ')}</dd>
        <dt>State</dt>
        <dd>
          <StateBadge state={report.state} /> {report.state_reason}
        </dd>
        <dt>Rows</dt>
        <dd>{report.rows ?? '—'}</dd>
        <dt>Violations</dt>
        <dd class={report.violations ? 'bad-text' : undefined}>{report.violations ?? '—'}</dd>
        <dt>Signed with key</dt>
        <dd>
          <code>{keyId || '—'}</code>
        </dd>
        <dt>Document SHA-256</dt>
        <dd>
          <code class="mono-small">{report.document_sha256 ?? '—'}</code> ({formatBytes(report.size_bytes)})
        </dd>
      </dl>
      {ready ? (
        <>
          <div class="actions">
            <button type="button" class="primary" onClick={verify} disabled={busy !== null}>
              {busy === 'verify' ? 'Verifying…' : 'Verify signature'}
            </button>
            <button type="button" onClick={() => download('doc', `${base}/document`, documentName(report))} disabled={busy !== null}>
              Download document
            </button>
            <button type="button" onClick={() => download('sig', `${base}/signature`, signatureName(report))} disabled={busy !== null}>
              Download signature
            </button>
            <button
              type="button"
              onClick={() =>
                download('key', `/v1/residency/signing-key?key_id=${encodeURIComponent(keyId)}`, `key-${keyId}.pem`, 'application/x-pem-file')
              }
              disabled={busy !== null}
            >
              Download public key
            </button>
          </div>
          {busy && busy !== 'verify' && <Loading what="Downloading" />}
          {busy === 'verify' && <Loading what="Downloading the document, its signature and the key, then verifying" />}
          <SignatureVerdict
            verdict={verdict}
            detail={
              digest
                ? digest === report.document_sha256
                  ? `Its SHA-256 is ${digest}, as the report says.`
                  : `Its SHA-256 is ${digest}, not the ${report.document_sha256} the report lists.`
                : undefined
            }
          />
          <OpensslCommand
            id="openssl-h"
            commands={opensslCommands({ origin: location.origin, reportId: id, keyId, document: documentName(report), signature: signatureName(report) })}
          />
        </>
      ) : (
        <p class="muted">The document can be downloaded and verified once the report has succeeded.</p>
      )}
      <ProblemView error={error} />
    </section>
  );
}

export function ResidencyReports() {
  const [selected, setSelected] = useState<string | null>(null);
  const reports = useApi(async () => {
    const items = await listAll<Report>('/v1/residency/reports');
    return items.sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''));
  }, []);
  const list = reports.data ?? [];
  const current = list.find((r) => r.id === selected) ?? null;

  return (
    <>
      <GenerateReport
        onDone={(id) => {
          setSelected(id);
          reports.reload();
        }}
      />
      <ProblemView error={reports.error} />
      {reports.loading && !reports.data ? (
        <Loading what="Loading reports" />
      ) : list.length === 0 ? (
        <Empty>No reports yet.</Empty>
      ) : (
        <ScrollRegion label="Reports table">
          <table>
            <caption class="muted">Reports, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Report</th>
                <th scope="col">Asked</th>
                <th scope="col">Period</th>
                <th scope="col">Format</th>
                <th scope="col">State</th>
                <th scope="col">Rows</th>
                <th scope="col">Violations</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.id} aria-current={r.id === selected ? 'true' : undefined}>
                  <th scope="row">
                    <code>{short(r.id)}</code>
                  </th>
                  <td>
                    <When iso={r.created_at} />
                  </td>
                  <td>
                    {r.period?.from?.slice(0, 10)} – {r.period?.to?.slice(0, 10)}
                  </td>
                  <td>{r.format?.toUpperCase()}</td>
                  <td>
                    <StateBadge state={r.state} />
                  </td>
                  <td>{r.rows ?? '—'}</td>
                  <td class={r.violations ? 'bad-text' : undefined}>{r.violations ?? '—'}</td>
                  <td>
                    <button type="button" onClick={() => setSelected(r.id ?? null)} aria-pressed={r.id === selected}>
                      Open report {short(r.id)}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {current && <ReportPanel key={current.id} report={current} />}
    </>
  );
}
