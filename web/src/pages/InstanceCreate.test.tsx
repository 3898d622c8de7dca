import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import InstanceCreate, { sshKeyList } from './InstanceCreate';
import { regionVerdict } from '../lib/regions';
import { AtRoute, page, problem, session, stubApi, TENANT, type Call } from '../test/kit';

const IID = '22222222-2222-4222-8222-222222222222';

function routes(extra: Record<string, unknown> = {}) {
  return {
    [`GET /v1/tenants/${TENANT}/workspaces`]: page([{ name: 'default' }, { name: 'web' }]),
    [`GET /v1/tenants/${TENANT}/residency-policy`]: { jurisdictions: ['EU'] },
    'GET /v1/flavors': page([
      { id: 'f-small', name: 'small', vcpus: 1, memory_mib: 512, disk_gib: 10, gpus: 0 },
      { id: 'f-gpu', name: 'gpu', vcpus: 8, memory_mib: 32768, disk_gib: 100, gpus: 1 },
    ]),
    'GET /v1/regions': page([
      { code: 'fr-par-1', country: 'FR', jurisdiction: 'EU', datacenter: 'Paris 1', zones: ['a', 'b'] },
      { code: 'de-fra-1', country: 'DE', jurisdiction: 'EU', datacenter: 'Frankfurt', zones: ['x'] },
      { code: 'ch-zrh-1', country: 'CH', jurisdiction: 'OTHER', datacenter: 'Zurich', zones: ['z'] },
    ]),
    'GET /v1/images': (r: Call) =>
      page(
        r.query.get('workspace') === 'default'
          ? [
              { id: 'img-fr', name: 'debian', region: 'fr-par-1', state: 'active' },
              { id: 'img-de', name: 'alpine', region: 'de-fra-1', state: 'active' },
              { id: 'img-q', name: 'queued-one', region: 'fr-par-1', state: 'queued' },
            ]
          : [],
      ),
    'GET /v1/subnets': page([{ id: 'sn1', name: 'front', cidr: '10.1.0.0/24', network: { id: 'n1', name: 'prod' } }]),
    'GET /v1/ports': page([{ id: 'p1', name: 'fixed', ip: '10.1.0.9', state: 'available' }]),
    'GET /v1/volumes': page([
      { id: 'v1', name: 'data', size_gib: 20, type: 'standard', region: 'fr-par-1', state: 'available', attachments: [] },
    ]),
    ...extra,
  };
}

const at = (s = session()) => <AtRoute url="/console/instances/new" path="/console/instances/new" component={InstanceCreate} s={s} />;

async function ready() {
  await screen.findByRole('option', { name: /small: 1 vCPU, 512 MiB, 10 GiB/ });
  await screen.findByRole('option', { name: /^fr-par-1 \(FR/ });
  await screen.findByRole('option', { name: 'debian (fr-par-1)' });
}

afterEach(() => vi.unstubAllGlobals());

describe('regionVerdict', () => {
  it('intersects the lists given and says why a region is out', () => {
    const r = { code: 'ch-zrh-1', country: 'CH', jurisdiction: 'OTHER' as const };
    expect(regionVerdict({ jurisdictions: ['EU'] }, r).reasons[0]).toContain('jurisdiction OTHER');
    expect(regionVerdict({ jurisdictions: ['EU', 'OTHER'], countries: ['FR'] }, r).reasons[0]).toContain('country CH');
    expect(regionVerdict({ jurisdictions: [], regions: ['ch-zrh-1'] }, r).allowed).toBe(true);
    expect(regionVerdict({ regions: ['fr-par-1'] }, r).allowed).toBe(false);
  });
});

describe('InstanceCreate', () => {
  it('offers only the regions the residency policy allows, and says why the others are not', async () => {
    stubApi(routes());
    render(at());
    await ready();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Create an instance');
    expect(screen.getByText('jurisdictions EU')).toBeTruthy();
    const region = screen.getByLabelText('Region') as HTMLSelectElement;
    const opt = (name: RegExp) => within(region).getByRole('option', { name }) as HTMLOptionElement;
    expect(opt(/fr-par-1/).disabled).toBe(false);
    expect(opt(/de-fra-1/).disabled).toBe(false);
    expect(opt(/ch-zrh-1/).disabled).toBe(true);
    expect(opt(/ch-zrh-1/).textContent).toContain('outside the policy');
    const table = screen.getByRole('table', { name: 'Places and the residency policy' });
    const ch = within(table).getByText('ch-zrh-1').closest('tr') as HTMLElement;
    expect(ch.textContent).toContain('Not allowed: its jurisdiction OTHER is not one the policy allows (EU)');
    expect((within(table).getByText('fr-par-1').closest('tr') as HTMLElement).textContent).toContain('Allowed');
    // Zones follow the region.
    expect((screen.getByLabelText('Zone') as HTMLSelectElement).disabled).toBe(true);
    fireEvent.change(region, { target: { value: 'fr-par-1' } });
    const zone = screen.getByLabelText('Zone') as HTMLSelectElement;
    expect(zone.disabled).toBe(false);
    expect(within(zone).getAllByRole('option').map((o) => o.textContent)).toEqual(['Any zone', 'a', 'b']);
  });

  it('lists only active images and limits the region to the chosen image’s', async () => {
    stubApi(routes());
    render(at());
    await ready();
    expect(screen.queryByRole('option', { name: /queued-one/ })).toBeNull();
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'img-de' } });
    const region = screen.getByLabelText('Region') as HTMLSelectElement;
    expect((within(region).getByRole('option', { name: /fr-par-1/ }) as HTMLOptionElement).disabled).toBe(true);
    expect((within(region).getByRole('option', { name: /de-fra-1/ }) as HTMLOptionElement).disabled).toBe(false);
    expect(screen.getByText('The instance is placed where its image is: de-fra-1.')).toBeTruthy();
  });

  it('creates the instance with an Idempotency-Key, follows the operation and opens its page', async () => {
    const calls = stubApi(
      routes({
        'POST /v1/instances': {
          status: 202,
          body: { instance: { id: IID, name: 'web-1', state: 'scheduling' }, operation: { id: 'op-1', kind: 'instance.create', state: 'queued' } },
        },
        'GET /v1/operations/op-1': { id: 'op-1', kind: 'instance.create', state: 'succeeded', progress: 100 },
      }),
    );
    render(at());
    await ready();
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'web-1' } });
    fireEvent.change(screen.getByLabelText('Flavor'), { target: { value: 'f-small' } });
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'img-fr' } });
    fireEvent.change(screen.getByLabelText('Region'), { target: { value: 'fr-par-1' } });
    fireEvent.change(screen.getByLabelText('Zone'), { target: { value: 'b' } });
    fireEvent.click(screen.getByRole('button', { name: 'Choose network interfaces' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Add network interface' }));
    fireEvent.input(screen.getByLabelText('IP address of eth0 (optional)'), { target: { value: '10.1.0.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add network interface' }));
    fireEvent.change(screen.getByLabelText('Interface eth1'), { target: { value: 'port:p1' } });
    fireEvent.click(screen.getByLabelText(/data \(20 GiB/));
    fireEvent.input(screen.getByLabelText('User data'), { target: { value: '#cloud-config\n' } });
    fireEvent.input(screen.getByLabelText('SSH public keys'), { target: { value: 'ssh-ed25519 AAAA a@b\n\n ssh-rsa BBBB c@d \n' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create instance' }));

    await screen.findByRole('heading', { name: 'Creating web-1' });
    const post = calls.find((c) => c.method === 'POST') as Call;
    expect(post.headers['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(post.body).toEqual({
      name: 'web-1',
      flavor: 'f-small',
      workspace: 'default',
      image: 'img-fr',
      region: 'fr-par-1',
      zone: 'b',
      user_data: '#cloud-config\n',
      ssh_keys: ['ssh-ed25519 AAAA a@b', 'ssh-rsa BBBB c@d'],
      volumes: ['v1'],
      nics: [{ subnet: 'sn1', ip: '10.1.0.5' }, { port: 'p1' }],
    });
    await waitFor(() => expect(location.pathname).toBe(`/console/instances/${IID}`));
  });

  it('shows each field error next to its field, marked invalid, and the problem above the button', async () => {
    stubApi(
      routes({
        'POST /v1/instances': problem(400, 'Invalid request', 'the request has 3 errors', [
          { field: 'name', message: 'name must be lowercase letters, digits and dashes' },
          { field: 'nics[0].subnet', message: 'no subnet sn1 in workspace default' },
          { field: 'ssh_keys', message: 'ssh_keys holds a private key' },
        ]),
      }),
    );
    render(at());
    await ready();
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'Web' } });
    fireEvent.change(screen.getByLabelText('Flavor'), { target: { value: 'f-small' } });
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'img-fr' } });
    fireEvent.click(screen.getByRole('button', { name: 'Choose network interfaces' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Add network interface' }));
    fireEvent.submit(screen.getByRole('button', { name: 'Create instance' }).closest('form') as HTMLFormElement);

    const name = screen.getByLabelText('Name');
    await waitFor(() => expect(name.getAttribute('aria-invalid')).toBe('true'));
    await waitFor(() => expect(document.activeElement).toBe(name));
    expect(document.getElementById('err-name')?.textContent).toBe('name must be lowercase letters, digits and dashes');
    expect(name.getAttribute('aria-describedby')).toContain('err-name');
    expect(screen.getByLabelText('Interface eth0').getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById('err-nic-0')?.textContent).toContain('no subnet sn1');
    expect(screen.getByLabelText('SSH public keys').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText('Flavor').getAttribute('aria-invalid')).toBeNull();
    const problemBox = screen.getAllByRole('alert').find((a) => a.classList.contains('problem')) as HTMLElement;
    expect(problemBox.textContent).toContain('Invalid request');
    // Shown next to their fields, not listed again in the problem.
    expect(within(problemBox).queryByText('name')).toBeNull();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Create an instance');
  });

  it('stays on the page with the reason when the build fails', async () => {
    stubApi(
      routes({
        'POST /v1/instances': { status: 202, body: { instance: { id: IID, name: 'web-1', state: 'scheduling' }, operation: { id: 'op-2' } } },
        'GET /v1/operations/op-2': { id: 'op-2', kind: 'instance.create', state: 'failed', progress: 30, error: { code: 'unavailable', message: 'host down' } },
      }),
    );
    render(at());
    await ready();
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'web-1' } });
    fireEvent.change(screen.getByLabelText('Flavor'), { target: { value: 'f-small' } });
    fireEvent.submit(screen.getByRole('button', { name: 'Create instance' }).closest('form') as HTMLFormElement);
    expect(await screen.findByText(/could not be built: host down/)).toBeTruthy();
    expect(location.pathname).toBe('/console/instances/new');
    expect(screen.getByRole('link', { name: "Open the instance's page" }).getAttribute('href')).toBe(`/console/instances/${IID}`);
  });

  it('reloads images for another workspace, and tells readers they may not create', async () => {
    const calls = stubApi(routes());
    const { unmount } = render(at());
    await ready();
    fireEvent.change(screen.getByLabelText('Workspace'), { target: { value: 'web' } });
    await waitFor(() => expect(calls.some((c) => c.path === '/v1/images' && c.query.get('workspace') === 'web')).toBe(true));
    expect(await screen.findByText('No active image in workspace web: upload one under Images.')).toBeTruthy();
    unmount();
    render(at(session('reader')));
    expect(screen.getByText(/may look but not create/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Create instance' })).toBeNull();
  });

  it('lists only their own tenant’s images, subnets, ports and volumes to an operator', async () => {
    const calls = stubApi(routes());
    render(at(session('operator', { operator: true })));
    await ready();
    fireEvent.click(screen.getByRole('button', { name: 'Choose network interfaces' }));
    for (const path of ['/v1/images', '/v1/subnets', '/v1/ports', '/v1/volumes'])
      await waitFor(() => expect(calls.find((c) => c.path === path)?.query.get('tenant_id')).toBe(TENANT));
  });

  it('asks for subnets and ports only when NICs are chosen, and shows why they cannot be', async () => {
    const calls = stubApi(routes({ 'GET /v1/subnets': problem(503, 'Service unavailable', 'tenant networks need OVN (ovn_nb)') }));
    render(at());
    await ready();
    expect(screen.getByText(/None chosen: one interface on the workspace’s default subnet/)).toBeTruthy();
    expect(calls.some((c) => c.path === '/v1/subnets' || c.path === '/v1/ports')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Choose network interfaces' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('tenant networks need OVN'));
    expect(screen.queryByRole('button', { name: 'Add network interface' })).toBeNull();
  });

  it('reads SSH keys one a line', () => {
    expect(sshKeyList(' a \n\nb\n')).toEqual(['a', 'b']);
  });
});
