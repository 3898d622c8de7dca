// Users and tokens. Admins (and operators) manage their tenant's users: create, change a
// role, delete. Everyone manages API tokens (admins those of their users too): a new token's
// secret is shown once, in a copyable field, and never again; revoking asks first.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, listAll, type Schemas } from '../api/client';
import { useSession, type Session } from '../lib/session';
import { useApi, useField, useSubmit } from '../lib/hooks';
import { Field, fieldAttrs, invalid } from '../components/Field';
import { FieldError, ProblemView } from '../components/ProblemView';
import { ConfirmButton, Empty, Loading, When, ScrollRegion } from '../components/common';
import { NewSecret } from '../components/TokenSecret';
import './Users.css';

type User = Schemas['User'];
type Role = Schemas['Role'];
type Token = Schemas['Token'];
type TokenCreated = Schemas['TokenCreated'];

const TENANT_ROLES: Role[] = ['admin', 'member', 'reader', 'auditor'];

function isAdmin(s: Session): boolean {
  return s.isOperator || s.role === 'admin';
}

function rolesFor(s: Session): Role[] {
  // 'operator' exists only in the operator tenant, and only an operator grants it.
  return s.isOperator ? ['operator', ...TENANT_ROLES] : TENANT_ROLES;
}

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const session = useSession();
  const [name, onName, setName] = useField('');
  const [email, onEmail, setEmail] = useField('');
  const [role, onRole] = useField('member');
  const [created, setCreated] = useState<User | null>(null);

  const { submit, busy, error } = useSubmit(async () => {
    setCreated(null);
    const u = await api<User>(`/v1/tenants/${encodeURIComponent(session.tenantId)}/users`, {
      method: 'POST',
      body: { name: name.trim(), email: email.trim(), role },
    });
    setCreated(u);
    setName('');
    setEmail('');
    onCreated();
  });

  return (
    <form onSubmit={submit} class="card" aria-labelledby="new-user-h">
      <h3 id="new-user-h">Add a user</h3>
      <Field id="user-name" label="Name" field="name" error={error}>
        <input {...fieldAttrs(error, 'name', 'user-name')} aria-invalid={invalid(error, 'name')} value={name} onInput={onName} required maxLength={200} />
      </Field>
      <Field id="user-email" label="Email" field="email" error={error}>
        <input {...fieldAttrs(error, 'email', 'user-email')} aria-invalid={invalid(error, 'email')} type="email" value={email} onInput={onEmail} required />
      </Field>
      <Field id="user-role" label="Role" field="role" error={error}>
        <select {...fieldAttrs(error, 'role', 'user-role')} aria-invalid={invalid(error, 'role')} value={role} onChange={onRole}>
          {rolesFor(session).map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !name.trim() || !email.trim()}>
          {busy ? 'Creating…' : 'Create user'}
        </button>
      </div>
      {created && (
        <p role="status" class="ok-text">
          User {created.name} created as {created.role}. Create a token for them below to let them sign in.
        </p>
      )}
      <ProblemView error={error} fields={['name', 'email', 'role']} />
    </form>
  );
}

function UserRow({ user, self, onChanged }: { user: User; self: boolean; onChanged: () => void }) {
  const session = useSession();
  const [role, setRole] = useState<string>(user.role);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  useEffect(() => setRole(user.role), [user.role]);
  const base = `/v1/tenants/${encodeURIComponent(session.tenantId)}/users/${encodeURIComponent(user.id)}`;
  const roles = rolesFor(session).includes(user.role) ? rolesFor(session) : [user.role, ...rolesFor(session)];

  const save = async () => {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await api<User>(base, { method: 'PATCH', body: { role } });
      setSaved(true);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const selId = `role-${user.id}`;
  return (
    <tr>
      <th scope="row">
        {user.name}
        {self && <span class="muted"> (you)</span>}
      </th>
      <td>{user.email}</td>
      <td>
        <div class="inline-form">
          <select id={selId} aria-label={`Role of ${user.name}`} value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)} aria-invalid={invalid(error, 'role')}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          {role !== user.role && (
            <button type="button" onClick={save} disabled={busy}>
              {busy ? 'Saving…' : `Change role of ${user.name}`}
            </button>
          )}
        </div>
        {saved && role === user.role && (
          <span role="status" class="ok-text">
            Role changed
          </span>
        )}
        <FieldError error={error} field="role" />
      </td>
      <td>
        <When iso={user.created_at} />
      </td>
      <td>
        <ConfirmButton
          label={`Delete ${user.name}`}
          question={`Delete user ${user.name} (${user.email})? Their tokens stop working at once; the audit log keeps their id.`}
          confirmLabel="Delete user"
          danger
          disabled={self}
          onConfirm={async () => {
            setError(null);
            try {
              await api(base, { method: 'DELETE' });
              onChanged();
            } catch (e) {
              setError(e);
            }
          }}
        />
        <ProblemView error={error} fields={['role']} />
      </td>
    </tr>
  );
}

function UsersSection({ users }: { users: ReturnType<typeof useApi<User[]>> }) {
  const session = useSession();
  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">Users of {session.me.tenant?.name ?? 'your tenant'}</h2>
      <ProblemView error={users.error} />
      {users.loading && !users.data ? (
        <Loading what="Loading users" />
      ) : (users.data ?? []).length === 0 ? (
        <Empty>No users.</Empty>
      ) : (
        <ScrollRegion label="Users table">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {(users.data ?? []).map((u) => (
                <UserRow key={u.id} user={u} self={u.id === session.me.user?.id} onChanged={users.reload} />
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <CreateUser onCreated={users.reload} />
    </section>
  );
}

function CreateToken({ forUser, onCreated }: { forUser: User | null; onCreated: () => void }) {
  const session = useSession();
  const [name, onName, setName] = useField('');
  const [expires, onExpires] = useField('');
  const [created, setCreated] = useState<TokenCreated | null>(null);

  const { submit, busy, error } = useSubmit(async () => {
    const body: Record<string, unknown> = { name: name.trim() };
    if (expires) body.expires_at = `${expires}T23:59:59Z`;
    if (forUser && forUser.id !== session.me.user?.id) body.user_id = forUser.id;
    const t = await api<TokenCreated>('/v1/tokens', { method: 'POST', body });
    setCreated(t);
    setName('');
    onCreated();
  });

  const nameField = useRef<HTMLInputElement>(null);
  const [refocus, setRefocus] = useState(false);
  useEffect(() => {
    if (refocus && !created) {
      nameField.current?.focus();
      setRefocus(false);
    }
  }, [refocus, created]);

  if (created)
    return (
      <NewSecret
        token={created}
        onDone={() => {
          setCreated(null);
          setRefocus(true);
        }}
      />
    );
  const who = forUser && forUser.id !== session.me.user?.id ? ` for ${forUser.name}` : '';
  return (
    <form onSubmit={submit} class="card" aria-labelledby="new-token-h">
      <h3 id="new-token-h">Create a token{who}</h3>
      <Field id="token-name" label="Token name" field="name" error={error}>
        <input {...fieldAttrs(error, 'name', 'token-name')} aria-invalid={invalid(error, 'name')} ref={nameField} value={name} onInput={onName} required maxLength={200} placeholder="laptop, ci, …" />
      </Field>
      <Field id="token-expires" label="Expires on (optional)" field="expires_at" error={error} hint="Left empty: sovd's default lifetime (90 days unless the operator set another).">
        <input {...fieldAttrs(error, 'expires_at', 'token-expires', 'token-expires-hint')} aria-invalid={invalid(error, 'expires_at')} type="date" value={expires} onInput={onExpires} />
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !name.trim()}>
          {busy ? 'Creating…' : 'Create token'}
        </button>
      </div>
      <ProblemView error={error} fields={['name', 'expires_at']} />
    </form>
  );
}

function TokensSection({ users }: { users: User[] | null }) {
  const session = useSession();
  const myId = session.me.user?.id ?? '';
  const [userId, setUserId] = useState(myId);
  const tokens = useApi(() => listAll<Token>('/v1/tokens', userId && userId !== myId ? { user_id: userId } : {}), [userId]);
  const [error, setError] = useState<unknown>(null);
  const forUser = users?.find((u) => u.id === userId) ?? null;

  const revoke = async (t: Token) => {
    setError(null);
    try {
      await api(`/v1/tokens/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
      if (t.id === session.me.token?.id) {
        session.logout();
        return;
      }
      tokens.reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section aria-labelledby="tokens-h">
      <h2 id="tokens-h">API tokens</h2>
      {users && users.length > 0 && (
        <div class="filters">
          <div>
            <label for="tokens-of">Tokens of</label>
            <select id="tokens-of" value={userId} onChange={(e) => setUserId((e.target as HTMLSelectElement).value)}>
              {!users.some((u) => u.id === myId) && <option value={myId}>you</option>}
              {users.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name} ({u.role}){u.id === myId ? ' — you' : ''}
                </option>
              ))}
            </select>
          </div>
        </div>
      )}
      <ProblemView error={tokens.error} />
      <ProblemView error={error} />
      {tokens.loading && !tokens.data ? (
        <Loading what="Loading tokens" />
      ) : (tokens.data ?? []).length === 0 ? (
        <Empty>No tokens.</Empty>
      ) : (
        <ScrollRegion label="Tokens table">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Starts with</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {(tokens.data ?? []).map((t) => {
                const current = t.id === session.me.token?.id;
                return (
                  <tr key={t.id}>
                    <th scope="row">
                      {t.name}
                      {current && <span class="muted"> (this session)</span>}
                    </th>
                    <td>
                      <code>{t.hint}…</code>
                    </td>
                    <td>
                      <When iso={t.created_at} />
                    </td>
                    <td>{t.expires_at ? <When iso={t.expires_at} /> : 'never'}</td>
                    <td>
                      <ConfirmButton
                        label={`Revoke ${t.name}`}
                        question={
                          current
                            ? `Revoke ${t.name}? It is the token this session signed in with: you will be signed out.`
                            : `Revoke ${t.name}? Whatever uses it stops working within a second.`
                        }
                        confirmLabel="Revoke token"
                        danger
                        onConfirm={() => revoke(t)}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <CreateToken key={userId} forUser={forUser} onCreated={tokens.reload} />
    </section>
  );
}

export default function Users() {
  const session = useSession();
  const admin = isAdmin(session);
  const users = useApi<User[]>(
    () => (admin ? listAll<User>(`/v1/tenants/${encodeURIComponent(session.tenantId)}/users`) : Promise.resolve([])),
    [admin, session.tenantId],
  );
  return (
    <section class="users-page">
      <h1>Users and tokens</h1>
      {!admin && <p class="muted">Only admins manage users. Here are your own API tokens.</p>}
      {admin && <UsersSection users={users} />}
      <TokensSection users={admin ? (users.data ?? null) : null} />
    </section>
  );
}
