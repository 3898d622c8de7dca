import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import Networks from './Networks';
import { stubApi, operation, page, placeRoutes, problem, renderAs, writes } from '../test/kit';

const NET = {
  id: 'aaaaaaaa-0000-0000-0000-000000000001',
  name: 'web',
  cidr: '10.0.0.0/16',
  region: 'fr-par-1',
  state: 'available',
  router: null,
  is_default: false,
};
const SUBNET = { id: 'bbbbbbbb-0000-0000-0000-000000000001', name: 'front', cidr: '10.0.1.0/24', network: { id: NET.id, name: 'web' }, state: 'available' };
const SG = {
  id: 'cccccccc-0000-0000-0000-000000000001',
  name: 'ssh',
  state: 'available',
  is_default: false,
  rules: [{ id: 'dddddddd-0000-0000-0000-000000000001', direction: 'ingress', protocol: 'tcp', ports: '22', remote_cidr: '0.0.0.0/0' }],
};
const PORT = {
  id: 'eeeeeeee-0000-0000-0000-000000000001',
  name: 'web-1-eth0',
  ip: '10.0.1.5',
  network: { id: NET.id, name: 'web' },
  instance: { id: 'ffffffff-0000-0000-0000-000000000001', name: 'web-1' },
  state: 'in-use',
  security_groups: [],
};
const IP = { id: '99999999-0000-0000-0000-000000000001', name: 'front-ip', address: '192.0.2.10', region: 'fr-par-1', state: 'available', port: null, residency: null };

function routes(extra = {}) {
  return {
    ...placeRoutes(),
    'GET /v1/networks': page([NET, { ...NET, id: 'gone', name: 'old', state: 'deleted' }]),
    'GET /v1/subnets': page([SUBNET]),
    'GET /v1/security-groups': page([SG]),
    'GET /v1/public-ips': page([IP]),
    'GET /v1/ports': page([PORT]),
    ...extra,
  };
}

beforeEach(() => {
  vi.unstubAllGlobals();
  history.replaceState(null, '', '/console/networks');
});

describe('Networks', () => {
  it('lists the networks with state, region, CIDR and their subnets, linking to each, leaving deleted ones out', async () => {
    stubApi(routes());
    renderAs(<Networks />);
    expect(screen.getByRole('heading', { level: 1, name: 'Networks' })).toBeTruthy();
    const link = await screen.findByRole('link', { name: 'web' });
    expect(link.getAttribute('href')).toBe(`/console/networks/${NET.id}`);
    const row = link.closest('tr') as HTMLElement;
    expect(row.textContent).toContain('available');
    expect(row.textContent).toContain('fr-par-1');
    expect(row.textContent).toContain('10.0.0.0/16');
    expect(row.textContent).toContain('10.0.1.0/24');
    expect(screen.queryByRole('link', { name: 'old' })).toBeNull();
    // On a narrow screen the table scrolls sideways: its region takes keyboard focus to do so.
    const region = screen.getByRole('region', { name: 'Your networks' });
    expect(region.getAttribute('tabindex')).toBe('0');
    expect(region.contains(row)).toBe(true);
  });

  it('creates a network and follows its operation', async () => {
    const calls = stubApi(
      routes({
        'POST /v1/networks': { status: 202, body: { network: { ...NET, name: 'db', state: 'creating' }, operation: { id: 'op1' } } },
        'GET /v1/operations/op1': operation('op1', 'network.create'),
      }),
    );
    renderAs(<Networks />);
    await screen.findByRole('link', { name: 'web' });
    await screen.findByRole('option', { name: /fr-par-1/ });
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'db' } });
    fireEvent.input(screen.getByLabelText('CIDR'), { target: { value: '10.1.0.0/16' } });
    fireEvent.change(screen.getByLabelText('Region'), { target: { value: 'fr-par-1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create network' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ name: 'db', cidr: '10.1.0.0/16', region: 'fr-par-1' });
    const progress = await screen.findByRole('progressbar', { name: 'network.create progress' });
    expect(progress.getAttribute('value')).toBe('40');
    expect(screen.getByText('Creating network db')).toBeTruthy();
  });

  it('shows a field error next to the field the problem names', async () => {
    stubApi(
      routes({
        'POST /v1/networks': problem(400, 'Invalid request', { detail: 'cidr: host bits set', errors: [{ field: 'cidr', message: 'host bits set: did you mean 10.1.0.0/16?' }] }),
      }),
    );
    renderAs(<Networks />);
    await screen.findByRole('link', { name: 'web' });
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'db' } });
    fireEvent.input(screen.getByLabelText('CIDR'), { target: { value: '10.1.0.1/16' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create network' }));
    await screen.findByText('host bits set: did you mean 10.1.0.0/16?');
    const cidr = screen.getByLabelText('CIDR');
    expect(cidr.getAttribute('aria-invalid')).toBe('true');
    expect(cidr.getAttribute('aria-describedby')).toBe('net-cidr-error');
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBeNull();
    expect(screen.getAllByRole('alert')[0].textContent).toContain('Invalid request');
  });

  it('offers only the regions the residency policy allows, and says so', async () => {
    stubApi(routes());
    renderAs(<Networks />);
    const ch = (await screen.findByRole('option', { name: /ch-zrh-1/ })) as HTMLOptionElement;
    expect(ch.disabled).toBe(true);
    expect(ch.textContent).toContain('outside your residency policy');
    expect((screen.getByRole('option', { name: /fr-par-1/ }) as HTMLOptionElement).disabled).toBe(false);
    expect(screen.getByText(/Limited to what your residency policy allows: jurisdictions EU/)).toBeTruthy();
  });

  it('deletes after confirmation; a 409 lists what keeps the network, as links', async () => {
    const calls = stubApi(
      routes({
        [`DELETE /v1/networks/${NET.id}`]: problem(409, 'Conflict', {
          detail: 'network web is in use',
          blocked_by: [
            { kind: 'subnet', id: SUBNET.id, name: 'front' },
            { kind: 'router', id: 'r1', name: 'web-router' },
          ],
        }),
      }),
    );
    renderAs(<Networks />);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete network web' }));
    expect(writes(calls)).toHaveLength(0);
    const dialog = screen.getByRole('dialog', { name: 'Delete network web' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete network' }));
    const subnet = await screen.findByRole('link', { name: 'subnet front' });
    expect(subnet.getAttribute('href')).toBe(`/console/networks/${NET.id}#subnets`);
    expect(screen.getByRole('link', { name: 'router web-router' }).getAttribute('href')).toBe(`/console/networks/${NET.id}#routers`);
    expect(writes(calls)[0].method).toBe('DELETE');
    expect(screen.getByText('network web is in use')).toBeTruthy();
  });

  it('cancelling the confirmation deletes nothing', async () => {
    const calls = stubApi(routes());
    renderAs(<Networks />);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete network web' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Delete network web' })).getByRole('button', { name: 'Cancel' }));
    await new Promise((r) => setTimeout(r, 20));
    expect(writes(calls)).toHaveLength(0);
  });

  it('a reader sees the list but no create form and no delete', async () => {
    stubApi(routes());
    renderAs(<Networks />, 'reader');
    await screen.findByRole('link', { name: 'web' });
    expect(screen.queryByRole('button', { name: 'Create network' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete network web' })).toBeNull();
  });

  it('tabs move by arrow keys and keep ?tab= in the URL', async () => {
    stubApi(routes());
    renderAs(<Networks />);
    const first = screen.getByRole('tab', { name: 'Networks' });
    expect(first.getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(first, { key: 'ArrowRight' });
    const sg = screen.getByRole('tab', { name: 'Security groups' });
    expect(sg.getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(sg);
    expect(location.search).toBe('?tab=security-groups');
    await screen.findByRole('heading', { name: /ssh/ });
    fireEvent.keyDown(sg, { key: 'End' });
    expect(screen.getByRole('tab', { name: 'Public IPs' }).getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Public IPs' }), { key: 'ArrowRight' });
    expect(first.getAttribute('aria-selected')).toBe('true');
    expect(location.search).toBe('');
  });

  it('opens on the tab named in the query', async () => {
    stubApi(routes());
    renderAs(<Networks query={{ tab: 'public-ips' }} />);
    expect(screen.getByRole('tab', { name: 'Public IPs' }).getAttribute('aria-selected')).toBe('true');
    expect(await screen.findByText('192.0.2.10')).toBeTruthy();
  });
});

describe('Security groups tab', () => {
  it('shows each group with its rules, adds a rule and deletes a group that ports still use', async () => {
    const calls = stubApi(
      routes({
        [`POST /v1/security-groups/${SG.id}/rules`]: { status: 202, body: { security_group: SG, operation: { id: 'op2' } } },
        'GET /v1/operations/op2': operation('op2', 'security-group.update'),
        [`DELETE /v1/security-groups/${SG.id}`]: problem(409, 'Conflict', { blocked_by: [{ kind: 'port', id: PORT.id, name: 'web-1-eth0' }] }),
      }),
    );
    renderAs(<Networks query={{ tab: 'security-groups' }} />);
    const rules = await screen.findByRole('table', { name: 'Rules of ssh' });
    expect(rules.textContent).toContain('22');
    expect(rules.textContent).toContain('0.0.0.0/0');

    fireEvent.click(screen.getByRole('button', { name: 'Add a rule to ssh' }));
    const form = screen.getByRole('form', { name: 'Add a rule to ssh' });
    fireEvent.change(within(form).getByLabelText('Protocol'), { target: { value: 'tcp' } });
    fireEvent.input(within(form).getByLabelText('Ports'), { target: { value: '443' } });
    fireEvent.input(within(form).getByLabelText('Remote CIDR'), { target: { value: '203.0.113.0/24' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Add rule' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ direction: 'ingress', protocol: 'tcp', ports: '443', remote_cidr: '203.0.113.0/24' });
    await screen.findByRole('progressbar', { name: 'security-group.update progress' });

    fireEvent.click(screen.getByRole('button', { name: 'Delete security group ssh' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Delete security group ssh' })).getByRole('button', { name: 'Delete security group' }));
    expect(await screen.findByText('port web-1-eth0')).toBeTruthy();
  });

  it('creates a group with no rules when the default rules are unticked', async () => {
    const calls = stubApi(routes({ 'POST /v1/security-groups': { status: 202, body: { security_group: SG, operation: { id: 'op3' } } }, 'GET /v1/operations/op3': operation('op3', 'security-group.create') }));
    renderAs(<Networks query={{ tab: 'security-groups' }} />);
    await screen.findByRole('table', { name: 'Rules of ssh' });
    fireEvent.input(screen.getByLabelText('Security group name'), { target: { value: 'web' } });
    fireEvent.click(screen.getByLabelText(/Start with the default rules/));
    fireEvent.click(screen.getByRole('button', { name: 'Create security group' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ name: 'web', rules: [] });
  });
});

describe('Public IPs tab', () => {
  it('allocates an address in a region and for a port, attaches one and releases one', async () => {
    const calls = stubApi(
      routes({
        'POST /v1/public-ips': { status: 202, body: { public_ip: IP, operation: { id: 'op4' } } },
        [`POST /v1/public-ips/${IP.id}/actions`]: { status: 202, body: { public_ip: IP, operation: { id: 'op5' } } },
        [`DELETE /v1/public-ips/${IP.id}`]: { status: 202, body: { public_ip: IP, operation: { id: 'op6' } } },
        'GET /v1/operations/op4': operation('op4', 'public-ip.create'),
        'GET /v1/operations/op5': operation('op5', 'public-ip.attach'),
        'GET /v1/operations/op6': operation('op6', 'public-ip.delete'),
      }),
    );
    renderAs(<Networks query={{ tab: 'public-ips' }} />);
    await screen.findByText('192.0.2.10');
    await screen.findByRole('option', { name: /fr-par-1/ });
    fireEvent.input(screen.getByLabelText('Public IP name'), { target: { value: 'api-ip' } });
    fireEvent.change(screen.getByLabelText('Region'), { target: { value: 'fr-par-1' } });
    fireEvent.change(screen.getByLabelText('Attach to port'), { target: { value: PORT.id } });
    fireEvent.click(screen.getByRole('button', { name: 'Allocate public IP' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ name: 'api-ip', region: 'fr-par-1', port: PORT.id });

    fireEvent.change(screen.getByLabelText('Port for 192.0.2.10'), { target: { value: PORT.id } });
    fireEvent.click(screen.getByRole('button', { name: 'Attach 192.0.2.10' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(2));
    expect(writes(calls)[1]).toMatchObject({ path: `/v1/public-ips/${IP.id}/actions`, body: { action: 'attach', port: PORT.id } });

    fireEvent.click(screen.getByRole('button', { name: 'Release public IP 192.0.2.10' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Release public IP 192.0.2.10' })).getByRole('button', { name: 'Release' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(3));
    expect(writes(calls)[2]).toMatchObject({ method: 'DELETE', path: `/v1/public-ips/${IP.id}` });
  });

  it('shows a 409 for an address pool that is empty next to the region', async () => {
    stubApi(routes({ 'POST /v1/public-ips': problem(409, 'Conflict', { detail: 'no free address', errors: [{ field: 'region', message: 'no free address in fr-par-1' }] }) }));
    renderAs(<Networks query={{ tab: 'public-ips' }} />);
    await screen.findByText('192.0.2.10');
    fireEvent.input(screen.getByLabelText('Public IP name'), { target: { value: 'x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Allocate public IP' }));
    expect(await screen.findByText('no free address in fr-par-1')).toBeTruthy();
    expect(screen.getByLabelText('Region').getAttribute('aria-invalid')).toBe('true');
  });
});
