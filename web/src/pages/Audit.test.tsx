import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import Audit from './Audit';
import { Signed, json, page, session, stubApi } from '../test/kit';

const entry = (seq: number, action = 'instances.create') => ({
  seq,
  at: '2026-12-07T10:00:00Z',
  request_id: `r${seq}`,
  tenant_id: 't-1',
  user_id: 'u-self',
  token_id: 'tok-self',
  role: 'admin',
  action,
  resource_type: 'instance',
  resource_id: `i-${seq}`,
  outcome: 202,
  source: '127.0.0.1',
  prev_hash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
});

function renderAs(role: string, operator = false) {
  return render(
    <Signed s={session(role, { operator })}>
      <Audit />
    </Signed>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('Audit log', () => {
  it('names the user of an entry when an admin may read the users', async () => {
    stubApi({
      'GET /v1/audit/verify': { ok: true, entries: 1 },
      'GET /v1/audit': page([entry(1)]),
      'GET /v1/tenants/t-1/users': page([{ id: 'u-self', tenant_id: 't-1', name: 'alice', email: 'a@b.c', role: 'admin', created_at: '', updated_at: '' }]),
    });
    renderAs('admin');
    const row = await screen.findByRole('row', { name: /instances\.create/ });
    await waitFor(() => expect(row.querySelector('strong')?.textContent).toBe('alice'));
  });

  it('shows a verified chain in green words', async () => {
    const calls = stubApi({ 'GET /v1/audit/verify': { ok: true, entries: 42 }, 'GET /v1/audit': page([entry(1)]) });
    renderAs('auditor');
    const v = await screen.findByText('Chain verified');
    expect(v.closest('.verdict')?.className).toContain('good');
    expect(v.closest('.verdict')?.textContent).toContain('42 entries');
    expect(await screen.findByRole('row', { name: /instances\.create/ })).toBeTruthy();
    // An auditor may not list users: none asked for.
    expect(calls.some((c) => c.path.includes('/users'))).toBe(false);
  });

  it('shows a broken chain in red, with where it broke', async () => {
    stubApi({ 'GET /v1/audit/verify': { ok: false, entries: 42, first_broken: { seq: 17, reason: 'hash does not match the entry' } }, 'GET /v1/audit': page([]) });
    renderAs('admin');
    const alert = await screen.findByText('Chain broken');
    const box = alert.closest('.verdict')!;
    expect(box.className).toContain('broken');
    expect(box.getAttribute('role')).toBe('alert');
    expect(box.textContent).toContain('#17: hash does not match the entry');
    expect(screen.queryByText('Chain verified')).toBeNull();
  });

  it('sends the filters the route offers and follows next for more', async () => {
    const calls = stubApi({
      'GET /v1/audit/verify': { ok: true, entries: 3 },
      'GET /v1/audit': (c) =>
        c.query.get('after') === '2' ? page([entry(3, 'images.create')]) : c.query.get('action') ? page([entry(1), entry(2)], '/v1/audit?limit=100&after=2&action=x') : page([]),
    });
    renderAs('admin', true);
    await screen.findByText('No entries match.');
    fireEvent.input(screen.getByLabelText('Action'), { target: { value: 'instances.create' } });
    fireEvent.input(screen.getByLabelText('Resource type'), { target: { value: 'instance' } });
    fireEvent.input(screen.getByLabelText('Tenant id'), { target: { value: 't-2' } });
    fireEvent.input(screen.getByLabelText('Since'), { target: { value: '2026-12-01T08:30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await screen.findByRole('row', { name: /i-2/ });
    const q = calls.filter((c) => c.path === '/v1/audit').at(-1)!.query;
    expect(q.get('action')).toBe('instances.create');
    expect(q.get('resource_type')).toBe('instance');
    expect(q.get('tenant_id')).toBe('t-2');
    expect(q.get('since')).toBe(new Date('2026-12-01T08:30').toISOString().replace(/\.000Z$/, 'Z'));
    expect(q.get('user_id')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'More entries' }));
    expect(await screen.findByRole('row', { name: /images\.create/ })).toBeTruthy();
    expect(screen.getAllByRole('row')).toHaveLength(4);
    expect(screen.queryByRole('button', { name: 'More entries' })).toBeNull();
  });

  it('jumps to the last 24 hours', async () => {
    const calls = stubApi({ 'GET /v1/audit/verify': { ok: true, entries: 0 }, 'GET /v1/audit': page([]) });
    renderAs('auditor');
    await screen.findByText('No entries match.');
    fireEvent.click(screen.getByRole('button', { name: 'Show the last 24 hours' }));
    await waitFor(() => expect(calls.filter((c) => c.path === '/v1/audit').at(-1)!.query.get('since')).not.toBeNull());
    const since = Date.parse(calls.filter((c) => c.path === '/v1/audit').at(-1)!.query.get('since')!);
    expect(Math.abs(Date.now() - 24 * 3600_000 - since)).toBeLessThan(120_000);
    expect((screen.getByLabelText('Since') as HTMLInputElement).value).not.toBe('');
  });

  it('marks the filter the API refuses', async () => {
    stubApi({
      'GET /v1/audit/verify': { ok: true, entries: 0 },
      'GET /v1/audit': (c) =>
        c.query.get('user_id')
          ? json({ type: '/problems/invalid', title: 'request is invalid', status: 400, errors: [{ field: 'user_id', message: 'user_id must be a user id' }] }, 400)
          : page([]),
    });
    renderAs('admin');
    await screen.findByText('No entries match.');
    fireEvent.input(screen.getByLabelText('User id'), { target: { value: 'bob' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(await screen.findByText('user_id must be a user id')).toBeTruthy();
    await waitFor(() => expect(screen.getByLabelText('User id').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.queryByLabelText('Tenant id')).toBeNull();
  });

  it('tells a member the log is not theirs to read, asking nothing', async () => {
    const calls = stubApi({});
    renderAs('member');
    expect(screen.getByRole('heading', { level: 1, name: 'Audit log' })).toBeTruthy();
    expect(screen.getByText(/Only admins, auditors and operators read the audit log/)).toBeTruthy();
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toHaveLength(0);
  });
});
