import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import Users from './Users';
import type { Schemas } from '../api/client';
import { Signed, json, page, session, stubApi } from '../test/kit';

const alice: Schemas['User'] = { id: 'u-self', tenant_id: 't-1', name: 'alice', email: 'alice@example.org', role: 'admin', created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z' };
const bob: Schemas['User'] = { id: 'u-bob', tenant_id: 't-1', name: 'bob', email: 'bob@example.org', role: 'reader', created_at: '2026-12-02T10:00:00Z', updated_at: '2026-12-02T10:00:00Z' };
const tokSelf: Schemas['Token'] = { id: 'tok-self', tenant_id: 't-1', user_id: 'u-self', name: 'console', hint: 'sov_AbCdEfGh', created_at: '2026-12-01T10:00:00Z', expires_at: '2027-03-01T10:00:00Z' };
const tokCi: Schemas['Token'] = { id: 'tok-ci', tenant_id: 't-1', user_id: 'u-self', name: 'ci', hint: 'sov_ZyXwVuTs', created_at: '2026-12-03T10:00:00Z', expires_at: null };
const SECRET = 'sov_' + 'S'.repeat(43);

function renderAs(role: string, operator = false) {
  return render(
    <Signed s={session(role, { operator })}>
      <Users />
    </Signed>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('Users and tokens', () => {
  it('lists the tenant users for an admin and creates one', async () => {
    let users = [alice];
    const calls = stubApi({
      'GET /v1/tenants/t-1/users': () => page(users),
      'POST /v1/tenants/t-1/users': (c) => {
        users = [alice, { ...bob, ...(c.body as object) }];
        return json(users[1], 201);
      },
      'GET /v1/tokens': page([tokSelf]),
    });
    renderAs('admin');
    expect(await screen.findByRole('row', { name: /alice \(you\)/ })).toBeTruthy();
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'bob' } });
    fireEvent.input(screen.getByLabelText('Email'), { target: { value: 'bob@example.org' } });
    fireEvent.change(screen.getByLabelText('Role'), { target: { value: 'reader' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create user' }));
    expect(await screen.findByText(/User bob created as reader/)).toBeTruthy();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'bob', email: 'bob@example.org', role: 'reader' });
    expect(await screen.findByRole('row', { name: /bob@example.org/ })).toBeTruthy();
    // Only an operator may grant 'operator'.
    expect(within(screen.getByLabelText('Role')).queryByRole('option', { name: 'operator' })).toBeNull();
  });

  it('shows a refused user next to the field errors[] names', async () => {
    stubApi({
      'GET /v1/tenants/t-1/users': page([alice]),
      'GET /v1/tokens': page([]),
      'POST /v1/tenants/t-1/users': json({ type: '/problems/invalid', title: 'request is invalid', status: 400, errors: [{ field: 'email', message: 'email must be an address' }] }, 400),
    });
    renderAs('admin');
    await screen.findByRole('row', { name: /alice/ });
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'x' } });
    fireEvent.input(screen.getByLabelText('Email'), { target: { value: 'x@y' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create user' }));
    expect(await screen.findByText('email must be an address')).toBeTruthy();
    expect(screen.getByLabelText('Email').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('false');
  });

  it("changes a user's role with PATCH", async () => {
    let current = bob;
    const calls = stubApi({
      'GET /v1/tenants/t-1/users': () => page([alice, current]),
      'PATCH /v1/tenants/t-1/users/u-bob': (c) => {
        current = { ...bob, ...(c.body as object) };
        return current;
      },
      'GET /v1/tokens': page([]),
    });
    renderAs('admin');
    const select = await screen.findByLabelText('Role of bob');
    expect(screen.queryByRole('button', { name: 'Change role of bob' })).toBeNull();
    fireEvent.change(select, { target: { value: 'member' } });
    fireEvent.click(screen.getByRole('button', { name: 'Change role of bob' }));
    expect(await screen.findByText('Role changed')).toBeTruthy();
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ role: 'member' });
    expect((screen.getByLabelText('Role of bob') as HTMLSelectElement).value).toBe('member');
  });

  it('deletes a user after confirmation, and never offers to delete yourself', async () => {
    const calls = stubApi({ 'GET /v1/tenants/t-1/users': page([alice, bob]), 'GET /v1/tokens': page([]), 'DELETE /v1/tenants/t-1/users/u-bob': undefined });
    renderAs('admin');
    expect(((await screen.findByRole('button', { name: 'Delete alice' })) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Delete bob' }));
    const dialogs = screen.getAllByRole('dialog', { hidden: true }).filter((d) => d.hasAttribute('open'));
    expect(dialogs).toHaveLength(1);
    expect(dialogs[0].textContent).toContain('Their tokens stop working');
    fireEvent.click(within(dialogs[0]).getByRole('button', { name: 'Delete user', hidden: true }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.path === '/v1/tenants/t-1/users/u-bob')).toBe(true));
  });

  it("shows a new token's secret once, with a warning, and never again", async () => {
    let tokens = [tokSelf];
    const calls = stubApi({
      'GET /v1/tenants/t-1/users': page([alice]),
      'GET /v1/tokens': () => page(tokens),
      'POST /v1/tokens': (c) => {
        const t = { ...tokCi, name: (c.body as { name: string }).name, hint: SECRET.slice(0, 12) };
        tokens = [tokSelf, t];
        return json({ ...t, secret: SECRET }, 201);
      },
    });
    const writeText = vi.fn(async () => {});
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    renderAs('member');
    await screen.findByRole('row', { name: /console \(this session\)/ });
    fireEvent.input(screen.getByLabelText('Token name'), { target: { value: 'laptop' } });
    fireEvent.input(screen.getByLabelText('Expires on (optional)'), { target: { value: '2027-01-31' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));

    const field = (await screen.findByLabelText('Token secret')) as HTMLInputElement;
    expect(field.value).toBe(SECRET);
    expect(field.readOnly).toBe(true);
    // The form that had the focus is gone: the secret takes it.
    await waitFor(() => expect(document.activeElement).toBe(field));
    expect(screen.getByText(/shown once, here, and never again/)).toBeTruthy();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'laptop', expires_at: '2027-01-31T23:59:59Z' });
    fireEvent.click(screen.getByRole('button', { name: 'Copy secret' }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(SECRET));
    expect(await screen.findByText('Copied to the clipboard.')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'I have copied it, hide the secret' }));
    expect(screen.queryByLabelText('Token secret')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText('Token name')));
    expect(document.body.textContent).not.toContain(SECRET);
    // The list shows the new token by its hint only.
    const row = await screen.findByRole('row', { name: /laptop/ });
    expect(row.textContent).toContain(`${SECRET.slice(0, 12)}…`);
  });

  it('revokes a token after confirmation; revoking your own signs you out', async () => {
    const s = session('member');
    const calls = stubApi({ 'GET /v1/tokens': page([tokSelf, tokCi]), 'DELETE /v1/tokens/tok-ci': undefined, 'DELETE /v1/tokens/tok-self': undefined });
    render(
      <Signed s={s}>
        <Users />
      </Signed>,
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke ci' }));
    let open = screen.getAllByRole('dialog', { hidden: true }).find((d) => d.hasAttribute('open'))!;
    fireEvent.click(within(open).getByRole('button', { name: 'Revoke token', hidden: true }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.path === '/v1/tokens/tok-ci')).toBe(true));
    expect(s.logout).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole('button', { name: 'Revoke console' }));
    open = screen.getAllByRole('dialog', { hidden: true }).find((d) => d.hasAttribute('open') && d.textContent?.includes('signed out'))!;
    fireEvent.click(within(open).getByRole('button', { name: 'Revoke token', hidden: true }));
    await waitFor(() => expect(s.logout).toHaveBeenCalled());
  });

  it('shows a reader only its own tokens: no users, no user list call', async () => {
    const calls = stubApi({ 'GET /v1/tokens': page([tokSelf]) });
    renderAs('reader');
    await screen.findByRole('row', { name: /console/ });
    expect(screen.queryByRole('heading', { name: /Users of/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Create user' })).toBeNull();
    expect(screen.getByText(/Only admins manage users/)).toBeTruthy();
    expect(calls.some((c) => c.path.includes('/users'))).toBe(false);
  });

  it("lets an admin list and create another user's tokens", async () => {
    const calls = stubApi({
      'GET /v1/tenants/t-1/users': page([alice, bob]),
      'GET /v1/tokens': (c) => page(c.query.get('user_id') === 'u-bob' ? [{ ...tokCi, user_id: 'u-bob', name: 'bobs-ci' }] : [tokSelf]),
      'POST /v1/tokens': (c) => json({ ...tokCi, ...(c.body as object), secret: SECRET }, 201),
    });
    renderAs('admin');
    const of = await screen.findByLabelText('Tokens of');
    fireEvent.change(of, { target: { value: 'u-bob' } });
    expect(await screen.findByRole('row', { name: /bobs-ci/ })).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Create a token for bob' })).toBeTruthy();
    fireEvent.input(screen.getByLabelText('Token name'), { target: { value: 'x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    await screen.findByLabelText('Token secret');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'x', user_id: 'u-bob' });
  });
});
