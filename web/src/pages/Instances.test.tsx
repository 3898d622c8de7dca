import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import Instances from './Instances';
import { AtRoute, page, session, stubApi, TENANT } from '../test/kit';

const inst = (n: number, state = 'running') => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  name: `vm-${n}`,
  state,
  workspace: 'default',
  tenant_id: TENANT,
  flavor_id: 'f1',
  region: 'fr-par-1',
  zone: 'a',
  addresses: [`10.0.0.${n}`],
  created_at: '2026-01-01T00:00:00Z',
});

function routes(extra: Record<string, unknown> = {}) {
  return {
    'GET /v1/instances': (r: { query: URLSearchParams }) =>
      r.query.get('after') ? page([inst(3)]) : r.query.get('state') === 'stopped' ? page([inst(9, 'stopped')]) : page([inst(1), inst(2)], '/v1/instances?limit=50&after=2'),
    'GET /v1/flavors': page([{ id: 'f1', name: 'small' }]),
    'GET /v1/regions': page([{ code: 'fr-par-1' }, { code: 'de-fra-1' }]),
    [`GET /v1/tenants/${TENANT}/workspaces`]: page([{ name: 'default' }, { name: 'web' }]),
    ...extra,
  };
}

const at = (url: string, s = session()) => <AtRoute url={url} path="/console/instances" component={Instances} s={s} />;

afterEach(() => vi.unstubAllGlobals());

describe('Instances', () => {
  it('lists instances with state badges and links to their pages', async () => {
    stubApi(routes());
    render(at('/console/instances'));
    const link = await screen.findByRole('link', { name: 'vm-1' });
    expect(link.getAttribute('href')).toBe(`/console/instances/${inst(1).id}`);
    const row = link.closest('tr') as HTMLElement;
    expect(within(row).getByText('running').className).toContain('badge');
    expect(within(row).getByText('small')).toBeTruthy();
    expect(within(row).getByText('10.0.0.1')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Create instance' }).getAttribute('href')).toBe('/console/instances/new');
    expect(screen.queryByRole('columnheader', { name: 'Tenant' })).toBeNull();
  });

  it('loads the next keyset page with More, appending', async () => {
    const calls = stubApi(routes());
    render(at('/console/instances'));
    fireEvent.click(await screen.findByRole('button', { name: 'More' }));
    expect(await screen.findByRole('link', { name: 'vm-3' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'vm-1' })).toBeTruthy();
    expect(calls.some((c) => c.query.get('after') === '2')).toBe(true);
    await waitFor(() => expect(screen.queryByRole('button', { name: 'More' })).toBeNull());
  });

  it('filters by state from the URL and by a changed select', async () => {
    const calls = stubApi(routes());
    render(at('/console/instances?state=stopped'));
    expect(await screen.findByRole('link', { name: 'vm-9' })).toBeTruthy();
    expect((screen.getByLabelText('State') as HTMLSelectElement).value).toBe('stopped');
    fireEvent.change(screen.getByLabelText('Region'), { target: { value: 'de-fra-1' } });
    await waitFor(() => expect(calls.some((c) => c.query.get('region') === 'de-fra-1' && c.query.get('state') === 'stopped')).toBe(true));
    expect(location.search).toContain('region=de-fra-1');
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'vm-9' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(calls.some((c) => c.query.get('name') === 'vm-9')).toBe(true));
    fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(location.search).toBe(''));
  });

  it('says when no instance matches and shows a bad filter as a problem', async () => {
    stubApi(
      routes({
        'GET /v1/instances': (r: { query: URLSearchParams }) =>
          r.query.get('state') === 'bogus' ? { status: 400, body: { type: 'about:blank', title: 'Invalid request', status: 400, detail: 'state: not a state' } } : page([]),
      }),
    );
    const { unmount } = render(at('/console/instances?workspace=web'));
    expect(await screen.findByText('No instance matches these filters.')).toBeTruthy();
    unmount();
    render(at('/console/instances?state=bogus'));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('state: not a state'));
  });

  it('shows operators the tenant column and readers no create link', async () => {
    stubApi(routes());
    const { unmount } = render(at('/console/instances', session('operator', { operator: true })));
    expect(await screen.findByRole('columnheader', { name: 'Tenant' })).toBeTruthy();
    unmount();
    render(at('/console/instances', session('reader')));
    await screen.findByRole('link', { name: 'vm-1' });
    expect(screen.queryByRole('link', { name: 'Create instance' })).toBeNull();
  });
});
