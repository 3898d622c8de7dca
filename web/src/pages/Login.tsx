// Sign in with an API token (scripts/run prints where the operator's is; sovctl token create
// makes others). It is checked with GET /v1/me before it is kept.
import { useState } from 'preact/hooks';
import { api, type Me } from '../api/client';
import { setToken } from '../lib/auth';
import { FieldError, ProblemView } from '../components/ProblemView';

export function Login({ onLogin }: { onLogin: (me: Me) => void }) {
  const [token, setTokenText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const t = token.trim();
    try {
      const me = await api<Me>('/v1/me', { token: t });
      setToken(t);
      onLogin(me);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="login">
      <h1>sovereign</h1>
      <p>Sign in with an API token. It is kept in this tab only, until you sign out or close it.</p>
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          placeholder="sov_…"
          required
          value={token}
          onInput={(e) => setTokenText((e.target as HTMLInputElement).value)}
          aria-describedby="token-error"
        />
        <FieldError error={error} field="token" id="token-error" />
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <ProblemView error={error} />
    </main>
  );
}
