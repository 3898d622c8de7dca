import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import NetworkDetail from './NetworkDetail';
import { stubApi, operation, page, problem, renderAs, writes } from '../test/kit';

const ID = 'aaaaaaaa-0000-0000-0000-000000000001';
const NET = {
  id: ID,
  name: 'web',
  cidr: '10.0.0.0/16',
  region: 'fr-par-1',
  workspace: 'default',
  state: 'available',
  router: 'r0000000-0000-0000-0000-000000000001',
  residency: { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU', datacenter: 'PAR1', host: null, since: '2026-12-01T10:00:00Z' },
};
const SUBNET = {
  id: 'bbbbbbbb-0000-0000-0000-000000000001',
  name: 'front',
  cidr: '10.0.1.0/24',
  gateway: '10.0.1.1',
  zone: null,
  dns_servers: ['9.9.9.9'],
  addresses_total: 253,
  addresses_used: 2,
  network: { id: ID, name: 'web' },
  state: 'available',
};
const SG1 = { id: 'cccccccc-0000-0000-0000-000000000001', name: 'default', is_default: true, state: 'available', rules: [] };
const SG2 = { id: 'cccccccc-0000-0000-0000-000000000002', name: 'ssh', is_default: false, state: 'available', rules: [] };
const PORT = {
  id: 'eeeeeeee-0000-0000-0000-000000000001',
  name: 'web-1-eth0',
  ip: '10.0.1.5',
  mac: '52:54:00:00:00:01',
  network: { id: ID, name: 'web' },
  subnet: { id: SUBNET.id, name: 'front' },
  instance: { id: 'ffffffff-0000-0000-0000-000000000001', name: 'web-1' },
  up: true,
  security_groups: [SG1.id],
  public_ip: '192.0.2.10',
  state: 'in-use',
};
const FREE_PORT = { ...PORT, id: 'eeeeeeee-0000-0000-0000-000000000002', name: 'spare', ip: '10.0.1.9', instance: null, public_ip: null, state: 'available' };
const INSTANCES = [
  { id: 'ffffffff-0000-0000-0000-000000000002', name: 'db-1', region: 'fr-par-1', state: 'running' },
  { id: 'ffffffff-0000-0000-0000-000000000003', name: 'far-1', region: 'de-fra-1', state: 'running' },
];
const ROUTER = { id: NET.router, name: 'web-router', network: { id: ID, name: 'web' }, region: 'fr-par-1', snat: true, external_ip: '192.0.2.2', state: 'available' };
const IP = { id: '99999999-0000-0000-0000-000000000001', name: 'web-ip', address: '192.0.2.10', region: 'fr-par-1', state: 'in-use', port: { id: PORT.id, ip: PORT.ip }, residency: null };
const OTHER_IP = { ...IP, id: '99999999-0000-0000-0000-000000000002', address: '192.0.2.99', port: { id: 'elsewhere', ip: '10.9.0.3' } };
const FREE_IP = { ...IP, id: '99999999-0000-0000-0000-000000000003', address: '192.0.2.50', state: 'available', port: null };
const FAR_IP = { ...FREE_IP, id: '99999999-0000-0000-0000-000000000004', address: '198.51.100.7', region: 'de-fra-1' };
const RECORDS = [
  { seq: 1, at: '2026-12-01T10:00:00Z', event: 'placed', from: null, to: { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU' }, reason: 'network.create' },
];

function routes(extra = {}) {
  return {
    [`GET /v1/networks/${ID}`]: { body: NET },
    'GET /v1/subnets': page([SUBNET]),
    'GET /v1/ports': page([PORT, FREE_PORT]),
    'GET /v1/instances': page(INSTANCES),
    [`GET /v1/routers/${NET.router}`]: { body: ROUTER },
    'GET /v1/security-groups': page([SG1, SG2]),
    'GET /v1/public-ips': page([IP, OTHER_IP, FREE_IP, FAR_IP]),
    [`GET /v1/networks/${ID}/residency`]: page(RECORDS),
    'GET /v1/regions': page([]),
    ...extra,
  };
}

beforeEach(() => {
  vi.unstubAllGlobals();
});

describe('NetworkDetail', () => {
  it('shows "Not found" for a network the tenant may not see', async () => {
    stubApi({ [`GET /v1/networks/${ID}`]: problem(404, 'Not found') });
    renderAs(<NetworkDetail id={ID} />);
    expect(await screen.findByRole('heading', { level: 1, name: 'Not found' })).toBeTruthy();
  });

  it('shows the facts, subnets, ports with their groups, the router, public IPs on its ports, and the residency history', async () => {
    const calls = stubApi(routes());
    renderAs(<NetworkDetail id={ID} />);
    expect(await screen.findByRole('heading', { level: 1, name: 'Network web' })).toBeTruthy();
    expect(calls.find((c) => c.path === '/v1/subnets')?.query.get('network')).toBe(ID);
    expect(calls.find((c) => c.path === '/v1/ports')?.query.get('network')).toBe(ID);
    const subnets = screen.getByRole('table', { name: 'Subnets' });
    expect(subnets.textContent).toContain('10.0.1.0/24');
    expect(subnets.textContent).toContain('10.0.1.1');
    expect(subnets.textContent).toContain('2 of 253');
    const ports = screen.getByRole('table', { name: 'Ports' });
    expect(ports.textContent).toContain('10.0.1.5');
    expect(ports.textContent).toContain('default');
    expect(within(ports).getByRole('link', { name: 'web-1' }).getAttribute('href')).toBe(`/console/instances/${PORT.instance.id}`);
    expect(screen.getByText('web-router')).toBeTruthy();
    expect(screen.getByText('192.0.2.2')).toBeTruthy();
    const ips = await screen.findByRole('table', { name: 'Public IPs' });
    expect(ips.textContent).toContain('192.0.2.10');
    expect(ips.textContent).not.toContain('192.0.2.99');
    // a free address of the network's region may be attached to one of its ports; another region's may not
    expect(ips.textContent).toContain('192.0.2.50');
    expect(ips.textContent).not.toContain('198.51.100.7');
    expect(within(screen.getByLabelText('Port for 192.0.2.50')).getByRole('option', { name: /web-1-eth0/ })).toBeTruthy();
    const timeline = await screen.findByRole('list', { name: 'Residency history' });
    expect(timeline.textContent).toContain('placed');
    expect(timeline.textContent).toContain('fr-par-1 (FR, EU)');
    expect(screen.getByText(/FR · EU · PAR1/)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'manage security groups' }).getAttribute('href')).toBe('/console/networks?tab=security-groups');
  });

  it('creates a subnet with a gateway and DNS servers, and follows its operation', async () => {
    const calls = stubApi(
      routes({
        'POST /v1/subnets': { status: 202, body: { subnet: { ...SUBNET, name: 'back' }, operation: { id: 'op1' } } },
        'GET /v1/operations/op1': operation('op1', 'subnet.create'),
      }),
    );
    renderAs(<NetworkDetail id={ID} />);
    await screen.findByRole('heading', { level: 1, name: 'Network web' });
    fireEvent.input(screen.getByLabelText('Subnet name'), { target: { value: 'back' } });
    fireEvent.input(screen.getByLabelText('Subnet CIDR'), { target: { value: '10.0.2.0/24' } });
    fireEvent.input(screen.getByLabelText('Gateway'), { target: { value: '10.0.2.254' } });
    fireEvent.input(screen.getByLabelText('DNS servers'), { target: { value: '9.9.9.9, 1.1.1.1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create subnet' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ name: 'back', network: ID, cidr: '10.0.2.0/24', gateway: '10.0.2.254', dns_servers: ['9.9.9.9', '1.1.1.1'] });
    expect(await screen.findByRole('progressbar', { name: 'subnet.create progress' })).toBeTruthy();
  });

  it('marks the CIDR field when the API names it', async () => {
    stubApi(routes({ 'POST /v1/subnets': problem(400, 'Invalid request', { errors: [{ field: 'cidr', message: 'overlaps subnet front' }] }) }));
    renderAs(<NetworkDetail id={ID} />);
    await screen.findByRole('heading', { level: 1, name: 'Network web' });
    fireEvent.input(screen.getByLabelText('Subnet name'), { target: { value: 'back' } });
    fireEvent.input(screen.getByLabelText('Subnet CIDR'), { target: { value: '10.0.1.0/25' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create subnet' }));
    expect(await screen.findByText('overlaps subnet front')).toBeTruthy();
    expect(screen.getByLabelText('Subnet CIDR').getAttribute('aria-invalid')).toBe('true');
  });

  it('creates a port on a subnet with chosen security groups', async () => {
    const calls = stubApi(routes({ 'POST /v1/ports': { status: 202, body: { port: PORT, operation: { id: 'op2' } } }, 'GET /v1/operations/op2': operation('op2', 'port.create') }));
    renderAs(<NetworkDetail id={ID} />);
    await screen.findByRole('heading', { level: 1, name: 'Network web' });
    const form = screen.getByRole('form', { name: 'Create a port' });
    fireEvent.input(within(form).getByLabelText('IP address'), { target: { value: '10.0.1.20' } });
    fireEvent.click(within(form).getByLabelText('ssh'));
    fireEvent.click(within(form).getByRole('button', { name: 'Create port' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ subnet: SUBNET.id, ip: '10.0.1.20', security_groups: [SG1.id, SG2.id] });
  });

  it("replaces a port's security groups", async () => {
    const calls = stubApi(routes({ [`PUT /v1/ports/${PORT.id}/security-groups`]: { status: 202, body: { port: PORT, operation: { id: 'op3' } } }, 'GET /v1/operations/op3': operation('op3', 'port.update') }));
    renderAs(<NetworkDetail id={ID} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Change security groups of web-1-eth0' }));
    const form = screen.getByRole('form', { name: 'Security groups of port web-1-eth0' });
    fireEvent.click(within(form).getByLabelText('default'));
    fireEvent.click(within(form).getByLabelText('ssh'));
    fireEvent.click(within(form).getByRole('button', { name: 'Save security groups' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0]).toMatchObject({ method: 'PUT', body: { security_groups: [SG2.id] } });
  });

  it('creates a router for a network without one, source NAT off when unticked', async () => {
    const calls = stubApi(
      routes({
        [`GET /v1/networks/${ID}`]: { body: { ...NET, router: null } },
        'POST /v1/routers': { status: 202, body: { router: ROUTER, operation: { id: 'op4' } } },
        'GET /v1/operations/op4': operation('op4', 'router.create'),
      }),
    );
    renderAs(<NetworkDetail id={ID} />);
    await screen.findByRole('heading', { level: 1, name: 'Network web' });
    expect((screen.getByLabelText('Router name') as HTMLInputElement).value).toBe('web-router');
    fireEvent.click(screen.getByLabelText(/Source NAT/));
    fireEvent.click(screen.getByRole('button', { name: 'Create router' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ name: 'web-router', network: ID, snat: false });
  });

  it('a subnet that ports still use: the 409 names them, linked to the ports section', async () => {
    stubApi(routes({ [`DELETE /v1/subnets/${SUBNET.id}`]: problem(409, 'Conflict', { detail: 'subnet front is in use', blocked_by: [{ kind: 'port', id: PORT.id, name: 'web-1-eth0' }] }) }));
    renderAs(<NetworkDetail id={ID} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete subnet front' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Delete subnet front' })).getByRole('button', { name: 'Delete subnet' }));
    const link = await screen.findByRole('link', { name: 'port web-1-eth0' });
    expect(link.getAttribute('href')).toBe(`/console/networks/${ID}#ports`);
  });

  it('plugs a free port into an instance of its region, and unplugs one after confirmation', async () => {
    const calls = stubApi(
      routes({
        [`POST /v1/ports/${FREE_PORT.id}/actions`]: { status: 202, body: { port: FREE_PORT, operation: { id: 'op6' } } },
        [`POST /v1/ports/${PORT.id}/actions`]: { status: 202, body: { port: PORT, operation: { id: 'op7' } } },
        'GET /v1/operations/op6': operation('op6', 'port.attach'),
        'GET /v1/operations/op7': operation('op7', 'port.detach'),
      }),
    );
    renderAs(<NetworkDetail id={ID} />);
    const select = await screen.findByLabelText('Instance for spare');
    expect(within(select).queryByRole('option', { name: /far-1/ })).toBeNull();
    fireEvent.change(select, { target: { value: INSTANCES[0].id } });
    fireEvent.click(screen.getByRole('button', { name: 'Attach port spare' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ action: 'attach', instance: INSTANCES[0].id });
    expect(await screen.findByRole('progressbar', { name: 'port.attach progress' })).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Detach port web-1-eth0 from web-1' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Detach port web-1-eth0 from web-1' })).getByRole('button', { name: 'Detach port' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(2));
    expect(writes(calls)[1]).toMatchObject({ path: `/v1/ports/${PORT.id}/actions`, body: { action: 'detach', instance: PORT.instance.id } });
  });

  it('a port the instance cannot take: the error sits at the instance field', async () => {
    stubApi(routes({ [`POST /v1/ports/${FREE_PORT.id}/actions`]: problem(409, 'Conflict', { errors: [{ field: 'instance', message: 'instance db-1 is in another region' }] }) }));
    renderAs(<NetworkDetail id={ID} />);
    fireEvent.change(await screen.findByLabelText('Instance for spare'), { target: { value: INSTANCES[0].id } });
    fireEvent.click(screen.getByRole('button', { name: 'Attach port spare' }));
    expect(await screen.findByText('instance db-1 is in another region')).toBeTruthy();
    expect(screen.getByLabelText('Instance for spare').getAttribute('aria-invalid')).toBe('true');
  });

  it('a reader sees everything and can change nothing', async () => {
    stubApi(routes());
    renderAs(<NetworkDetail id={ID} />, 'reader');
    await screen.findByRole('table', { name: 'Ports' });
    expect(screen.queryByRole('button', { name: /Delete|Create|Change|Allocate|Attach|Detach/ })).toBeNull();
  });
});
