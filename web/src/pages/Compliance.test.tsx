import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import Compliance, { placesOf } from './Compliance';
import { Signed, ensureWebCrypto, json, page, session, stubApi } from '../test/kit';
import { keyIdOf, pemToDer, verdictOf } from '../lib/signature';
import { policyAllows } from '../lib/regions';
import { placeDots } from '../components/EuropeMap';
import { KINDS } from '../lib/residency';
import type { Bytes } from '../lib/bytes';
import type { Region } from '../lib/regions';

const KEY_ID = '0123456789abcdef';
const DOC = new TextEncoder().encode(
  `# key_id: ${KEY_ID}\n# period: 2026-11-01T00:00:00Z/2026-12-01T00:00:00Z\n# rows: 1\nresource_type,resource_id\ninstance,i-1\n# violations: 0\n`,
);
let PEM = '';
let SIG: Bytes = new Uint8Array(64);

beforeAll(async () => {
  await ensureWebCrypto();
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  PEM = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spki))}\n-----END PUBLIC KEY-----\n`;
  SIG = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, DOC));
});
afterEach(() => vi.unstubAllGlobals());

const where = (region: string, country: string, jurisdiction: string, host: string | null = null) => ({
  region,
  country,
  jurisdiction,
  datacenter: `${region} dc`,
  host,
  since: '2026-12-01T10:00:00Z',
});
const regions: Region[] = [
  { code: 'fr-par-1', name: 'Paris', country: 'FR', jurisdiction: 'EU', zones: [] },
  { code: 'no-osl-1', name: 'Oslo', country: 'NO', jurisdiction: 'EEA', zones: [] },
  { code: 'us-east-1', name: 'Virginia', country: 'US', jurisdiction: 'OTHER', zones: [] },
  { code: 'de-fra-1', name: 'Frankfurt', country: 'DE', jurisdiction: 'EU', zones: [] },
];
const report = {
  id: 'r0000001-aaaa-bbbb-cccc-000000000001',
  tenant_id: 't-1',
  period: { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
  scope: ['t-1'],
  format: 'csv',
  state: 'succeeded',
  key_id: KEY_ID,
  rows: 1,
  violations: 0,
  document_sha256: null,
  size_bytes: DOC.length,
  created_at: '2026-12-07T10:00:00Z',
};

function inventory(extra: Record<string, unknown> = {}) {
  return {
    'GET /readyz': { status: 'ready', migrations: 15, ovn: 'reachable' },
    'GET /v1/regions': page(regions),
    'GET /v1/tenants/t-1/residency-policy': { jurisdictions: ['EU', 'EEA'], countries: [], regions: [] },
    'GET /v1/instances': page([
      { id: 'i-1', name: 'web-1', state: 'running', tenant_id: 't-2aaaaaaa-0000', residency: where('fr-par-1', 'FR', 'EU', 'kvm-1') },
      { id: 'i-2', name: 'web-2', state: 'running', residency: where('fr-par-1', 'FR', 'EU', 'kvm-2') },
      { id: 'i-3', name: 'db-1', state: 'stopped', residency: where('no-osl-1', 'NO', 'EEA', 'kvm-9') },
    ]),
    'GET /v1/images': page([{ id: 'm-1', name: 'debian', state: 'active', residency: where('fr-par-1', 'FR', 'EU') }]),
    'GET /v1/volumes': page([{ id: 'v-1', name: 'data', state: 'available', residency: where('us-east-1', 'US', 'OTHER') }]),
    'GET /v1/snapshots': page([]),
    'GET /v1/networks': page([]),
    'GET /v1/public-ips': page([]),
    'GET /v1/residency/reports': page([report]),
    'GET /v1/residency/signing-key': (c: { query: URLSearchParams }) =>
      c.query.get('key_id') === KEY_ID || !c.query.get('key_id')
        ? { key_id: KEY_ID, algorithm: 'ed25519', public_key_pem: PEM, created_at: '2026-01-01T00:00:00Z', retired_at: null }
        : json({ type: '/problems/not-found', title: 'not found', status: 404 }, 404),
    ...extra,
  };
}

function bytes(b: Bytes, type = 'application/octet-stream') {
  return () => new Response(b, { status: 200, headers: { 'Content-Type': type } });
}

function renderAs(role: string, operator = false) {
  return render(
    <Signed s={session(role, { operator })}>
      <Compliance />
    </Signed>,
  );
}

describe('Data residency: where the data lives', () => {
  it('draws a dot per region with data, coloured and shaped by jurisdiction, and the same as a table', async () => {
    stubApi(inventory());
    const { container } = renderAs('admin');
    const table = await screen.findByRole('table', { name: 'Regions holding data' });
    const par = within(table).getByRole('row', { name: /fr-par-1/ });
    // Instances, Images, Volumes, Snapshots, Networks, Public IPs, Total
    expect(Array.from(par.querySelectorAll('td')).slice(2).map((td) => td.textContent)).toEqual(['2', '1', '0', '0', '0', '0', '3']);
    expect(within(table).getByRole('row', { name: /no-osl-1/ }).textContent).toContain('EEA (Iceland, Liechtenstein, Norway)');
    const us = within(table).getByRole('row', { name: /us-east-1/ });
    expect(us.textContent).toContain('(outside the map)');
    expect(us.textContent).toContain('Outside the EU and the EEA');
    expect(within(table).queryByRole('row', { name: /de-fra-1/ })).toBeNull();

    const map = screen.getByRole('img', { name: /Map of Europe/ });
    const dots = Array.from(container.querySelectorAll('g.dot')).map((g) => [g.getAttribute('data-region'), g.getAttribute('class')]);
    expect(dots).toEqual(
      expect.arrayContaining([
        ['fr-par-1', 'dot dot-eu'],
        ['no-osl-1', 'dot dot-eea'],
      ]),
    );
    expect(dots).toHaveLength(2);
    expect(container.querySelector('g.dot[data-region="fr-par-1"] circle')).not.toBeNull();
    expect(container.querySelector('g.dot[data-region="no-osl-1"] rect')).not.toBeNull();
    expect(container.querySelector('g.dot[data-region="fr-par-1"] .dot-label')?.textContent).toBe('fr-par-1');
    expect(map.textContent).toContain('fr-par-1 in France (EU): 2 instances, 1 image');
    expect(screen.getByText(/Circle: a region in an EU member state/)).toBeTruthy();
    expect(screen.getByText(/Triangle: a region outside the EU and the EEA/)).toBeTruthy();
    expect(screen.getByText(/jurisdictions EU, EEA/)).toBeTruthy();
  });

  it('does not ask for networks where sovd runs without OVN, and says so', async () => {
    const calls = stubApi(inventory({ 'GET /readyz': { status: 'ready', migrations: 15, ovn: 'not configured' } }));
    renderAs('admin');
    expect(await screen.findByText(/Networks: not offered by this sovd \(it runs without OVN\)/)).toBeTruthy();
    expect(calls.some((c) => c.path === '/v1/networks')).toBe(false);
    expect(calls.some((c) => c.path === '/v1/volumes')).toBe(true);
    expect(screen.queryByText('Some resources could not be listed')).toBeNull();
  });

  it('names a kind of resource whose list failed instead of leaving it out silently', async () => {
    stubApi(inventory({ 'GET /v1/networks': json({ type: '/problems/unavailable', title: 'service temporarily unavailable', status: 503, detail: 'OVN is down' }, 503) }));
    renderAs('admin');
    const alert = await screen.findByText('Some resources could not be listed');
    expect(alert.closest('[role=alert]')?.textContent).toContain('Networks: service temporarily unavailable: OVN is down');
    expect(await screen.findByRole('table', { name: 'Regions holding data' })).toBeTruthy();
  });
});

describe('Data residency: records', () => {
  it('filters the records and opens one resource history', async () => {
    const calls = stubApi(
      inventory({
        'GET /v1/instances/i-3/residency': page([
          { seq: 1, at: '2026-11-02T10:00:00Z', event: 'placed', from: null, to: where('fr-par-1', 'FR', 'EU', 'kvm-1'), reason: 'instance.create', operation_id: null },
          { seq: 2, at: '2026-11-03T10:00:00Z', event: 'moved', from: where('fr-par-1', 'FR', 'EU', 'kvm-1'), to: where('no-osl-1', 'NO', 'EEA', 'kvm-9'), reason: 'live migration', operation_id: null },
        ]),
      }),
    );
    renderAs('auditor');
    await screen.findByRole('row', { name: /db-1/ });
    expect(screen.getByText('5 of 5 resources', { exact: false })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Jurisdiction'), { target: { value: 'EEA' } });
    expect(screen.getByText('1 of 5 resources', { exact: false })).toBeTruthy();
    expect(screen.queryByRole('row', { name: /web-1/ })).toBeNull();
    fireEvent.change(screen.getByLabelText('Jurisdiction'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Resource type'), { target: { value: 'image' } });
    expect(screen.getByRole('row', { name: /debian/ })).toBeTruthy();
    expect(screen.queryByRole('row', { name: /web-1/ })).toBeNull();
    fireEvent.change(screen.getByLabelText('Resource type'), { target: { value: '' } });
    fireEvent.input(screen.getByLabelText('Name or id'), { target: { value: 'db' } });
    expect(screen.getByText('1 of 5 resources', { exact: false })).toBeTruthy();

    const btn = screen.getByRole('button', { name: 'History of db-1' });
    expect(btn.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(btn);
    const hist = await screen.findByRole('table', { name: /Residency history of instance db-1/ });
    expect(within(hist).getByRole('row', { name: /moved/ }).textContent).toContain('live migration');
    expect(within(hist).getByRole('row', { name: /moved/ }).textContent).toContain('no-osl-1 · NO · EEA · host kvm-9');
    expect(calls.some((c) => c.path === '/v1/instances/i-3/residency')).toBe(true);
    expect(screen.getByRole('button', { name: 'Hide history of db-1' }).getAttribute('aria-expanded')).toBe('true');
  });
});

describe('Data residency: an operator', () => {
  it("sees every tenant's data, each record with its tenant", async () => {
    stubApi(inventory());
    renderAs('operator', true);
    expect(await screen.findByRole('heading', { name: 'Where every tenant’s data lives' })).toBeTruthy();
    expect(await screen.findByRole('columnheader', { name: 'Tenant' })).toBeTruthy();
    const link = within(screen.getByRole('row', { name: /web-1/ })).getByRole('link', { name: 't-2aaaaa' });
    expect(link.getAttribute('href')).toBe('/console/operator/tenants/t-2aaaaaaa-0000');
    expect(screen.getByLabelText('Tenants (ids, comma-separated; empty: every tenant)')).toBeTruthy();
  });
});

describe('Data residency: reports', () => {
  it('verifies a report in the browser: Signature valid, and shows the openssl command', async () => {
    const calls = stubApi(
      inventory({
        [`GET /v1/residency/reports/${report.id}/document`]: bytes(DOC, 'text/csv'),
        [`GET /v1/residency/reports/${report.id}/signature`]: bytes(SIG),
      }),
    );
    renderAs('auditor');
    fireEvent.click(await screen.findByRole('button', { name: 'Open report r0000001' }));
    fireEvent.click(screen.getByRole('button', { name: 'Verify signature' }));
    const ok = await screen.findByText('Signature valid');
    expect(ok.closest('.sig-verdict')?.className).toContain('valid');
    expect(screen.queryByText('Signature invalid')).toBeNull();
    expect(calls.find((c) => c.path === '/v1/residency/signing-key')?.query.get('key_id')).toBe(KEY_ID);
    const pre = document.querySelector('.report-panel pre')!;
    expect(pre.textContent).toContain(
      `openssl pkeyutl -verify -pubin -inkey key-${KEY_ID}.pem -rawin -in report-r0000001.csv -sigfile report-r0000001.sig`,
    );
    expect(pre.textContent).toContain(`/v1/residency/signing-key?key_id=${KEY_ID}" -o key-${KEY_ID}.pem`);
    expect(pre.textContent).toContain(`/v1/residency/reports/${report.id}/document -o report-r0000001.csv`);
  });

  it('shows Signature invalid when the document served does not match its signature', async () => {
    const bad = DOC.slice();
    bad[bad.length - 3] ^= 1;
    stubApi(
      inventory({
        [`GET /v1/residency/reports/${report.id}/document`]: bytes(bad, 'text/csv'),
        [`GET /v1/residency/reports/${report.id}/signature`]: bytes(SIG),
      }),
    );
    renderAs('admin');
    fireEvent.click(await screen.findByRole('button', { name: 'Open report r0000001' }));
    fireEvent.click(screen.getByRole('button', { name: 'Verify signature' }));
    const no = await screen.findByText('Signature invalid');
    expect(no.closest('.sig-verdict')?.getAttribute('role')).toBe('alert');
    expect(screen.queryByText('Signature valid')).toBeNull();
  });

  it('generates a report, follows its operation, then opens it', async () => {
    const fresh = { ...report, id: 'r0000002-aaaa-bbbb-cccc-000000000002', state: 'succeeded' };
    let list = [report];
    let polls = 0;
    const calls = stubApi(
      inventory({
        'GET /v1/residency/reports': () => page(list),
        'POST /v1/residency/reports': () => json({ report: { ...fresh, state: 'queued' }, operation: { id: 'op-1', kind: 'residency.report', state: 'queued', progress: 0 } }, 202),
        'GET /v1/operations/op-1': () => {
          polls++;
          if (polls < 2) return { id: 'op-1', kind: 'residency.report', state: 'running', progress: 40, step: 'reading records' };
          list = [report, fresh];
          return { id: 'op-1', kind: 'residency.report', state: 'succeeded', progress: 100 };
        },
      }),
    );
    renderAs('auditor');
    await screen.findByRole('button', { name: 'Open report r0000001' });
    fireEvent.input(screen.getByLabelText('From (inclusive)'), { target: { value: '2026-11-01' } });
    fireEvent.input(screen.getByLabelText('To (exclusive)'), { target: { value: '2026-12-01' } });
    fireEvent.change(screen.getByLabelText('Format'), { target: { value: 'json' } });
    fireEvent.click(screen.getByRole('button', { name: 'Generate report' }));
    expect(await screen.findByRole('progressbar', { name: 'residency.report progress' })).toBeTruthy();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', format: 'json' });
    expect(await screen.findByRole('heading', { name: 'Report r0000002' }, { timeout: 3000 })).toBeTruthy();
  });

  it('shows a refused report request next to its field', async () => {
    stubApi(
      inventory({
        'POST /v1/residency/reports': json({ type: '/problems/invalid', title: 'request is invalid', status: 400, errors: [{ field: 'to', message: 'to must be after from' }] }, 400),
      }),
    );
    renderAs('auditor');
    await screen.findByRole('button', { name: 'Open report r0000001' });
    fireEvent.click(screen.getByRole('button', { name: 'Generate report' }));
    expect(await screen.findByText('to must be after from')).toBeTruthy();
    expect(screen.getByLabelText('To (exclusive)').getAttribute('aria-invalid')).toBe('true');
  });

  it('tells a member that reports are for admins and auditors, and still verifies files', async () => {
    const calls = stubApi(inventory());
    renderAs('member');
    await screen.findByRole('table', { name: 'Regions holding data' });
    expect(screen.getByText(/Admins, auditors and operators generate reports/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Generate report' })).toBeNull();
    expect(calls.some((c) => c.path === '/v1/residency/reports')).toBe(false);
    expect(screen.getByLabelText('Document file')).toBeTruthy();
  });
});

describe('Data residency: verify a downloaded document', () => {
  async function pick(doc: Bytes) {
    fireEvent.change(screen.getByLabelText('Document file'), { target: { files: [new File([doc], 'report-r0000001.csv', { type: 'text/csv' })] } });
    await waitFor(() => expect((screen.getByLabelText('Signing key id') as HTMLInputElement).value).toBe(KEY_ID));
    fireEvent.change(screen.getByLabelText('Signature file'), { target: { files: [new File([SIG], 'report-r0000001.sig')] } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify files' }));
  }

  it('says Signature valid for the untouched file, with the key its header names', async () => {
    const calls = stubApi(inventory());
    renderAs('auditor');
    await pick(DOC);
    expect(await screen.findByText('Signature valid')).toBeTruthy();
    expect(calls.filter((c) => c.path === '/v1/residency/signing-key').at(-1)?.query.get('key_id')).toBe(KEY_ID);
    expect(document.querySelector('.verify-files pre')?.textContent).toContain(
      `openssl pkeyutl -verify -pubin -inkey key-${KEY_ID}.pem -rawin -in report-r0000001.csv -sigfile report-r0000001.sig`,
    );
  });

  it('says Signature invalid once one byte is flipped', async () => {
    stubApi(inventory());
    renderAs('auditor');
    const bad = DOC.slice();
    bad[DOC.length - 10] ^= 0x20;
    await pick(bad);
    expect(await screen.findByText('Signature invalid')).toBeTruthy();
    expect(screen.queryByText('Signature valid')).toBeNull();
  });

  it("falls back to sovd's current key when a changed header names none, and says Signature invalid", async () => {
    stubApi(inventory());
    renderAs('auditor');
    const bad = DOC.slice();
    bad[3] = 'K'.charCodeAt(0); // "# Key_id: ..."
    fireEvent.change(screen.getByLabelText('Document file'), { target: { files: [new File([bad], 'tampered.csv')] } });
    await waitFor(() => expect((screen.getByLabelText('Signing key id') as HTMLInputElement).value).toBe(KEY_ID));
    expect(screen.getByText(/The document names no key: sovd’s current key/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Signature file'), { target: { files: [new File([SIG], 'report.sig')] } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify files' }));
    expect(await screen.findByText('Signature invalid')).toBeTruthy();
  });

  it('says Signature invalid when sovd has no key by the id given', async () => {
    stubApi(inventory());
    renderAs('auditor');
    await pick(DOC);
    await screen.findByText('Signature valid');
    fireEvent.input(screen.getByLabelText('Signing key id'), { target: { value: 'ffffffffffffffff' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify files' }));
    expect(await screen.findByText(/sovd has no signing key with id "ffffffffffffffff"/)).toBeTruthy();
    expect(screen.getByText('Signature invalid')).toBeTruthy();
  });
});

describe('residency helpers', () => {
  it('reads the key id from a CSV or JSON document header', () => {
    expect(keyIdOf(DOC)).toBe(KEY_ID);
    expect(keyIdOf(new TextEncoder().encode(`{"report": {"key_id": "${KEY_ID}", "rows": 0}}`))).toBe(KEY_ID);
    expect(keyIdOf(new TextEncoder().encode('no header'))).toBeNull();
  });

  it('verifies with WebCrypto Ed25519 and refuses a signature of the wrong length', async () => {
    expect(pemToDer(PEM).length).toBe(44);
    expect((await verdictOf(KEY_ID, PEM, DOC, SIG)).kind).toBe('valid');
    expect((await verdictOf(KEY_ID, PEM, DOC, SIG.slice(0, 63))).kind).toBe('invalid');
  });

  it('reads a residency policy as the intersection of its lists', () => {
    const fr = regions[0];
    const no = regions[1];
    expect(policyAllows({ jurisdictions: ['EU'], countries: [], regions: [] }, fr)).toBe(true);
    expect(policyAllows({ jurisdictions: ['EU'], countries: [], regions: [] }, no)).toBe(false);
    expect(policyAllows({ jurisdictions: ['EU', 'EEA'], countries: ['NO'], regions: [] }, no)).toBe(true);
    expect(policyAllows({ jurisdictions: ['EU', 'EEA'], countries: ['NO'], regions: [] }, fr)).toBe(false);
    expect(policyAllows({ regions: ['fr-par-1'] }, fr)).toBe(true);
  });

  it('groups resources by region and spreads the dots of one country apart', () => {
    const k = KINDS[0];
    const res = (region: string, country: string) => ({ kind: k, id: region, name: region, state: 'running', tenantId: null, residency: where(region, country, 'EU') });
    const places = placesOf([res('fr-par-1', 'FR'), res('fr-mrs-1', 'FR'), res('fr-par-1', 'FR')], []);
    expect(places.map((p) => [p.code, p.total, p.summary])).toEqual([
      ['fr-mrs-1', 1, '1 instance'],
      ['fr-par-1', 2, '2 instances'],
    ]);
    const dots = placeDots(places);
    expect(dots).toHaveLength(2);
    expect(dots[0].x !== dots[1].x || dots[0].y !== dots[1].y).toBe(true);
  });
});
