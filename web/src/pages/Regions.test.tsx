import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import Regions from './Regions';
import { operator, confirmIn, page, problem, renderPage, session, stubApi } from '../test/kit';

const PAR = { code: 'fr-par-1', name: 'Paris 1', country: 'FR', jurisdiction: 'EU', datacenter: 'PA3', zones: ['a', 'b'] };
const OSL = { code: 'no-osl-1', name: 'Oslo 1', country: 'NO', jurisdiction: 'EEA', datacenter: 'OS1', zones: ['a'] };

afterEach(() => vi.unstubAllGlobals());

function fill(label: string, value: string) {
  fireEvent.input(screen.getByLabelText(label), { target: { value } });
}

describe('Regions', () => {
  it('lists regions with country, jurisdiction, datacenter and zones', async () => {
    stubApi({ 'GET /v1/regions': page([PAR, OSL]) });
    renderPage(<Regions />, operator());
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Regions');
    const row = (await screen.findByText('fr-par-1')).closest('tr')!;
    expect(within(row).getByText('Paris 1')).toBeTruthy();
    expect(within(row).getByText('FR')).toBeTruthy();
    expect(within(row).getByText('EU')).toBeTruthy();
    expect(within(row).getByText('a, b')).toBeTruthy();
    const osl = screen.getByText('no-osl-1').closest('tr')!;
    expect(within(osl).getByText('EEA')).toBeTruthy();
  });

  it('adds a region from the labelled form and shows it', async () => {
    let added = false;
    const api = stubApi({
      'GET /v1/regions': () => page(added ? [PAR, { ...OSL, code: 'de-fra-1', country: 'DE', jurisdiction: 'EU' }] : [PAR]),
      'POST /v1/regions': () => {
        added = true;
        return { ...OSL, code: 'de-fra-1', country: 'DE', jurisdiction: 'EU' };
      },
    });
    renderPage(<Regions />, operator());
    await screen.findByText('fr-par-1');
    fireEvent.click(screen.getByRole('button', { name: 'Add region' }));
    expect(document.activeElement).toBe(screen.getByLabelText('Code'));
    fill('Code', 'de-fra-1');
    fill('Name', 'Frankfurt 1');
    fill('Country', 'de');
    fill('Datacenter', 'FR4');
    fill('Zones', 'a, b  c');
    fireEvent.click(screen.getByRole('button', { name: 'Create region' }));
    await screen.findByText('de-fra-1');
    expect(api.made('POST', '/v1/regions')[0].body).toEqual({
      code: 'de-fra-1',
      name: 'Frankfurt 1',
      country: 'DE',
      datacenter: 'FR4',
      zones: ['a', 'b', 'c'],
    });
    expect(screen.getByText('Region de-fra-1 added (EU).')).toBeTruthy();
    /* The form closes and gives the focus back to its button. */
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Add region' })));
    expect(screen.queryByLabelText('Code')).toBeNull();
  });

  it('shows a field error next to the field errors[] names', async () => {
    stubApi({
      'GET /v1/regions': page([]),
      'POST /v1/regions': problem(400, 'Invalid request', 'country: not an ISO 3166-1 code', [
        { field: 'country', message: 'not an ISO 3166-1 code' },
      ]),
    });
    renderPage(<Regions />, operator());
    await screen.findByText('No regions yet.');
    fireEvent.click(screen.getByRole('button', { name: 'Add region' }));
    fill('Code', 'xx-1');
    fill('Name', 'Nowhere');
    fill('Country', 'XX');
    fill('Datacenter', 'X1');
    fill('Zones', 'a');
    fireEvent.click(screen.getByRole('button', { name: 'Create region' }));
    const country = screen.getByLabelText('Country');
    await waitFor(() => expect(country.getAttribute('aria-invalid')).toBe('true'));
    const errId = country.getAttribute('aria-describedby')!.split(' ').pop()!;
    expect(document.getElementById(errId)!.textContent).toBe('not an ISO 3166-1 code');
    expect(screen.getByText('Invalid request')).toBeTruthy();
    expect(screen.getByLabelText('Code').getAttribute('aria-invalid')).toBeNull();
  });

  it('edits a region in a dialog (PATCH name, datacenter, zones)', async () => {
    const api = stubApi({ 'GET /v1/regions': page([PAR]), 'PATCH /v1/regions/fr-par-1': { ...PAR, zones: ['a', 'b', 'c'] } });
    renderPage(<Regions />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Edit region fr-par-1' }));
    const dialog = screen.getByRole('dialog', { name: 'Edit region fr-par-1' });
    fireEvent.input(within(dialog).getByLabelText('Zones'), { target: { value: 'a,b,c' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save region' }));
    await waitFor(() => expect(api.made('PATCH', '/v1/regions/fr-par-1')).toHaveLength(1));
    expect(api.made('PATCH', '/v1/regions/fr-par-1')[0].body).toEqual({ name: 'Paris 1', datacenter: 'PA3', zones: ['a', 'b', 'c'] });
    await waitFor(() => expect(api.made('GET', '/v1/regions')).toHaveLength(2));
    expect(screen.queryByRole('dialog', { name: 'Edit region fr-par-1' })).toBeNull();
  });

  it('deletes after confirmation and shows a refusal as a problem', async () => {
    const api = stubApi({
      'GET /v1/regions': page([PAR]),
      'DELETE /v1/regions/fr-par-1': problem(409, 'Conflict', "region 'fr-par-1' still has 2 hosts"),
    });
    renderPage(<Regions />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Delete region fr-par-1' }));
    confirmIn(screen.getByRole('dialog', { name: 'Delete region fr-par-1' }), 'Delete');
    await screen.findByText("region 'fr-par-1' still has 2 hosts");
    expect(api.made('DELETE', '/v1/regions/fr-par-1')).toHaveLength(1);
  });

  it('shows no forms or actions to non-operators', async () => {
    stubApi({ 'GET /v1/regions': page([PAR]) });
    renderPage(<Regions />, session('admin', { tenantId: 't-op' }));
    await screen.findByText('fr-par-1');
    expect(screen.queryByRole('button', { name: 'Add region' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit region fr-par-1' })).toBeNull();
  });
});
