import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import HostDetail from './HostDetail';
import { operator, confirmIn, page, problem, renderPage, stubApi, type Answer } from '../test/kit';

const HOST = {
  id: 'h-1',
  name: 'kvm-1',
  region: 'fr-par-1',
  zone: 'a',
  libvirt_uri: 'qemu+tls://kvm-1/system',
  state: 'up',
  state_reason: '',
  hypervisor: 'qemu',
  hypervisor_reason: '/dev/kvm is missing',
  cpu_model: 'EPYC',
  cpus: 16,
  memory_mib: 65536,
  storage_gib: 900,
  storage_pool: 'default',
  cpu_allocation_ratio: 4,
  ram_allocation_ratio: 1,
  machine: { id: 'uuid:aaaa' },
  machine_seen: null,
  usage: { vcpus: 4, memory_mib: 2048, disk_gib: 20 },
  capacity: { vcpus: 64, memory_mib: 65536, disk_gib: 900 },
  down_since: null,
  updated_at: '2026-12-07T10:00:00Z',
};

const INSTANCES = [
  { id: 'i-1', name: 'web-1', state: 'running', tenant_id: 't-a', vcpus: 2, memory_mib: 1024, host: { id: 'h-1', name: 'kvm-1' } },
  { id: 'i-2', name: 'elsewhere', state: 'running', tenant_id: 't-b', vcpus: 1, memory_mib: 512, host: { id: 'h-2', name: 'kvm-2' } },
];

afterEach(() => vi.unstubAllGlobals());

function stub(extra: Record<string, Answer> = {}, host: Record<string, unknown> = HOST) {
  return stubApi({
    'GET /v1/hosts/h-1': host,
    'GET /v1/operations': page([]),
    'GET /v1/instances': page(INSTANCES),
    ...extra,
  });
}

describe('HostDetail', () => {
  it('shows what discovery found, capacity and the instances on the host only', async () => {
    const api = stub();
    renderPage(<HostDetail id="h-1" />, operator());
    expect(await screen.findByRole('heading', { level: 1, name: 'Host kvm-1' })).toBeTruthy();
    expect(screen.getByText('TCG')).toBeTruthy();
    expect(screen.getByText('(/dev/kvm is missing)')).toBeTruthy();
    expect(screen.getByText('qemu+tls://kvm-1/system')).toBeTruthy();
    expect(screen.getByRole('meter', { name: 'vCPU' }).getAttribute('aria-valuenow')).toBe('4');
    expect(await screen.findByRole('link', { name: 'web-1' })).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'elsewhere' })).toBeNull();
    expect(api.made('GET', '/v1/instances')[0].query.get('region')).toBe('fr-par-1');
    expect(api.made('GET', '/v1/operations')[0].query.get('resource_id')).toBe('h-1');
  });

  it('answers Not found for a host that does not exist', async () => {
    stubApi({ 'GET /v1/hosts/nope': problem(404, 'Not found'), 'GET /v1/operations': page([]) });
    renderPage(<HostDetail id="nope" />, operator());
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Not found'));
  });

  it('puts the host in maintenance after confirmation, and ends it', async () => {
    let state = 'up';
    const api = stub({
      'GET /v1/hosts/h-1': () => ({ ...HOST, state }),
      'PATCH /v1/hosts/h-1': (c) => {
        state = (c.body as { state: string }).state;
        return { ...HOST, state };
      },
    });
    renderPage(<HostDetail id="h-1" />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Put in maintenance' }));
    confirmIn(screen.getByRole('dialog', { name: 'Put in maintenance' }), 'Put in maintenance');
    await waitFor(() => expect(api.made('PATCH', '/v1/hosts/h-1')[0]?.body).toEqual({ state: 'maintenance' }));
    fireEvent.click(await screen.findByRole('button', { name: 'End maintenance' }));
    await waitFor(() => expect(api.made('PATCH', '/v1/hosts/h-1')[1]?.body).toEqual({ state: 'up' }));
    await screen.findByRole('button', { name: 'Put in maintenance' });
  });

  it('evacuates, follows the operation and shows what moved, stayed and failed', async () => {
    let polls = 0;
    const api = stub({
      'POST /v1/hosts/h-1/evacuate': () =>
        new Response(
          JSON.stringify({ host: { ...HOST, state: 'maintenance' }, operation: { id: 'op-e', kind: 'host.evacuate', state: 'queued' } }),
          { status: 202, headers: { 'Content-Type': 'application/json' } },
        ),
      'GET /v1/operations/op-e': () =>
        ++polls < 2
          ? { id: 'op-e', kind: 'host.evacuate', state: 'running', progress: 40, step: 'migrating web-1' }
          : {
              id: 'op-e',
              kind: 'host.evacuate',
              state: 'succeeded',
              progress: 100,
              result: {
                host_id: 'h-1',
                moved: [{ instance_id: 'i-1', tenant_id: 't-a', operation_id: 'op-m', live: true }],
                stayed: [{ instance_id: 'i-3', tenant_id: 't-a', state: 'running', reason: 'no room inside its residency policy' }],
                failed: [{ instance_id: 'i-4', tenant_id: 't-b', operation_id: 'op-f', error: { code: 'unavailable', message: 'migration failed' } }],
                waited: [],
              },
            },
    });
    renderPage(<HostDetail id="h-1" />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Evacuate' }));
    confirmIn(screen.getByRole('dialog', { name: 'Evacuate' }), 'Evacuate');
    expect(await screen.findByRole('progressbar', { name: 'host.evacuate progress' })).toBeTruthy();
    expect(api.made('POST', '/v1/hosts/h-1/evacuate')).toHaveLength(1);
    const result = await screen.findByRole('region', { name: 'Evacuation result' }, { timeout: 3000 });
    expect(result.textContent).toContain('1 moved, 1 stayed, 1 failed');
    expect(within(result).getByRole('link', { name: 'i-1' }).getAttribute('href')).toBe('/console/instances/i-1');
    expect(result.textContent).toContain('live migration');
    expect(result.textContent).toContain('no room inside its residency policy');
    expect(result.textContent).toContain('unavailable: migration failed');
  });

  it('follows an evacuation already running when the page opens', async () => {
    stub({
      'GET /v1/operations': page([{ id: 'op-r', kind: 'host.evacuate', state: 'running', progress: 10 }]),
      'GET /v1/operations/op-r': { id: 'op-r', kind: 'host.evacuate', state: 'running', progress: 30, step: 'migrating' },
    });
    renderPage(<HostDetail id="h-1" />, operator());
    const bar = await screen.findByRole('progressbar', { name: 'host.evacuate progress' });
    await waitFor(() => expect(bar.getAttribute('value')).toBe('30'));
    expect((screen.getByRole('button', { name: 'Evacuate' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('shows a refused evacuation as a problem', async () => {
    stub({ 'POST /v1/hosts/h-1/evacuate': problem(409, 'Conflict', 'host kvm-1 is down') });
    renderPage(<HostDetail id="h-1" />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Evacuate' }));
    confirmIn(screen.getByRole('dialog', { name: 'Evacuate' }), 'Evacuate');
    await screen.findByText('host kvm-1 is down');
  });

  it('saves allocation ratios', async () => {
    const api = stub({ 'PATCH /v1/hosts/h-1': { ...HOST, cpu_allocation_ratio: 2 } });
    renderPage(<HostDetail id="h-1" />, operator());
    const cpu = await screen.findByLabelText('CPU allocation ratio');
    fireEvent.input(cpu, { target: { value: '2' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save ratios' }));
    await waitFor(() => expect(api.made('PATCH', '/v1/hosts/h-1')[0]?.body).toEqual({ cpu_allocation_ratio: 2, ram_allocation_ratio: 1 }));
    await screen.findByText('Saved.');
  });

  it('offers to accept a different machine found at the URI', async () => {
    const api = stub({ 'POST /v1/hosts/h-1/confirm-machine': { ...HOST, machine_seen: null } }, {
      ...HOST,
      state: 'down',
      machine_seen: { id: 'uuid:bbbb' },
    });
    renderPage(<HostDetail id="h-1" />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Accept the new machine' }));
    confirmIn(screen.getByRole('dialog', { name: 'Accept the new machine' }), 'Accept');
    await waitFor(() => expect(api.made('POST', '/v1/hosts/h-1/confirm-machine')).toHaveLength(1));
  });

  it('deletes the host and goes back to the list', async () => {
    const api = stub({ 'DELETE /v1/hosts/h-1': () => new Response(null, { status: 204 }) });
    renderPage(<HostDetail id="h-1" />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Delete host' }));
    confirmIn(screen.getByRole('dialog', { name: 'Delete host' }), 'Delete');
    await waitFor(() => expect(window.location.pathname).toBe('/console/operator/hosts'));
    expect(api.made('DELETE', '/v1/hosts/h-1')).toHaveLength(1);
  });
});
