import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import Hosts from './Hosts';
import { operator, page, problem, renderPage, stubApi } from '../test/kit';

const REGIONS = [
  { code: 'fr-par-1', name: 'Paris 1', country: 'FR', jurisdiction: 'EU', datacenter: 'PA3', zones: ['a', 'b'] },
  { code: 'de-fra-1', name: 'Frankfurt 1', country: 'DE', jurisdiction: 'EU', datacenter: 'FR4', zones: ['z1'] },
];

const KVM1 = {
  id: 'h-1',
  name: 'kvm-1',
  region: 'fr-par-1',
  zone: 'a',
  libvirt_uri: 'qemu+tls://kvm-1/system',
  state: 'up',
  hypervisor: 'kvm',
  usage: { vcpus: 6, memory_mib: 4096, disk_gib: 40, gpus: 0 },
  capacity: { vcpus: 32, memory_mib: 16384, disk_gib: 400, gpus: 0 },
  down_since: null,
};
const TCG1 = {
  ...KVM1,
  id: 'h-2',
  name: 'tcg-1',
  state: 'maintenance',
  state_reason: 'set by an operator',
  hypervisor: 'qemu',
  hypervisor_reason: '/dev/kvm is not usable',
  down_since: '2026-12-07T10:00:00Z',
  usage: { vcpus: 1, memory_mib: 512, disk_gib: 5 },
  capacity: { vcpus: 4, memory_mib: 2048, disk_gib: 20 },
};

afterEach(() => vi.unstubAllGlobals());

function fill(label: string, value: string) {
  fireEvent.input(screen.getByLabelText(label), { target: { value } });
}

describe('Hosts', () => {
  it('lists hosts with state, KVM or TCG, region/zone, down_since and capacity bars', async () => {
    stubApi({ 'GET /v1/regions': page(REGIONS), 'GET /v1/hosts': page([KVM1, TCG1]) });
    renderPage(<Hosts />, operator());
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Hosts');
    const row = (await screen.findByRole('link', { name: 'kvm-1' })).closest('tr')!;
    expect(within(row).getByText('up')).toBeTruthy();
    expect(within(row).getByText('KVM')).toBeTruthy();
    expect(within(row).getByText('fr-par-1 / a')).toBeTruthy();
    const vcpu = within(row).getByRole('meter', { name: 'vCPU' });
    expect(vcpu.getAttribute('aria-valuenow')).toBe('6');
    expect(vcpu.getAttribute('aria-valuemax')).toBe('32');
    expect(within(row).getByText('Memory: 4 GiB of 16 GiB')).toBeTruthy();
    expect(within(row).getByText('Disk: 40 GiB of 400 GiB')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'kvm-1' }).getAttribute('href')).toBe('/console/operator/hosts/h-1');

    const tcg = screen.getByRole('link', { name: 'tcg-1' }).closest('tr')!;
    expect(within(tcg).getByText('TCG')).toBeTruthy();
    expect(within(tcg).getByText('maintenance')).toBeTruthy();
    expect(within(tcg).getByText(/Not answering since/)).toBeTruthy();
    /* A small host's memory stays in MiB. */
    expect(within(tcg).getByText('Memory: 512 MiB of 2048 MiB')).toBeTruthy();
  });

  it('filters by region and state through the API', async () => {
    const api = stubApi({ 'GET /v1/regions': page(REGIONS), 'GET /v1/hosts': page([KVM1]) });
    renderPage(<Hosts />, operator());
    await screen.findByRole('link', { name: 'kvm-1' });
    await screen.findByRole('option', { name: 'de-fra-1' });
    fireEvent.change(screen.getByRole('combobox', { name: 'Show hosts that are' }), { target: { value: 'maintenance' } });
    await waitFor(() => expect(api.made('GET', '/v1/hosts').some((c) => c.query.get('state') === 'maintenance')).toBe(true));
    fireEvent.change(screen.getByRole('combobox', { name: 'Show hosts in' }), { target: { value: 'de-fra-1' } });
    await waitFor(() =>
      expect(api.made('GET', '/v1/hosts').some((c) => c.query.get('region') === 'de-fra-1' && c.query.get('state') === 'maintenance')).toBe(
        true,
      ),
    );
  });

  it('adds a host and follows its registration to the end', async () => {
    let polls = 0;
    const api = stubApi({
      'GET /v1/regions': page(REGIONS),
      'GET /v1/hosts': page([KVM1]),
      'POST /v1/hosts': () =>
        new Response(
          JSON.stringify({
            host: { ...KVM1, id: 'h-9', name: 'kvm-9', state: 'discovering', hypervisor: '' },
            operation: { id: 'op-9', kind: 'host.register', state: 'queued', progress: 0 },
          }),
          { status: 202, headers: { 'Content-Type': 'application/json', Location: '/v1/operations/op-9' } },
        ),
      'GET /v1/operations/op-9': () => {
        polls++;
        return polls < 2
          ? { id: 'op-9', kind: 'host.register', state: 'running', progress: 50, step: 'opening qemu:///system' }
          : { id: 'op-9', kind: 'host.register', state: 'succeeded', progress: 100, step: 'up' };
      },
    });
    renderPage(<Hosts />, operator());
    await screen.findByRole('option', { name: 'de-fra-1' });
    fireEvent.click(screen.getByRole('button', { name: 'Add host' }));
    await screen.findByRole('option', { name: 'de-fra-1 (DE)' });
    const form = screen.getByRole('form', { name: 'Add a host' });
    fill('Name', 'kvm-9');
    fireEvent.change(within(form).getByLabelText('Region'), { target: { value: 'de-fra-1' } });
    expect((within(form).getByLabelText('Zone') as HTMLSelectElement).value).toBe('z1');
    fill('libvirt URI', 'qemu:///system');
    fill('CPU allocation ratio', '2.5');
    fireEvent.click(within(form).getByRole('button', { name: 'Add host' }));
    await waitFor(() => expect(api.made('POST', '/v1/hosts')).toHaveLength(1));
    expect(api.made('POST', '/v1/hosts')[0].body).toEqual({
      name: 'kvm-9',
      region: 'de-fra-1',
      zone: 'z1',
      libvirt_uri: 'qemu:///system',
      cpu_allocation_ratio: 2.5,
    });
    expect(await screen.findByRole('progressbar', { name: 'host.register progress' })).toBeTruthy();
    await screen.findByText('Host kvm-9 is registered.', {}, { timeout: 3000 });
    expect(screen.getByRole('link', { name: 'kvm-9' }).getAttribute('href')).toBe('/console/operator/hosts/h-9');
  });

  it('shows a refused URI next to its field', async () => {
    stubApi({
      'GET /v1/regions': page(REGIONS),
      'GET /v1/hosts': page([]),
      'POST /v1/hosts': problem(409, 'Conflict', "libvirt URI already registered as host 'kvm-1'", [
        { field: 'libvirt_uri', message: "already registered as host 'kvm-1'" },
      ]),
    });
    renderPage(<Hosts />, operator());
    await screen.findByText('No hosts yet: add one below.');
    await screen.findByRole('option', { name: 'fr-par-1' });
    fireEvent.click(screen.getByRole('button', { name: 'Add host' }));
    await screen.findByRole('option', { name: 'fr-par-1 (FR)' });
    const form = screen.getByRole('form', { name: 'Add a host' });
    fill('Name', 'kvm-2');
    fireEvent.change(within(form).getByLabelText('Region'), { target: { value: 'fr-par-1' } });
    fill('libvirt URI', 'qemu+tls://kvm-1/system');
    fireEvent.click(within(form).getByRole('button', { name: 'Add host' }));
    const uri = screen.getByLabelText('libvirt URI');
    await waitFor(() => expect(uri.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText("already registered as host 'kvm-1'")).toBeTruthy();
    expect(screen.getByText('Conflict')).toBeTruthy();
  });
});
