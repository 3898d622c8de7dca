// The console's shell: the login gate, the navigation (tenant, compliance, operator) and the
// routes. Pages load lazily, so the first page carries only what it shows.
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Router, Route, lazy, ErrorBoundary, useLocation } from 'preact-iso';
import { api, setUnauthenticatedHandler, type Me } from './api/client';
import { clearToken, getToken } from './lib/auth';
import { SessionContext, type Session } from './lib/session';
import { Login } from './pages/Login';
import { NotFound } from './pages/NotFound';

/* Tenant pages */
const Overview = lazy(() => import('./pages/Overview'));
const Instances = lazy(() => import('./pages/Instances'));
const InstanceCreate = lazy(() => import('./pages/InstanceCreate'));
const InstanceDetail = lazy(() => import('./pages/InstanceDetail'));
const Images = lazy(() => import('./pages/Images'));
const Users = lazy(() => import('./pages/Users'));
const Audit = lazy(() => import('./pages/Audit'));
const Networks = lazy(() => import('./pages/Networks'));
const NetworkDetail = lazy(() => import('./pages/NetworkDetail'));
const Volumes = lazy(() => import('./pages/Volumes'));
const VolumeDetail = lazy(() => import('./pages/VolumeDetail'));
/* Compliance */
const Compliance = lazy(() => import('./pages/Compliance'));
/* Operator */
const Regions = lazy(() => import('./pages/Regions'));
const Hosts = lazy(() => import('./pages/Hosts'));
const HostDetail = lazy(() => import('./pages/HostDetail'));
const Flavors = lazy(() => import('./pages/Flavors'));
const Tenants = lazy(() => import('./pages/Tenants'));
const TenantDetail = lazy(() => import('./pages/TenantDetail'));

export const BASE = '/console';

interface NavItem {
  href: string;
  label: string;
  operator?: boolean;
}

const NAV: { title: string; items: NavItem[] }[] = [
  {
    title: 'Tenant',
    items: [
      { href: `${BASE}/`, label: 'Overview' },
      { href: `${BASE}/instances`, label: 'Instances' },
      { href: `${BASE}/images`, label: 'Images' },
      { href: `${BASE}/networks`, label: 'Networks' },
      { href: `${BASE}/volumes`, label: 'Volumes' },
      { href: `${BASE}/users`, label: 'Users and tokens' },
      { href: `${BASE}/audit`, label: 'Audit log' },
    ],
  },
  { title: 'Compliance', items: [{ href: `${BASE}/compliance`, label: 'Data residency' }] },
  {
    title: 'Operator',
    items: [
      { href: `${BASE}/operator/regions`, label: 'Regions', operator: true },
      { href: `${BASE}/operator/hosts`, label: 'Hosts', operator: true },
      { href: `${BASE}/operator/flavors`, label: 'Flavors', operator: true },
      { href: `${BASE}/operator/tenants`, label: 'Tenants', operator: true },
    ],
  },
];

function Nav({ session }: { session: Session }) {
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  return (
    <nav class={open ? 'nav open' : 'nav'} aria-label="Main">
      <button type="button" class="nav-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        Menu
      </button>
      <div class="nav-groups">
        {NAV.map((g) => {
          const items = g.items.filter((i) => !i.operator || session.isOperator);
          if (items.length === 0) return null;
          return (
            <div class="nav-group" key={g.title}>
              <h2>{g.title}</h2>
              <ul>
                {items.map((i) => (
                  <li key={i.href}>
                    <a href={i.href} aria-current={path === i.href ? 'page' : undefined} onClick={() => setOpen(false)}>
                      {i.label}
                    </a>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </div>
    </nav>
  );
}

function Shell({ session }: { session: Session }) {
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={`${BASE}/`}>
          sovereign
        </a>
        <span class="who">
          {session.me.user?.name} · {session.me.tenant?.name} · {session.role}
        </span>
        <button type="button" onClick={session.logout}>
          Sign out
        </button>
      </header>
      <div class="layout">
        <Nav session={session} />
        <main id="main" tabIndex={-1}>
          <ErrorBoundary>
            <Router>
              <Route path={`${BASE}/`} component={Overview} />
              <Route path={`${BASE}/instances`} component={Instances} />
              <Route path={`${BASE}/instances/new`} component={InstanceCreate} />
              <Route path={`${BASE}/instances/:id`} component={InstanceDetail} />
              <Route path={`${BASE}/images`} component={Images} />
              <Route path={`${BASE}/networks`} component={Networks} />
              <Route path={`${BASE}/networks/:id`} component={NetworkDetail} />
              <Route path={`${BASE}/volumes`} component={Volumes} />
              <Route path={`${BASE}/volumes/:id`} component={VolumeDetail} />
              <Route path={`${BASE}/users`} component={Users} />
              <Route path={`${BASE}/audit`} component={Audit} />
              <Route path={`${BASE}/compliance`} component={Compliance} />
              <Route path={`${BASE}/operator/regions`} component={Regions} />
              <Route path={`${BASE}/operator/hosts`} component={Hosts} />
              <Route path={`${BASE}/operator/hosts/:id`} component={HostDetail} />
              <Route path={`${BASE}/operator/flavors`} component={Flavors} />
              <Route path={`${BASE}/operator/tenants`} component={Tenants} />
              <Route path={`${BASE}/operator/tenants/:id`} component={TenantDetail} />
              <Route default component={NotFound} />
            </Router>
          </ErrorBoundary>
        </main>
      </div>
    </SessionContext.Provider>
  );
}

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(getToken() !== null);

  const logout = () => {
    clearToken();
    setMe(null);
  };

  useEffect(() => {
    setUnauthenticatedHandler(() => setMe(null));
    if (!getToken()) return;
    api<Me>('/v1/me')
      .then(setMe)
      .catch(() => clearToken())
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <p class="loading" role="status">Loading…</p>;
  if (!me) return <Login onLogin={setMe} />;
  const session: Session = {
    me,
    isOperator: me.tenant?.is_operator === true,
    role: String(me.role ?? ''),
    tenantId: me.tenant?.id ?? '',
    logout,
  };
  return (
    <LocationProvider>
      <Shell session={session} />
    </LocationProvider>
  );
}
