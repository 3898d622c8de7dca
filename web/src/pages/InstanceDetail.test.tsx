import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import InstanceDetail from './InstanceDetail';
import { AtRoute, page, problem, session, stubApi, TENANT, type Call } from '../test/kit';

vi.mock('../components/SerialConsole', () => ({
  default: ({ instanceId }: { instanceId: string }) => <p data-testid="terminal">terminal of {instanceId}</p>,
}));

const ID = '33333333-3333-4333-8333-333333333333';
const base = `/v1/instances/${ID}`;

function instance(over: Record<string, unknown> = {}) {
  return {
    id: ID,
    tenant_id: TENANT,
    workspace: 'default',
    name: 'web-1',
    flavor_id: 'f1',
    image_id: 'img1',
    vcpus: 1,
    memory_mib: 512,
    disk_gib: 10,
    gpus: 0,
    region: 'fr-par-1',
    zone: 'a',
    state: 'running',
    state_reason: '',
    addresses: ['10.0.0.5'],
    host: { id: 'h1', name: 'node-1' },
    residency: { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU', datacenter: 'Paris 1', host: 'node-1', since: '2026-01-01T10:00:00Z' },
    nics: [{ port: 'p1', network: 'n1aaaaaaaa', subnet: 's1', ip: '10.0.0.5', mac: '52:54:00:00:00:01', up: true, public_ip: '198.51.100.7' }],
    volumes: [{ id: 'v1', name: 'data', device: 'vdc', boot: false }],
    operation_id: 'op-create',
    created_at: '2026-01-01T10:00:00Z',
    ...over,
  };
}

function routes(extra: Record<string, unknown> = {}) {
  return {
    [`GET ${base}`]: instance(),
    'GET /v1/flavors/f1': { id: 'f1', name: 'small' },
    'GET /v1/images/img1': { id: 'img1', name: 'debian', region: 'fr-par-1' },
    [`GET ${base}/residency`]: page([
      { seq: 1, at: '2026-01-01T10:00:00Z', event: 'placed', from: null, to: { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU', host: 'node-0' }, policy: { jurisdictions: ['EU'] }, reason: 'instance created' },
      { seq: 2, at: '2026-01-02T10:00:00Z', event: 'moved', from: { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU', host: 'node-0' }, to: { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU', host: 'node-1' }, policy: { jurisdictions: ['EU'] }, reason: 'live migration' },
    ]),
    [`GET ${base}/migrations`]: page([
      { id: 'm1', instance_id: ID, operation_id: 'op-m1', live: true, source: 'node-0', target: 'node-1', state: 'succeeded', reason: null, progress: {}, downtime_ms: 42, created_at: '2026-01-02T10:00:00Z', updated_at: '2026-01-02T10:00:00Z', finished_at: '2026-01-02T10:01:00Z' },
    ]),
    'GET /v1/hosts': page([
      { id: 'h1', name: 'node-1', region: 'fr-par-1', zone: 'a', hypervisor: 'kvm', state: 'up' },
      { id: 'h2', name: 'node-2', region: 'fr-par-1', zone: 'b', hypervisor: 'qemu', state: 'up' },
    ]),
    ...extra,
  };
}

const at = (s = session()) => <AtRoute url={`/console/instances/${ID}`} path="/console/instances/:id" component={InstanceDetail} s={s} />;

afterEach(() => vi.unstubAllGlobals());

/** Open a ConfirmButton's dialog and confirm it. */
async function confirm(label: string) {
  fireEvent.click(screen.getByRole('button', { name: label }));
  const dialog = screen.getByRole('dialog', { name: label });
  expect((dialog as HTMLDialogElement).open).toBe(true);
  const buttons = within(dialog).getAllByRole('button');
  fireEvent.click(buttons[0]);
}

describe('InstanceDetail', () => {
  it('answers Not found for an instance the caller may not see (another tenant’s)', async () => {
    stubApi({ [`GET ${base}`]: problem(404, 'Not found', `instance '${ID}' does not exist`) });
    render(at());
    expect(await screen.findByRole('heading', { level: 1, name: 'Not found' })).toBeTruthy();
  });

  it('shows the instance under its name: state, flavor, image, place, NICs and volumes', async () => {
    stubApi(routes());
    render(at());
    expect(await screen.findByRole('heading', { level: 1, name: 'web-1' })).toBeTruthy();
    expect(screen.getAllByText('running')[0].className).toContain('badge');
    await screen.findByText(/small: 1 vCPU, 512 MiB, 10 GiB/);
    expect(await screen.findByText('debian (fr-par-1)')).toBeTruthy();
    expect(screen.getByText('fr-par-1 / a')).toBeTruthy();
    expect(screen.getByText(/FR \(EU\), Paris 1 since/)).toBeTruthy();
    const nics = screen.getByRole('table', { name: 'Network interfaces' });
    expect(within(nics).getByText('198.51.100.7')).toBeTruthy();
    expect(within(screen.getByRole('table', { name: 'Volumes' })).getByRole('link', { name: 'data' }).getAttribute('href')).toBe('/console/volumes/v1');
  });

  it('updates the state live while a worker is on it, following its operation', async () => {
    let n = 0;
    stubApi(
      routes({
        [`GET ${base}`]: () => (++n < 3 ? instance({ state: 'building', operation_id: 'op-create' }) : instance()),
        'GET /v1/operations/op-create': { id: 'op-create', kind: 'instance.create', state: 'running', progress: 60, step: 'starting the domain' },
      }),
    );
    render(at());
    const badge = () => (screen.getByRole('heading', { level: 1 }).nextElementSibling as HTMLElement).textContent;
    await waitFor(() => expect(badge()).toBe('building'));
    expect(await screen.findByRole('progressbar', { name: 'instance.create progress' })).toBeTruthy();
    await waitFor(() => expect(badge()).toBe('running'), { timeout: 4000 });
    // Built: the page no longer follows the create.
    expect(screen.queryByRole('progressbar', { name: 'instance.create progress' })).toBeNull();
  });

  it('stops after confirmation, with an Idempotency-Key, and shows the operation’s progress', async () => {
    const calls = stubApi(
      routes({
        [`POST ${base}/actions`]: { status: 202, body: { instance: instance(), operation: { id: 'op-stop' } } },
        'GET /v1/operations/op-stop': { id: 'op-stop', kind: 'instance.action', state: 'running', progress: 50, step: 'waiting for the guest to power off' },
      }),
    );
    render(at());
    await screen.findByRole('heading', { level: 1, name: 'web-1' });
    expect(screen.queryByRole('button', { name: 'Start' })).toBeNull();
    await confirm('Stop');
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    const post = calls.find((c) => c.method === 'POST') as Call;
    expect(post.path).toBe(`${base}/actions`);
    expect(post.body).toEqual({ action: 'stop' });
    expect(post.headers['Idempotency-Key']).toBeTruthy();
    const bar = await screen.findByRole('progressbar', { name: 'instance.action progress' });
    expect(bar.getAttribute('value')).toBe('50');
    expect(screen.getByText(/waiting for the guest to power off/)).toBeTruthy();
  });

  it('does nothing when the dialog is cancelled, and shows a refused action as a problem', async () => {
    const calls = stubApi(
      routes({
        [`GET ${base}`]: instance({ state: 'stopped', addresses: [] }),
        [`POST ${base}/actions`]: problem(409, 'Conflict', "instance 'web-1' has an operation in progress (instance.action)"),
        [`DELETE ${base}`]: { status: 202, body: { instance: instance({ state: 'deleting' }), operation: { id: 'op-del' } } },
        'GET /v1/operations/op-del': { id: 'op-del', kind: 'instance.delete', state: 'queued', progress: 0 },
      }),
    );
    render(at());
    await screen.findByRole('heading', { level: 1, name: 'web-1' });
    expect(screen.queryByRole('button', { name: 'Stop' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Delete' })).getByRole('button', { name: 'Cancel' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await confirm('Start');
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('has an operation in progress'));
    await confirm('Delete');
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.path === base)).toBe(true));
    expect(await screen.findByRole('progressbar', { name: 'instance.delete progress' })).toBeTruthy();
  });

  it('draws the residency history as a timeline and lists migrations', async () => {
    stubApi(routes());
    render(at());
    const tl = await screen.findByRole('list', { name: 'Residency history of web-1' });
    const items = within(tl).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain('placed in fr-par-1 (FR, EU, host node-0)');
    expect(items[1].textContent).toContain('moved from fr-par-1 (FR, EU, host node-0) to fr-par-1 (FR, EU, host node-1)');
    expect(items[1].textContent).toContain('live migration');
    expect(items[1].textContent).toContain('Policy then: jurisdictions EU');
    const migs = await screen.findByRole('table', { name: 'Migrations' });
    expect(within(migs).getByText('node-0 → node-1')).toBeTruthy();
    expect(within(migs).getByText(/42 ms paused/)).toBeTruthy();
  });

  it('shows a running migration’s progress', async () => {
    stubApi(
      routes({
        [`GET ${base}`]: instance({ state: 'migrating', operation_id: null }),
        [`GET ${base}/migrations`]: page([
          { id: 'm2', instance_id: ID, operation_id: 'op-m2', live: true, source: 'node-1', target: 'node-2', state: 'copying', reason: null, progress: { data_total: 4 * 1048576, data_processed: 1048576, disk_total: null, disk_processed: null }, downtime_ms: null, created_at: '2026-01-03T10:00:00Z', updated_at: '2026-01-03T10:00:00Z', finished_at: null },
        ]),
      }),
    );
    render(at());
    const bar = await screen.findByRole('progressbar', { name: 'Migration to node-2' });
    expect(bar.getAttribute('value')).toBe('25');
    expect(screen.getByText(/1 MiB of\s+4 MiB/)).toBeTruthy();
  });

  it('lets operators migrate, live to a chosen host; members get no Migrate button', async () => {
    const calls = stubApi(routes({ [`POST ${base}/actions`]: { status: 202, body: { instance: instance({ state: 'migrating' }), operation: { id: 'op-mig' } } } }));
    const { unmount } = render(at());
    await screen.findByRole('heading', { level: 1, name: 'web-1' });
    expect(screen.queryByRole('button', { name: 'Migrate' })).toBeNull();
    unmount();
    render(at(session('operator', { operator: true, tenantId: 'op-tenant' })));
    await screen.findByRole('heading', { level: 1, name: 'web-1' });
    // Operators see whose instance it is.
    expect(screen.getByRole('link', { name: TENANT.slice(0, 8) }).getAttribute('href')).toBe(`/console/operator/tenants/${TENANT}`);
    const host = (await screen.findByRole('option', { name: /node-2/ })).closest('select') as HTMLSelectElement;
    expect(within(host).queryByRole('option', { name: /node-1/ })).toBeNull();
    fireEvent.change(screen.getByLabelText('Target host'), { target: { value: 'node-2' } });
    expect((screen.getByLabelText(/^Live/) as HTMLInputElement).checked).toBe(true);
    await confirm('Migrate');
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ action: 'migrate', live: true, host: 'node-2' });
  });

  it('opens the interactive serial console for a writer of a running instance, lazily', async () => {
    stubApi(routes());
    render(at());
    expect(await screen.findByRole('heading', { name: 'Serial console' })).toBeTruthy();
    expect(screen.queryByTestId('terminal')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Open console' }));
    expect((await screen.findByTestId('terminal')).textContent).toBe(`terminal of ${ID}`);
    fireEvent.click(screen.getByRole('button', { name: 'Close console' }));
    expect(screen.queryByTestId('terminal')).toBeNull();
  });

  it('gives readers the read-only log instead', async () => {
    const calls = stubApi(routes({ [`GET ${base}/console`]: { status: 200, text: 'login: hello-console\n' } }));
    render(at(session('reader')));
    await screen.findByRole('heading', { name: 'Serial console' });
    expect(screen.queryByRole('button', { name: 'Open console' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Stop' })).toBeNull();
    expect(screen.getByText(/may read the console's log, not type into it/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Show log' }));
    const log = await screen.findByLabelText('Console log');
    expect(log.textContent).toBe('login: hello-console\n');
    expect(calls.find((c) => c.path === `${base}/console`)?.query.get('tail_bytes')).toBe('65536');
    expect(screen.getByRole('button', { name: 'Refresh log' })).toBeTruthy();
  });

  it('offers no interactive console for a stopped instance, and shows a log error', async () => {
    stubApi(routes({ [`GET ${base}`]: instance({ state: 'stopped' }), [`GET ${base}/console`]: problem(503, 'Service unavailable', 'the host did not answer in time') }));
    render(at());
    await screen.findByRole('heading', { name: 'Serial console' });
    expect(screen.queryByRole('button', { name: 'Open console' })).toBeNull();
    expect(screen.getByText(/needs a running instance \(this one is stopped\)/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Show log' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('did not answer in time'));
  });
});
