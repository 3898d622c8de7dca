import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import VolumeDetail from './VolumeDetail';
import { stubApi, operation, page, problem, renderAs, writes } from '../test/kit';

const ID = 'aaaaaaaa-0000-0000-0000-00000000000a';
const WEB1 = { id: 'ffffffff-0000-0000-0000-000000000001', name: 'web-1', region: 'fr-par-1', state: 'running' };
const WEB2 = { id: 'ffffffff-0000-0000-0000-000000000002', name: 'web-2', region: 'fr-par-1', state: 'stopped' };
const FAR = { id: 'ffffffff-0000-0000-0000-000000000003', name: 'far', region: 'de-fra-1', state: 'running' };
const VOL = {
  id: ID,
  name: 'data',
  size_gib: 20,
  type: 'fast',
  encrypted: true,
  state: 'in-use',
  region: 'fr-par-1',
  zone: 'a',
  host: { id: 'h1', name: 'kvm-1' },
  attachments: [{ instance: WEB1.id, instance_name: 'web-1', device: 'vdc', boot: false }],
  source: null,
  residency: { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU', datacenter: 'PAR1', host: 'kvm-1', since: '2026-12-01T10:00:00Z', key: { region: 'fr-par-1', country: 'FR' } },
};
const SNAP = { id: 'dddddddd-0000-0000-0000-000000000001', name: 'nightly', size_gib: 20, state: 'available', created_at: '2026-12-02T01:00:00Z', residency: null };
const RECORDS = [
  { seq: 1, at: '2026-12-01T10:00:00Z', event: 'placed', from: null, to: { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU', host: 'kvm-1' }, reason: 'volume.create' },
  { seq: 2, at: '2026-12-03T10:00:00Z', event: 'moved', from: { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU', host: 'kvm-1' }, to: { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU', host: 'kvm-2' }, reason: 'migration' },
];

function routes(extra = {}) {
  return {
    [`GET /v1/volumes/${ID}`]: { body: VOL },
    'GET /v1/snapshots': page([SNAP]),
    'GET /v1/instances': page([WEB1, WEB2, FAR]),
    [`GET /v1/volumes/${ID}/residency`]: page(RECORDS),
    ...extra,
  };
}

const accepted = (op: string) => ({ status: 202, body: { volume: VOL, operation: { id: op } } });

beforeEach(() => {
  vi.unstubAllGlobals();
});

describe('VolumeDetail', () => {
  it('shows "Not found" for a volume of another tenant', async () => {
    stubApi({ [`GET /v1/volumes/${ID}`]: problem(404, 'Not found') });
    renderAs(<VolumeDetail id={ID} />);
    expect(await screen.findByRole('heading', { level: 1, name: 'Not found' })).toBeTruthy();
  });

  it("shows the facts, where the data and its key live, snapshots and the residency history", async () => {
    const calls = stubApi(routes());
    renderAs(<VolumeDetail id={ID} />);
    expect(await screen.findByRole('heading', { level: 1, name: 'Volume data' })).toBeTruthy();
    expect(calls.find((c) => c.path === '/v1/snapshots')?.query.get('volume')).toBe(ID);
    expect(screen.getByText(/key kept in fr-par-1 \(FR\)/)).toBeTruthy();
    expect(screen.getByText('kvm-1')).toBeTruthy();
    expect(screen.getByRole('table', { name: 'Snapshots' }).textContent).toContain('nightly');
    const timeline = await screen.findByRole('list', { name: 'Residency history' });
    expect(timeline.querySelectorAll('li')).toHaveLength(2);
    expect(timeline.textContent).toContain('host kvm-1 → fr-par-1 (FR, EU) host kvm-2');
  });

  it('attaches to an instance of its region only, and detaches after confirmation', async () => {
    const calls = stubApi(
      routes({ [`POST /v1/volumes/${ID}/actions`]: accepted('op1'), 'GET /v1/operations/op1': operation('op1', 'volume.attach') }),
    );
    renderAs(<VolumeDetail id={ID} />);
    await screen.findByRole('option', { name: 'web-2 (stopped)' });
    const select = screen.getByLabelText('Instance to attach to');
    expect(within(select).queryByRole('option', { name: /far/ })).toBeNull();
    expect(within(select).queryByRole('option', { name: /web-1/ })).toBeNull();
    fireEvent.change(select, { target: { value: WEB2.id } });
    fireEvent.click(screen.getByRole('button', { name: 'Attach to instance' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ action: 'attach', instance: WEB2.id });
    expect(await screen.findByRole('progressbar', { name: 'volume.attach progress' })).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Detach from web-1' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Detach from web-1' })).getByRole('button', { name: 'Detach' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(2));
    expect(writes(calls)[1].body).toEqual({ action: 'detach', instance: WEB1.id });
  });

  it('shows why an attach is refused, at the instance field', async () => {
    stubApi(routes({ [`POST /v1/volumes/${ID}/actions`]: problem(409, 'Conflict', { detail: 'the volume is on host kvm-1, the instance on kvm-2', errors: [{ field: 'instance', message: 'on another host' }] }) }));
    renderAs(<VolumeDetail id={ID} />);
    await screen.findByRole('option', { name: 'web-2 (stopped)' });
    fireEvent.change(screen.getByLabelText('Instance to attach to'), { target: { value: WEB2.id } });
    fireEvent.click(screen.getByRole('button', { name: 'Attach to instance' }));
    expect(await screen.findByText('on another host')).toBeTruthy();
    expect(screen.getByLabelText('Instance to attach to').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('the volume is on host kvm-1, the instance on kvm-2')).toBeTruthy();
  });

  it('extends the volume', async () => {
    const calls = stubApi(routes({ [`POST /v1/volumes/${ID}/actions`]: accepted('op2'), 'GET /v1/operations/op2': operation('op2', 'volume.extend') }));
    renderAs(<VolumeDetail id={ID} />);
    await screen.findByRole('heading', { level: 1, name: 'Volume data' });
    fireEvent.input(screen.getByLabelText('New size (GiB)'), { target: { value: '30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Extend volume' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ action: 'extend', size_gib: 30 });
  });

  it('takes a snapshot, restores one as a new volume and deletes one', async () => {
    const calls = stubApi(
      routes({
        'POST /v1/snapshots': { status: 202, body: { snapshot: SNAP, operation: { id: 'op3' } } },
        'POST /v1/volumes': { status: 202, body: { volume: { ...VOL, id: 'new-vol', name: 'nightly-restored' }, operation: { id: 'op4' } } },
        [`DELETE /v1/snapshots/${SNAP.id}`]: { status: 202, body: { snapshot: SNAP, operation: { id: 'op5' } } },
        'GET /v1/operations/op3': operation('op3', 'snapshot.create'),
        'GET /v1/operations/op4': operation('op4', 'volume.create'),
        'GET /v1/operations/op5': operation('op5', 'snapshot.delete'),
      }),
    );
    renderAs(<VolumeDetail id={ID} />);
    await screen.findByRole('heading', { level: 1, name: 'Volume data' });
    fireEvent.input(screen.getByLabelText('Snapshot name'), { target: { value: 'before-upgrade' } });
    fireEvent.click(screen.getByRole('button', { name: 'Take snapshot' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(1));
    expect(writes(calls)[0].body).toEqual({ name: 'before-upgrade', volume: ID });

    fireEvent.click(screen.getByRole('button', { name: 'Restore snapshot nightly' }));
    const form = screen.getByRole('form', { name: 'Restore snapshot nightly' });
    expect((within(form).getByLabelText('Name of the new volume') as HTMLInputElement).value).toBe('nightly-restored');
    fireEvent.click(within(form).getByRole('button', { name: 'Restore as new volume' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(2));
    expect(writes(calls)[1].body).toEqual({ name: 'nightly-restored', source: { type: 'snapshot', id: SNAP.id } });
    expect((await screen.findByRole('link', { name: 'nightly-restored' })).getAttribute('href')).toBe('/console/volumes/new-vol');

    fireEvent.click(screen.getByRole('button', { name: 'Delete snapshot nightly' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Delete snapshot nightly' })).getByRole('button', { name: 'Delete snapshot' }));
    await waitFor(() => expect(writes(calls)).toHaveLength(3));
    expect(writes(calls)[2]).toMatchObject({ method: 'DELETE', path: `/v1/snapshots/${SNAP.id}` });
  });

  it('a reader sees the volume but no actions', async () => {
    stubApi(routes());
    renderAs(<VolumeDetail id={ID} />, 'reader');
    await screen.findByRole('table', { name: 'Snapshots' });
    expect(screen.queryByRole('button')).toBeNull();
    expect(screen.queryByLabelText('Instance to attach to')).toBeNull();
  });
});
