import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import Images from './Images';
import { FakeXhr, Signed, page, session, stubApi, json } from '../test/kit';

const residency = { region: 'fr-par-1', country: 'FR', jurisdiction: 'EU', datacenter: 'Paris DC3', host: null, since: '2026-12-01T10:00:00Z' };
const active = { id: 'img-1', name: 'debian-12', region: 'fr-par-1', format: 'qcow2', state: 'active', size_bytes: 3 * 1024 * 1024, residency, created_at: '2026-12-01T10:00:00Z' };
const regions = page([
  { code: 'fr-par-1', name: 'Paris', country: 'FR', jurisdiction: 'EU', zones: ['a'] },
  { code: 'ch-zrh-1', name: 'Zurich', country: 'CH', jurisdiction: 'OTHER', zones: ['a'] },
]);
const policy = { jurisdictions: ['EU'], countries: [], regions: [] };

function renderAs(role: string) {
  return render(
    <Signed s={session(role)}>
      <Images />
    </Signed>,
  );
}

beforeEach(() => {
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
  FakeXhr.last = null;
});
afterEach(() => vi.unstubAllGlobals());

describe('Images', () => {
  it('lists images with state, size, region and residency', async () => {
    const older = { ...active, id: 'img-0', name: 'alpine', created_at: '2026-11-01T10:00:00Z' };
    stubApi({ 'GET /v1/images': page([older, active]), 'GET /v1/regions': regions, 'GET /v1/tenants/t-1/residency-policy': policy });
    renderAs('member');
    const row = await screen.findByRole('row', { name: /debian-12/ });
    // Newest first.
    expect(screen.getAllByRole('row').map((r) => r.querySelector('th')?.textContent)).toEqual(['Name', 'debian-12', 'alpine']);
    expect(within(row).getByText('active')).toBeTruthy();
    expect(within(row).getByText('3.0 MiB')).toBeTruthy();
    expect(within(row).getByText('fr-par-1')).toBeTruthy();
    expect(row.textContent).toContain('FR · EU · Paris DC3');
  });

  it('offers only the regions the residency policy allows', async () => {
    stubApi({ 'GET /v1/images': page([]), 'GET /v1/regions': regions, 'GET /v1/tenants/t-1/residency-policy': policy });
    renderAs('member');
    const select = (await screen.findByLabelText('Region')) as HTMLSelectElement;
    const options = Array.from(select.options).map((o) => o.value);
    expect(options).toEqual(['fr-par-1']);
    expect(screen.getByText(/Regions your residency policy allows \(jurisdictions EU\)/)).toBeTruthy();
  });

  it('creates the image, uploads its bytes with a progress bar, then shows it active', async () => {
    const queued = { ...active, id: 'img-2', name: 'tiny', state: 'queued', size_bytes: 0 };
    const calls = stubApi({
      'GET /v1/images': page([]),
      'GET /v1/regions': regions,
      'GET /v1/tenants/t-1/residency-policy': policy,
      'POST /v1/images': () => json(queued, 201),
      'GET /v1/images/img-2': { ...queued, state: 'active', size_bytes: 1000 },
    });
    renderAs('member');
    await screen.findByRole('option', { name: /fr-par-1/ });
    const file = new File([new Uint8Array(1000)], 'Tiny.qcow2', { type: 'application/octet-stream' });
    fireEvent.change(screen.getByLabelText('Image file'), { target: { files: [file] } });
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('tiny');
    fireEvent.click(screen.getByRole('button', { name: 'Upload image' }));

    await waitFor(() => expect(FakeXhr.last).not.toBeNull());
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.body).toEqual({ name: 'tiny', region: 'fr-par-1', format: 'qcow2' });
    const xhr = FakeXhr.last!;
    expect(xhr.method).toBe('PUT');
    expect(xhr.url).toBe('/v1/images/img-2/file');
    expect(xhr.headers['Content-Type']).toBe('application/octet-stream');
    expect(xhr.body).toBe(file);

    xhr.progress(400, 1000);
    const bar = (await screen.findByRole('progressbar', { name: 'Upload progress' })) as HTMLProgressElement;
    await waitFor(() => expect(bar.value).toBe(40));
    expect(screen.getByText(/40% · 400 B of 1000 B/)).toBeTruthy();

    xhr.respond(200, { ...queued, state: 'active', size_bytes: 1000 });
    expect(await screen.findByText(/Image tiny is/)).toBeTruthy();
    // Done: the bar goes (the browser suite waits for it to leave).
    expect(screen.queryByRole('progressbar', { name: 'Upload progress' })).toBeNull();
  });

  it('shows a create error next to the field errors[] names', async () => {
    stubApi({
      'GET /v1/images': page([]),
      'GET /v1/regions': regions,
      'GET /v1/tenants/t-1/residency-policy': policy,
      'POST /v1/images': json(
        { type: '/problems/invalid', title: 'request is invalid', status: 400, detail: 'name is taken', errors: [{ field: 'name', message: 'an image of this workspace has this name' }] },
        400,
      ),
    });
    renderAs('member');
    await screen.findByRole('option', { name: /fr-par-1/ });
    fireEvent.change(screen.getByLabelText('Image file'), { target: { files: [new File(['x'], 'a.qcow2')] } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload image' }));
    expect(await screen.findByText('an image of this workspace has this name')).toBeTruthy();
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('request is invalid')).toBeTruthy();
    expect(FakeXhr.last).toBeNull();
  });

  it('shows a refused upload and sends the bytes again to the same queued image', async () => {
    const queued = { ...active, id: 'img-3', name: 'bad', state: 'queued', size_bytes: 0 };
    const calls = stubApi({
      'GET /v1/images': page([]),
      'GET /v1/regions': regions,
      'GET /v1/tenants/t-1/residency-policy': policy,
      'POST /v1/images': () => json(queued, 201),
      'GET /v1/images/img-3': { ...queued, state: 'active' },
    });
    renderAs('member');
    await screen.findByRole('option', { name: /fr-par-1/ });
    fireEvent.change(screen.getByLabelText('Image file'), { target: { files: [new File(['xyz'], 'bad.qcow2')] } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload image' }));
    await waitFor(() => expect(FakeXhr.last).not.toBeNull());
    FakeXhr.last!.progress(3, 3);
    FakeXhr.last!.respond(400, { type: '/problems/invalid', title: 'request is invalid', status: 400, detail: 'format mismatch: declared qcow2, qemu-img finds raw' });
    expect(await screen.findByText('format mismatch: declared qcow2, qemu-img finds raw')).toBeTruthy();
    // How far it got stays in view beside the refusal.
    expect((screen.getByRole('progressbar', { name: 'Upload progress' }) as HTMLProgressElement).value).toBe(100);
    const again = screen.getByRole('button', { name: 'Upload again' });
    FakeXhr.last = null;
    fireEvent.click(again);
    await waitFor(() => expect(FakeXhr.last).not.toBeNull());
    expect(FakeXhr.last!.url).toBe('/v1/images/img-3/file');
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1);
  });

  it('cancels an upload and can send the bytes again', async () => {
    const queued = { ...active, id: 'img-4', name: 'big', state: 'queued', size_bytes: 0 };
    stubApi({
      'GET /v1/images': page([]),
      'GET /v1/regions': regions,
      'GET /v1/tenants/t-1/residency-policy': policy,
      'POST /v1/images': () => json(queued, 201),
    });
    renderAs('member');
    await screen.findByRole('option', { name: /fr-par-1/ });
    fireEvent.change(screen.getByLabelText('Image file'), { target: { files: [new File(['x'.repeat(100)], 'big.qcow2')] } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload image' }));
    await waitFor(() => expect(FakeXhr.last).not.toBeNull());
    FakeXhr.last!.progress(10, 100);
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel upload' }));
    expect(await screen.findByText(/Upload cancelled/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Cancel upload' })).toBeNull();
    FakeXhr.last = null;
    fireEvent.click(screen.getByRole('button', { name: 'Upload again' }));
    await waitFor(() => expect(FakeXhr.last?.url).toBe('/v1/images/img-4/file'));
  });

  it('deletes an image after confirmation and follows the operation', async () => {
    const calls = stubApi({
      'GET /v1/images': page([active]),
      'GET /v1/regions': regions,
      'GET /v1/tenants/t-1/residency-policy': policy,
      'DELETE /v1/images/img-1': () => json({ image: { ...active, state: 'deleting' }, operation: { id: 'op-9', kind: 'image.delete', state: 'queued', progress: 0 } }, 202),
      'GET /v1/operations/op-9': { id: 'op-9', kind: 'image.delete', state: 'running', progress: 50, step: 'removing copies' },
    });
    renderAs('admin');
    fireEvent.click(await screen.findByRole('button', { name: 'Delete debian-12' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    const dialog = screen.getByRole('dialog', { hidden: true });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete image', hidden: true }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.path === '/v1/images/img-1')).toBe(true));
    expect(await screen.findByRole('progressbar', { name: 'image.delete progress' })).toBeTruthy();
  });

  it('names the instances that keep an image from being deleted', async () => {
    stubApi({
      'GET /v1/images': page([active]),
      'GET /v1/regions': regions,
      'GET /v1/tenants/t-1/residency-policy': policy,
      'DELETE /v1/images/img-1': json(
        { type: '/problems/conflict', title: 'conflict', status: 409, detail: 'instances use this image', blocked_by: [{ kind: 'instance', id: 'i-7', name: 'web-7' }] },
        409,
      ),
    });
    renderAs('member');
    fireEvent.click(await screen.findByRole('button', { name: 'Delete debian-12' }));
    const dialog = screen.getAllByRole('dialog', { hidden: true }).find((d) => d.hasAttribute('open'))!;
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete image', hidden: true }));
    expect(await screen.findByText('instances use this image')).toBeTruthy();
    const link = within(screen.getByRole('list', { name: 'Still used by' })).getByRole('link', { name: 'web-7' });
    expect(link.getAttribute('href')).toBe('/console/instances/i-7');
  });

  it('hides upload and delete from a reader', async () => {
    const calls = stubApi({ 'GET /v1/images': page([active]) });
    renderAs('reader');
    await screen.findByRole('row', { name: /debian-12/ });
    expect(screen.queryByRole('button', { name: 'Upload image' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Delete/ })).toBeNull();
    expect(calls.some((c) => c.path === '/v1/regions')).toBe(false);
  });
});
