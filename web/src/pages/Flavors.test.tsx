import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import Flavors from './Flavors';
import { operator, confirmIn, page, problem, renderPage, session, stubApi } from '../test/kit';

const SMALL = { id: 'f-1', name: 'm1-small', vcpus: 1, memory_mib: 512, disk_gib: 5, gpus: 0 };
const LARGE = { id: 'f-2', name: 'm1-large', vcpus: 4, memory_mib: 8192, disk_gib: 80, gpus: 1 };

afterEach(() => vi.unstubAllGlobals());

function fill(label: string, value: string) {
  fireEvent.input(screen.getByLabelText(label), { target: { value } });
}

describe('Flavors', () => {
  it('lists flavors with their sizes', async () => {
    stubApi({ 'GET /v1/flavors': page([SMALL, LARGE]) });
    renderPage(<Flavors />, operator());
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Flavors');
    const row = (await screen.findByText('m1-large')).closest('tr')!;
    expect(within(row).getByText('8 GiB')).toBeTruthy();
    expect(within(row).getByText('80 GiB')).toBeTruthy();
    expect(within(screen.getByText('m1-small').closest('tr')!).getByText('512 MiB')).toBeTruthy();
  });

  it('creates a flavor with numbers, not strings', async () => {
    let created = false;
    const api = stubApi({
      'GET /v1/flavors': () => page(created ? [SMALL, { ...SMALL, id: 'f-3', name: 'c1-tiny' }] : [SMALL]),
      'POST /v1/flavors': () => {
        created = true;
        return { ...SMALL, id: 'f-3', name: 'c1-tiny' };
      },
    });
    renderPage(<Flavors />, operator());
    await screen.findByText('m1-small');
    fill('Name', 'c1-tiny');
    fill('vCPUs', '1');
    fill('Memory (MiB)', '128');
    fill('Disk (GiB)', '1');
    fireEvent.click(screen.getByRole('button', { name: 'Create flavor' }));
    await screen.findByText('c1-tiny');
    expect(api.made('POST', '/v1/flavors')[0].body).toEqual({ name: 'c1-tiny', vcpus: 1, memory_mib: 128, disk_gib: 1 });
    expect(screen.getByText('Flavor c1-tiny created.')).toBeTruthy();
  });

  it('puts a field error under its field', async () => {
    stubApi({
      'GET /v1/flavors': page([]),
      'POST /v1/flavors': problem(409, 'Conflict', "a flavor named 'm1-small' exists", [{ field: 'name', message: 'already taken' }]),
    });
    renderPage(<Flavors />, operator());
    await screen.findByText('No flavors yet.');
    fill('Name', 'm1-small');
    fill('vCPUs', '1');
    fill('Memory (MiB)', '512');
    fill('Disk (GiB)', '5');
    fireEvent.click(screen.getByRole('button', { name: 'Create flavor' }));
    await waitFor(() => expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('already taken')).toBeTruthy();
  });

  it('deletes a flavor after confirmation, and shows a refusal', async () => {
    let gone = false;
    const api = stubApi({
      'GET /v1/flavors': () => page(gone ? [LARGE] : [SMALL, LARGE]),
      'DELETE /v1/flavors/f-1': () => {
        gone = true;
        return new Response(null, { status: 204 });
      },
      'DELETE /v1/flavors/f-2': problem(409, 'Conflict', "flavor 'm1-large' is used by 3 instances"),
    });
    renderPage(<Flavors />, operator());
    fireEvent.click(await screen.findByRole('button', { name: 'Delete flavor m1-small' }));
    confirmIn(screen.getByRole('dialog', { name: 'Delete flavor m1-small' }), 'Delete');
    await waitFor(() => expect(screen.queryByText('m1-small')).toBeNull());
    expect(api.made('DELETE', '/v1/flavors/f-1')).toHaveLength(1);
    fireEvent.click(screen.getByRole('button', { name: 'Delete flavor m1-large' }));
    confirmIn(screen.getByRole('dialog', { name: 'Delete flavor m1-large' }), 'Delete');
    await screen.findByText("flavor 'm1-large' is used by 3 instances");
  });

  it('is read-only for non-operators', async () => {
    stubApi({ 'GET /v1/flavors': page([SMALL]) });
    renderPage(<Flavors />, session('member', { tenantId: 't-op' }));
    await screen.findByText('m1-small');
    expect(screen.queryByRole('button', { name: 'Create flavor' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete flavor m1-small' })).toBeNull();
  });
});
