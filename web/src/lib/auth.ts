// The login: an API token pasted once and kept in sessionStorage (gone when the tab closes).
// OIDC can come later as another way to obtain the same bearer token.
const KEY = 'sov.token';

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* storage unavailable: nothing kept anyway */
  }
}
