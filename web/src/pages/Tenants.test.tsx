import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import Tenants from './Tenants';
import { operator, page, problem, renderPage, stubApi } from '../test/kit';

const OP = { id: 't-op', name: 'operator', display_name: 'Operator', is_operator: true, created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z' };
const ACME = { id: 't-acme', name: 'acme', display_name: 'ACME GmbH', is_operator: false, created_at: '2026-12-02T00:00:00Z', updated_at: '2026-12-02T00:00:00Z' };

afterEach(() => vi.unstubAllGlobals());

describe('Tenants', () => {
  it('lists tenants with links to their pages', async () => {
    stubApi({ 'GET /v1/tenants': page([ACME, OP]) });
    renderPage(<Tenants />, operator());
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Tenants');
    const link = await screen.findByRole('link', { name: 'acme' });
    expect(link.getAttribute('href')).toBe('/console/operator/tenants/t-acme');
    const row = link.closest('tr')!;
    expect(within(row).getByText('ACME GmbH')).toBeTruthy();
    expect(within(row).getByText('customer')).toBeTruthy();
    expect(within(screen.getByRole('link', { name: 'operator' }).closest('tr')!).getByText('operator', { selector: 'td' })).toBeTruthy();
  });

  it('creates a tenant and links to it', async () => {
    let made = false;
    const api = stubApi({
      'GET /v1/tenants': () => page(made ? [ACME, OP] : [OP]),
      'POST /v1/tenants': () => {
        made = true;
        return ACME;
      },
    });
    renderPage(<Tenants />, operator());
    await screen.findByRole('link', { name: 'operator' });
    fireEvent.input(screen.getByLabelText('Tenant name'), { target: { value: 'acme' } });
    fireEvent.input(screen.getByLabelText('Display name'), { target: { value: 'ACME GmbH' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create tenant' }));
    const status = await screen.findByText(/created: set its quotas/);
    expect(within(status).getByRole('link', { name: 'acme' }).getAttribute('href')).toBe('/console/operator/tenants/t-acme');
    expect(api.made('POST', '/v1/tenants')[0].body).toEqual({ name: 'acme', display_name: 'ACME GmbH' });
    await waitFor(() => expect(screen.getAllByRole('link', { name: 'acme' })).toHaveLength(2));
  });

  it('shows a bad name next to the field', async () => {
    stubApi({
      'GET /v1/tenants': page([OP]),
      'POST /v1/tenants': problem(400, 'Invalid request', undefined, [{ field: 'name', message: 'names are lower case letters, digits and dashes' }]),
    });
    renderPage(<Tenants />, operator());
    await screen.findByRole('link', { name: 'operator' });
    fireEvent.input(screen.getByLabelText('Tenant name'), { target: { value: 'ACME' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create tenant' }));
    await waitFor(() => expect(screen.getByLabelText('Tenant name').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('names are lower case letters, digits and dashes')).toBeTruthy();
  });
});
