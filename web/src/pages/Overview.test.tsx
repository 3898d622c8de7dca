import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/preact';
import Overview from './Overview';
import { page, session, Signed, stubApi, TENANT } from '../test/kit';

const inst = (id: string, state: string) => ({ id, name: `vm-${id}`, state, tenant_id: TENANT });

function routes() {
  return {
    'GET /v1/instances': page([inst('a', 'running'), inst('b', 'running'), inst('c', 'stopped'), inst('d', 'error')]),
    [`GET /v1/tenants/${TENANT}/quotas`]: {
      tenant_id: TENANT,
      quotas: { instances: { limit: 10, used: 4 }, vcpus: { limit: 20, used: 20 }, memory_mib: { limit: 8192, used: 2048 } },
    },
    'GET /v1/operations': page([
      { id: 'op1', kind: 'instance.create', resource_type: 'instance', resource_id: 'a', state: 'running', progress: 40, step: 'defining the domain', created_at: '2026-01-01T00:00:00Z' },
      { id: 'op2', kind: 'instance.action', resource_type: 'instance', resource_id: 'c', state: 'failed', progress: 100, error: { code: 'timeout', message: 'the guest did not stop' }, created_at: '2026-01-01T00:00:00Z' },
      { id: 'op3', kind: 'image.import', resource_type: 'image', resource_id: 'i', state: 'succeeded', progress: 100, created_at: '2026-01-01T00:00:00Z' },
    ]),
  };
}

afterEach(() => vi.unstubAllGlobals());

describe('Overview', () => {
  it('counts instances by state, each linking to the filtered list', async () => {
    stubApi(routes());
    render(
      <Signed>
        <Overview />
      </Signed>,
    );
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Overview');
    const running = await screen.findByRole('link', { name: '2 running' });
    expect(running.getAttribute('href')).toBe('/console/instances?state=running');
    expect(screen.getByRole('link', { name: '1 stopped' })).toBeTruthy();
    expect(screen.getByRole('link', { name: '1 error' })).toBeTruthy();
    expect(screen.getByRole('link', { name: /4\s*in all/ }).getAttribute('href')).toBe('/console/instances');
  });

  it('shows quota usage as bars with the numbers', async () => {
    stubApi(routes());
    render(
      <Signed>
        <Overview />
      </Signed>,
    );
    const vcpus = await screen.findByRole('meter', { name: 'vCPUs' });
    expect(vcpus.getAttribute('aria-valuenow')).toBe('20');
    expect(vcpus.getAttribute('aria-valuemax')).toBe('20');
    expect(vcpus.className).toContain('full');
    expect(screen.getByText('Memory: 2 GiB of 8 GiB')).toBeTruthy();
    expect(screen.getByRole('meter', { name: 'Instances' }).getAttribute('aria-valuenow')).toBe('4');
    expect(screen.queryByRole('meter', { name: 'GPUs' })).toBeNull();
  });

  it('lists recent operations with progress for the running ones and the error of failed ones', async () => {
    stubApi(routes());
    render(
      <Signed>
        <Overview />
      </Signed>,
    );
    const bar = await screen.findByRole('progressbar', { name: 'instance.create progress' });
    expect(bar.getAttribute('value')).toBe('40');
    const table = screen.getByRole('table', { name: /Recent operations/ });
    expect(within(table).getByText('defining the domain')).toBeTruthy();
    expect(within(table).getByText('the guest did not stop')).toBeTruthy();
    expect(within(table).getAllByRole('progressbar')).toHaveLength(1);
    expect(within(table).getByRole('link', { name: 'a' }).getAttribute('href')).toBe('/console/instances/a');
  });

  it('shows an operator their own tenant with a note, counting only that tenant', async () => {
    const calls = stubApi(routes());
    render(
      <Signed s={session('operator', { operator: true })}>
        <Overview />
      </Signed>,
    );
    expect(screen.getByRole('note').textContent).toContain('own tenant');
    await screen.findByRole('link', { name: '2 running' });
    const list = calls.find((c) => c.path === '/v1/instances');
    expect(list?.query.get('tenant_id')).toBe(TENANT);
    expect(screen.getByRole('heading', { name: 'Recent operations (all tenants)' })).toBeTruthy();
  });

  it('says so when there are no instances, and shows an API error as a problem', async () => {
    stubApi({ ...routes(), 'GET /v1/instances': page([]), 'GET /v1/operations': { status: 503, body: { type: 'about:blank', title: 'Service unavailable', status: 503, detail: 'database down' } } });
    render(
      <Signed>
        <Overview />
      </Signed>,
    );
    expect(await screen.findByText(/No instances yet/)).toBeTruthy();
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('database down'));
  });
});
