import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import TenantDetail, { allowedRegions } from './TenantDetail';
import { operator, confirmIn, page, problem, renderPage, session, stubApi, type Answer } from '../test/kit';

const ACME = { id: 't-acme', name: 'acme', display_name: 'ACME GmbH', is_operator: false, created_at: '2026-12-02T00:00:00Z', updated_at: '2026-12-02T00:00:00Z' };
const QUOTAS = {
  tenant_id: 't-acme',
  quotas: {
    instances: { limit: 10, used: 3 },
    vcpus: { limit: 20, used: 6 },
    memory_mib: { limit: 40960, used: 3072 },
    volumes: { limit: 10, used: 0 },
  },
};
const REGIONS = [
  { code: 'fr-par-1', name: 'Paris', country: 'FR', jurisdiction: 'EU', zones: ['a'] },
  { code: 'de-fra-1', name: 'Frankfurt', country: 'DE', jurisdiction: 'EU', zones: ['a'] },
  { code: 'no-osl-1', name: 'Oslo', country: 'NO', jurisdiction: 'EEA', zones: ['a'] },
  { code: 'ch-zrh-1', name: 'Zurich', country: 'CH', jurisdiction: 'OTHER', zones: ['a'] },
];
const USERS = [
  { id: 'u-1', tenant_id: 't-acme', name: 'Ada Admin', email: 'ada@acme.eu', role: 'admin', created_at: '2026-12-02T00:00:00Z', updated_at: '' },
];

afterEach(() => vi.unstubAllGlobals());

function stub(extra: Record<string, Answer> = {}) {
  return stubApi({
    'GET /v1/tenants/t-acme': ACME,
    'GET /v1/tenants/t-acme/quotas': QUOTAS,
    'GET /v1/tenants/t-acme/residency-policy': { jurisdictions: ['EU'] },
    'GET /v1/tenants/t-acme/users': page(USERS),
    'GET /v1/regions': page(REGIONS),
    ...extra,
  });
}

describe('TenantDetail', () => {
  it('shows quotas as usage bars, the policy with the regions it allows, and the users', async () => {
    stub();
    renderPage(<TenantDetail id="t-acme" />, operator());
    expect(await screen.findByRole('heading', { level: 1, name: 'Tenant ACME GmbH' })).toBeTruthy();
    const inst = await screen.findByRole('meter', { name: 'Instances' });
    expect(inst.getAttribute('aria-valuenow')).toBe('3');
    expect(inst.getAttribute('aria-valuemax')).toBe('10');
    expect(screen.getByText('Memory: 3072 MiB of 40960 MiB')).toBeTruthy();
    const policy = screen.getByRole('region', { name: 'Residency policy' });
    await waitFor(() => expect(within(policy).getByText('fr-par-1, de-fra-1')).toBeTruthy());
    expect(within(policy).getAllByText('any')).toHaveLength(2);
    expect(await screen.findByText('ada@acme.eu')).toBeTruthy();
  });

  it('answers Not found for a tenant it may not see', async () => {
    stubApi({ 'GET /v1/tenants/t-other': problem(404, 'Not found') });
    renderPage(<TenantDetail id="t-other" />, operator());
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Not found'));
  });

  it('saves only the limits that changed', async () => {
    const api = stub({ 'PUT /v1/tenants/t-acme/quotas': QUOTAS });
    renderPage(<TenantDetail id="t-acme" />, operator());
    const input = await screen.findByLabelText('vCPUs limit');
    expect((input as HTMLInputElement).value).toBe('20');
    fireEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    await screen.findByText('No limit changed.');
    expect(api.made('PUT', '/v1/tenants/t-acme/quotas')).toHaveLength(0);
    fireEvent.input(input, { target: { value: '32' } });
    fireEvent.input(screen.getByLabelText('Memory limit (MiB)'), { target: { value: '65536' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    await screen.findByText('Limits saved.');
    expect(api.made('PUT', '/v1/tenants/t-acme/quotas')[0].body).toEqual({ vcpus: 32, memory_mib: 65536 });
  });

  it('shows a refused limit next to its field', async () => {
    stub({ 'PUT /v1/tenants/t-acme/quotas': problem(400, 'Invalid request', undefined, [{ field: 'instances', message: 'must be 0 or more' }]) });
    renderPage(<TenantDetail id="t-acme" />, operator());
    const input = await screen.findByLabelText('Instances limit');
    fireEvent.input(input, { target: { value: '5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    await waitFor(() => expect(input.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('must be 0 or more')).toBeTruthy();
  });

  it('edits the residency policy, previewing the regions it allows', async () => {
    let policy: Record<string, unknown> = { jurisdictions: ['EU'] };
    const api = stub({
      'GET /v1/tenants/t-acme/residency-policy': () => policy,
      'PUT /v1/tenants/t-acme/residency-policy': (c) => {
        policy = c.body as Record<string, unknown>;
        return policy;
      },
    });
    renderPage(<TenantDetail id="t-acme" />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Edit policy' }));
    const form = screen.getByRole('form', { name: 'Edit the residency policy' });
    await within(form).findByRole('checkbox', { name: 'no-osl-1 (NO, EEA)' });
    fireEvent.click(within(form).getByRole('checkbox', { name: 'EEA (Iceland, Liechtenstein, Norway)' }));
    expect(within(form).getByText('fr-par-1, de-fra-1, no-osl-1')).toBeTruthy();
    fireEvent.input(within(form).getByLabelText('Countries'), { target: { value: 'fr, no' } });
    expect(within(form).getByText('fr-par-1, no-osl-1')).toBeTruthy();
    fireEvent.click(within(form).getByRole('button', { name: 'Save policy' }));
    await screen.findByText('Policy saved.');
    expect(api.made('PUT', '/v1/tenants/t-acme/residency-policy')[0].body).toEqual({
      jurisdictions: ['EU', 'EEA'],
      countries: ['FR', 'NO'],
      regions: [],
    });
    const shown = screen.getByRole('region', { name: 'Residency policy' });
    await waitFor(() => expect(within(shown).getByText('EU, EEA')).toBeTruthy());
    expect(within(shown).getByText('FR, NO')).toBeTruthy();
  });

  it('shows why a policy is refused', async () => {
    stub({
      'PUT /v1/tenants/t-acme/residency-policy': problem(400, 'Invalid request', undefined, [
        { field: 'jurisdictions', message: 'a policy names at least one jurisdiction, country or region' },
      ]),
    });
    renderPage(<TenantDetail id="t-acme" />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Edit policy' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'EU' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save policy' }));
    expect(await screen.findByText('a policy names at least one jurisdiction, country or region')).toBeTruthy();
  });

  it('adds and deletes users', async () => {
    let users = [...USERS];
    const api = stub({
      'GET /v1/tenants/t-acme/users': () => page(users),
      'POST /v1/tenants/t-acme/users': (c) => {
        const u = { ...USERS[0], id: 'u-2', ...(c.body as object) };
        users = [...users, u];
        return u;
      },
      'DELETE /v1/tenants/t-acme/users/u-1': () => {
        users = users.filter((u) => u.id !== 'u-1');
        return new Response(null, { status: 204 });
      },
    });
    renderPage(<TenantDetail id="t-acme" />, operator());
    await screen.findByText('ada@acme.eu');
    expect(screen.queryByRole('option', { name: 'operator' })).toBeNull();
    fireEvent.input(screen.getByLabelText('User name'), { target: { value: 'Bob' } });
    fireEvent.input(screen.getByLabelText('Email'), { target: { value: 'bob@acme.eu' } });
    fireEvent.change(screen.getByLabelText('Role'), { target: { value: 'reader' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add user' }));
    await screen.findByText('bob@acme.eu');
    expect(api.made('POST', '/v1/tenants/t-acme/users')[0].body).toEqual({ name: 'Bob', email: 'bob@acme.eu', role: 'reader' });
    fireEvent.click(screen.getByRole('button', { name: 'Delete user Ada Admin' }));
    confirmIn(screen.getByRole('dialog', { name: 'Delete user Ada Admin' }), 'Delete');
    await waitFor(() => expect(screen.queryByText('ada@acme.eu')).toBeNull());
  });

  it("makes a token for a tenant's user and shows its secret once", async () => {
    const secret = 'sov_' + 'A'.repeat(43);
    const api = stub({
      'POST /v1/tokens': { id: 'tok-1', name: 'Ada Admin (made in the console)', user_id: 'u-1', secret, created_at: '2026-12-07T00:00:00Z' },
    });
    renderPage(<TenantDetail id="t-acme" />, operator());
    await screen.findByText('ada@acme.eu');
    fireEvent.click(screen.getByRole('button', { name: 'Create token for Ada Admin' }));
    const field = (await screen.findByLabelText('Token secret')) as HTMLInputElement;
    expect(field.value).toBe(secret);
    expect(api.made('POST', '/v1/tokens')[0].body).toEqual({ name: 'Ada Admin (made in the console)', user_id: 'u-1' });
    fireEvent.click(screen.getByRole('button', { name: 'I have copied it, hide the secret' }));
    expect(screen.queryByLabelText('Token secret')).toBeNull();
  });

  it('renames the tenant', async () => {
    const api = stub({ 'PATCH /v1/tenants/t-acme': { ...ACME, display_name: 'ACME SE' } });
    renderPage(<TenantDetail id="t-acme" />, operator());
    fireEvent.input(await screen.findByLabelText('Display name'), { target: { value: 'ACME SE' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save name' }));
    await screen.findByText('Saved.');
    expect(api.made('PATCH', '/v1/tenants/t-acme')[0].body).toEqual({ name: 'acme', display_name: 'ACME SE' });
  });

  it('deletes a tenant, and shows a refusal', async () => {
    stub({ 'DELETE /v1/tenants/t-acme': problem(409, 'Conflict', "tenant 'acme' still holds 3 instances") });
    renderPage(<TenantDetail id="t-acme" />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Delete tenant' }));
    confirmIn(screen.getByRole('dialog', { name: 'Delete tenant' }), 'Delete');
    await screen.findByText("tenant 'acme' still holds 3 instances");
  });

  it('lets a reader of the tenant only look', async () => {
    stub();
    renderPage(<TenantDetail id="t-acme" />, { ...session('reader', { tenantId: 't-op' }), tenantId: 't-acme' });
    await screen.findByRole('meter', { name: 'Instances' });
    await screen.findByText('ada@acme.eu');
    expect(screen.queryByRole('button', { name: 'Save limits' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit policy' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Add user' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete tenant' })).toBeNull();
  });
});

describe('allowedRegions', () => {
  it('intersects the lists given, an empty list constraining nothing', () => {
    const codes = (p: Parameters<typeof allowedRegions>[0]) => allowedRegions(p, REGIONS as never).map((r) => r.code);
    expect(codes({ jurisdictions: ['EU'] })).toEqual(['fr-par-1', 'de-fra-1']);
    expect(codes({ jurisdictions: ['EU', 'OTHER'], countries: ['CH', 'DE'] })).toEqual(['de-fra-1', 'ch-zrh-1']);
    expect(codes({ regions: ['no-osl-1'], countries: [] })).toEqual(['no-osl-1']);
    expect(codes({ jurisdictions: ['EEA'], regions: ['fr-par-1'] })).toEqual([]);
  });
});
