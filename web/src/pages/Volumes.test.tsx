import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import Volumes from './Volumes';
import { stubApi, operation, page, placeRoutes, problem, renderAs, writes } from '../test/kit';

const VOL = {
  id: 'aaaaaaaa-0000-0000-0000-00000000000a',
  name: 'data',
  size_gib: 20,
  type: 'fast',
  encrypted: true,
  state: 'in-use',
  region: 'fr-par-1',
  zone: 'a',
  attachments: [{ instance: 'ffffffff-0000-0000-0000-000000000001', instance_name: 'web-1', device: 'vdc', boot: false }],
};
const FREE = { ...VOL, id: 'aaaaaaaa-0000-0000-0000-00000000000b', name: 'spare', encrypted: false, state: 'available', attachments: [] };
const TYPES = [
  { id: 't1', name: 'standard', encrypted: false, max_iops: null },
  { id: 't2', name: 'fast', encrypted: true, max_iops: 5000 },
];

function routes(extra = {}) {
  return {
    ...placeRoutes(),
    'GET /v1/volumes': page([VOL, FREE, { ...FREE, id: 'gone', name: 'gone', state: 'deleted' }]),
    'GET /v1/volume-types': page(TYPES),
    ...extra,
  };
}

beforeEach(() => {
  vi.unstubAllGlobals();
});

describe('Volumes', () => {
  it('lists volumes with state, size, type, place and what they are attached to', async () => {
    stubApi(routes());
    renderAs(<Volumes />);
    expect(screen.getByRole('heading', { level: 1, name: 'Volumes' })).toBeTruthy();
    const link = await screen.findByRole('link', { name: 'data' });
    expect(link.getAttribute('href')).toBe(`/console/volumes/${VOL.id}`);
    const row = link.closest('tr') as HTMLElement;
    for (const t of ['in-use', '20 GiB', 'fast', 'fr-par-1 / a', 'as vdc', '(encrypted)']) expect(row.textContent).toContain(t);
    expect(within(row).getByRole('link', { name: 'web-1' }).getAttribute('href')).toBe('/console/instances/ffffffff-0000-0000-0000-000000000001');
    expect(screen.queryByRole('link', { name: 'gone' })).toBeNull();
  });

  it('creates a volume of a type, in a region and zone the policy allows, and shows its progress', async () => {
    const calls = stubApi(
      routes({
        'POST /v1/volumes': { status: 202, body: { volume: { ...FREE, name: 'logs', state: 'creating' }, operation: { id: 'op1' } } },
        'GET /v1/operations/op1': operation('op1', 'volume.create', 'running', 60),
      }),
    );
    renderAs(<Volumes />);
    await screen.findByRole('option', { name: /fast \(encrypted\), 5000 IOPS/ });
    await screen.findByRole('option', { name: /fr-par-1/ });
    expect((screen.getByRole('option', { name: /ch-zrh-1/ }) as HTMLOptionElement).disabled).toBe(true);
    expect((screen.getByLabelText('Zone') as HTMLSelectElement).disabled).toBe(true);
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'logs' } });
    fireEvent.input(screen.getByLabelText('Size (GiB)'), { target: { value: '5' } });
    fireEvent.change(screen.getByLabelText('Volume type'), { target: { value: 'fast' } });
    fireEvent.change(screen.getByLabelText('Region'), { target: { value: 'fr-par-1' } });
    fireEvent.change(screen.getByLabelText('Zone'), { target: { value: 'b' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create volume' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ name: 'logs', size_gib: 5, type: 'fast', region: 'fr-par-1', zone: 'b' });
    const bar = await screen.findByRole('progressbar', { name: 'volume.create progress' });
    expect(bar.getAttribute('value')).toBe('60');
  });

  it('puts the quota or size error next to the size field', async () => {
    stubApi(routes({ 'POST /v1/volumes': problem(409, 'Quota exceeded', { detail: 'volume_gib: 100 of 100 used', errors: [{ field: 'size_gib', message: 'exceeds the quota by 5 GiB' }] }) }));
    renderAs(<Volumes />);
    await screen.findByRole('link', { name: 'data' });
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'big' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create volume' }));
    expect(await screen.findByText('exceeds the quota by 5 GiB')).toBeTruthy();
    expect(screen.getByLabelText('Size (GiB)').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('volume_gib: 100 of 100 used')).toBeTruthy();
  });

  it('deletes after confirmation, and a 409 names the snapshots that keep it', async () => {
    const calls = stubApi(routes({ [`DELETE /v1/volumes/${FREE.id}`]: problem(409, 'Conflict', { blocked_by: [{ kind: 'snapshot', id: 's1', name: 'nightly' }] }) }));
    renderAs(<Volumes />);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete volume spare' }));
    expect(writes(calls)).toHaveLength(0);
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Delete volume spare' })).getByRole('button', { name: 'Delete volume' }));
    const link = await screen.findByRole('link', { name: 'snapshot nightly' });
    expect(link.getAttribute('href')).toBe(`/console/volumes/${FREE.id}#snapshots`);
    expect(writes(calls)[0]).toMatchObject({ method: 'DELETE', path: `/v1/volumes/${FREE.id}` });
  });

  it('a reader sees the list only', async () => {
    stubApi(routes());
    renderAs(<Volumes />, 'reader');
    await screen.findByRole('link', { name: 'data' });
    expect(screen.queryByRole('button', { name: /Delete|Create/ })).toBeNull();
  });
});
