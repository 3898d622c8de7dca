// Who is signed in (GET /v1/me), shared by every page through a context.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me } from '../api/client';

export interface Session {
  me: Me;
  /** Operators see the operator pages and every tenant. */
  isOperator: boolean;
  role: string;
  tenantId: string;
  logout: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in app');
  return s;
}

/** Roles that may change things (create, act, delete) in a tenant. */
export function canWrite(s: Session): boolean {
  return s.isOperator || s.role === 'admin' || s.role === 'member';
}
