// An instance's page: its state updating live, what it is made of and where it runs, actions
// (each confirmed, then the operation's progress), the residency history as a timeline, its
// migrations (operators may start one), and the serial console: interactive for those who may
// write while it runs, the read-only log for everyone.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { api, ApiError, listAll, type Schemas } from '../api/client';
import { ConfirmButton, Loading, OperationProgress, StateBadge, When, ScrollRegion } from '../components/common';
import { MIGRATION_DONE, MigrationList } from '../components/MigrationList';
import { ProblemView } from '../components/ProblemView';
import { ResidencyTimeline } from '../components/ResidencyTimeline';
import { useApi } from '../lib/hooks';
import { idempotencyKey } from '../lib/idempotency';
import { canWrite, useSession } from '../lib/session';
import { NotFound } from './NotFound';
import './tenant.css';

type Instance = Schemas['Instance'];
type Flavor = Schemas['Flavor'];
type Image = Schemas['Image'];
type Host = Schemas['Host'];
type RecordT = Schemas['ResidencyRecord'];
type Migration = Schemas['InstanceMigration'];
type Accepted = Schemas['InstanceAccepted'];
type Action = Schemas['InstanceAction'];

/** States that change by themselves (a worker is on it): the page polls faster then. */
const MOVING = ['scheduling', 'building', 'migrating', 'deleting'];

function Fact({ term, children }: { term: string; children: preact.ComponentChildren }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function MigrateForm({ x, onMigrate, busy }: { x: Instance; onMigrate: (a: Action) => void; busy: boolean }) {
  const running = x.state === 'running';
  const [live, setLive] = useState(running);
  const [host, setHost] = useState('');
  useEffect(() => setLive(running), [running]);
  const hosts = useApi(() => listAll<Host>('/v1/hosts', { state: 'up', region: x.region }), [x.region]);
  const targets = (hosts.data ?? []).filter((h) => h.id !== x.host?.id);
  const movable = x.state === 'running' || x.state === 'stopped';
  return (
    <div class="migrate">
      <fieldset>
        <legend>Kind of migration</legend>
        <label class="inline">
          <input type="radio" name="mig-kind" checked={live} disabled={!running} onChange={() => setLive(true)} /> Live (the guest keeps running)
        </label>
        <label class="inline">
          <input type="radio" name="mig-kind" checked={!live} onChange={() => setLive(false)} /> Cold (stopped, copied, started again if it ran)
        </label>
      </fieldset>
      <label for="mig-host">Target host</label>
      <select id="mig-host" value={host} onChange={(e) => setHost((e.target as HTMLSelectElement).value)}>
        <option value="">Any host the scheduler chooses</option>
        {targets.map((h) => (
          <option key={h.id} value={h.name}>
            {h.name} ({h.region}/{h.zone}, {h.hypervisor})
          </option>
        ))}
      </select>
      <ProblemView error={hosts.error} />
      <div class="actions">
        <ConfirmButton
          label="Migrate"
          confirmLabel="Migrate now"
          disabled={!movable || busy}
          question={`Move ${x.name} ${live ? 'live' : 'cold'} to ${host || 'a host the scheduler chooses'}?`}
          onConfirm={() => onMigrate(host ? { action: 'migrate', live, host } : { action: 'migrate', live })}
        />
        {!movable && <span class="muted">Only a running or stopped instance can move.</span>}
      </div>
    </div>
  );
}

function ConsoleSection({ x }: { x: Instance }) {
  const s = useSession();
  const id = x.id ?? '';
  const [Term, setTerm] = useState<ComponentType<{ instanceId: string }> | null>(null);
  const [open, setOpen] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [log, setLog] = useState<{ text?: string; error?: unknown; busy: boolean } | null>(null);
  const interactive = x.state === 'running' && canWrite(s);

  useEffect(() => {
    if (!open || Term) return;
    import('../components/SerialConsole')
      .then((m) => setTerm(() => m.default))
      .catch((e) => setLoadError(e));
  }, [open, Term]);
  useEffect(() => {
    if (!interactive) setOpen(false);
  }, [interactive]);

  const showLog = async () => {
    setLog({ busy: true, text: log?.text });
    try {
      const text = await api<string>(`/v1/instances/${encodeURIComponent(id)}/console`, { query: { tail_bytes: 65536 }, headers: { Accept: 'text/plain' } });
      setLog({ busy: false, text: String(text ?? '') });
    } catch (e) {
      setLog({ busy: false, error: e, text: log?.text });
    }
  };

  return (
    <section aria-labelledby="h-console">
      <h2 id="h-console">Serial console</h2>
      {interactive ? (
        open ? (
          <>
            <div class="actions">
              <button type="button" onClick={() => setOpen(false)}>
                Close console
              </button>
            </div>
            <ProblemView error={loadError} />
            {Term ? <Term instanceId={id} /> : !loadError && <Loading what="Loading the terminal" />}
          </>
        ) : (
          <div class="actions">
            <button type="button" class="primary" onClick={() => setOpen(true)}>
              Open console
            </button>
            <span class="muted">One session may type at a time.</span>
          </div>
        )
      ) : (
        <p class="muted">
          {x.state !== 'running'
            ? `The interactive console needs a running instance (this one is ${x.state}).`
            : `Your role (${s.role}) may read the console's log, not type into it.`}
        </p>
      )}
      <div class="actions">
        <button type="button" onClick={showLog} disabled={log?.busy}>
          {log?.text !== undefined ? 'Refresh log' : 'Show log'}
        </button>
        {log?.busy && <span role="status">Reading the log…</span>}
      </div>
      <ProblemView error={log?.error} />
      {log?.text !== undefined && (
        <pre class="console-log" tabIndex={0} aria-label="Console log">
          {log.text || '(the log is empty)'}
        </pre>
      )}
    </section>
  );
}

export default function InstanceDetail() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const s = useSession();
  const [op, setOp] = useState<string | null>(null);
  const [actError, setActError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [tick, setTick] = useState(0);

  const [moving, setMoving] = useState(false);
  const inst = useApi(
    () =>
      api<Instance>(`/v1/instances/${encodeURIComponent(id)}`).then((x) => {
        setMoving(MOVING.includes(x.state ?? ''));
        return x;
      }),
    [id],
    moving ? 1500 : 4000,
  );
  const x = inst.data;
  const flavor = useApi(() => (x?.flavor_id ? api<Flavor>(`/v1/flavors/${x.flavor_id}`).catch(() => undefined) : Promise.resolve(undefined)), [x?.flavor_id]);
  const image = useApi(() => (x?.image_id ? api<Image>(`/v1/images/${x.image_id}`).catch(() => undefined) : Promise.resolve(undefined)), [x?.image_id]);
  // Asked once the instance is known: an id the caller may not see answers one 404, not three.
  const seen = x?.id === id;
  const residency = useApi(
    () => (seen ? listAll<RecordT>(`/v1/instances/${encodeURIComponent(id)}/residency`) : Promise.resolve(undefined)),
    [id, seen, tick, x?.residency?.since, x?.host?.id],
  );
  const [migActive, setMigActive] = useState(false);
  const migrations = useApi(
    () =>
      seen
        ? listAll<Migration>(`/v1/instances/${encodeURIComponent(id)}/migrations`).then((l) => {
            setMigActive(l.some((m) => !MIGRATION_DONE.includes(m.state)));
            return l;
          })
        : Promise.resolve(undefined),
    [id, seen, tick],
    migActive || x?.state === 'migrating' ? 2000 : undefined,
  );

  if (inst.error instanceof ApiError && inst.error.status === 404) return <NotFound />;
  if (!x)
    return (
      <section>
        <h1>Instance</h1>
        <ProblemView error={inst.error} />
        {!inst.error && <Loading what="Loading the instance" />}
      </section>
    );

  const act = async (path: string, method: 'POST' | 'DELETE', body?: Action) => {
    setBusy(true);
    setActError(null);
    try {
      const a = await api<Accepted>(path, { method, body, headers: method === 'POST' ? { 'Idempotency-Key': idempotencyKey() } : undefined });
      if (a?.operation?.id) setOp(a.operation.id);
      inst.reload();
    } catch (e) {
      setActError(e);
    } finally {
      setBusy(false);
    }
  };
  const action = (a: Action) => act(`/v1/instances/${encodeURIComponent(id)}/actions`, 'POST', a);

  const st = x.state ?? '';
  const writer = canWrite(s);
  const gone = st === 'deleted' || st === 'deleting';
  // The operation to follow: one this page started, or the one a worker is carrying out now.
  const following = op ?? (MOVING.includes(st) && x.operation_id ? x.operation_id : null);

  return (
    <section class="instance">
      <div class="page-head">
        <h1>{x.name}</h1>
        <StateBadge state={st} />
      </div>
      {x.state_reason && <p class="muted">{x.state_reason}</p>}
      <p>
        <a href="/console/instances">All instances</a>
      </p>

      {writer && !gone && (
        <section aria-labelledby="h-actions">
          <h2 id="h-actions">Actions</h2>
          <div class="actions">
            {st === 'stopped' && <ConfirmButton label="Start" question={`Start ${x.name}?`} disabled={busy} onConfirm={() => action({ action: 'start' })} />}
            {st === 'running' && (
              <>
                <ConfirmButton label="Stop" question={`Stop ${x.name}? Its guest is asked to power off, then forced after a timeout.`} disabled={busy} onConfirm={() => action({ action: 'stop' })} />
                <ConfirmButton label="Reboot" question={`Reboot ${x.name}?`} disabled={busy} onConfirm={() => action({ action: 'reboot' })} />
                <ConfirmButton label="Power off" danger question={`Power ${x.name} off at once (a hard stop, as pulling the plug)? Unsaved data in the guest is lost.`} disabled={busy} onConfirm={() => action({ action: 'hard_stop' })} />
              </>
            )}
            <ConfirmButton
              label="Delete"
              danger
              confirmLabel={`Delete ${x.name}`}
              question={`Delete ${x.name}? Its disks and the ports and volumes it made go with it; this cannot be undone.`}
              disabled={busy || st === 'migrating'}
              onConfirm={() => act(`/v1/instances/${encodeURIComponent(id)}`, 'DELETE')}
            />
          </div>
        </section>
      )}
      {busy && <p role="status">Sending…</p>}
      <ProblemView error={actError} />
      {following && (
        <OperationProgress
          key={following}
          id={following}
          onDone={() => {
            inst.reload();
            setTick((t) => t + 1);
          }}
        />
      )}

      <section aria-labelledby="h-facts">
        <h2 id="h-facts">Details</h2>
        <dl class="facts">
          {s.isOperator && x.tenant_id && (
            <Fact term="Tenant">
              <a href={`/console/operator/tenants/${x.tenant_id}`}>{x.tenant_id === s.tenantId ? s.me.tenant?.name : x.tenant_id.slice(0, 8)}</a>
            </Fact>
          )}
          <Fact term="Workspace">{x.workspace ?? '—'}</Fact>
          <Fact term="Flavor">
            {flavor.data?.name ?? (x.flavor_id ? <code>{x.flavor_id}</code> : '—')}: {x.vcpus} vCPU, {x.memory_mib} MiB, {x.disk_gib} GiB
            {x.gpus ? `, ${x.gpus} GPU` : ''}
          </Fact>
          <Fact term={x.boot_volume ? 'Boots from' : 'Image'}>
            {x.boot_volume ? (
              <a href={`/console/volumes/${x.boot_volume}`}>volume {x.boot_volume.slice(0, 8)}</a>
            ) : image.data ? (
              `${image.data.name} (${image.data.region})`
            ) : (
              <code>{x.image_id ?? '—'}</code>
            )}
          </Fact>
          <Fact term="Region / zone">
            {x.region} / {x.zone}
          </Fact>
          <Fact term="Host">
            {x.host ? s.isOperator && x.host.id ? <a href={`/console/operator/hosts/${x.host.id}`}>{x.host.name}</a> : x.host.name : '—'}
          </Fact>
          <Fact term="Data lives in">
            {x.residency ? (
              <>
                {x.residency.region}, {x.residency.country} ({x.residency.jurisdiction}), {x.residency.datacenter} since <When iso={x.residency.since} />
              </>
            ) : (
              '—'
            )}
          </Fact>
          <Fact term="Addresses">{(x.addresses ?? []).join(', ') || '—'}</Fact>
          {x.anti_affinity_group && <Fact term="Anti-affinity group">{x.anti_affinity_group}</Fact>}
          {x.placement?.strategy && (
            <Fact term="Placement">
              {x.placement.strategy}, {x.placement.considered ?? 0} hosts considered
            </Fact>
          )}
          <Fact term="Created">
            <When iso={x.created_at} />
          </Fact>
          <Fact term="Id">
            <code>{x.id}</code>
          </Fact>
        </dl>
        {(x.nics ?? []).length > 0 && <h3>Network interfaces</h3>}
        {(x.nics ?? []).length > 0 && (
          <ScrollRegion label="Network interfaces table">
            <table aria-label="Network interfaces">
              <thead>
                <tr>
                  <th scope="col">Interface</th>
                  <th scope="col">Address</th>
                  <th scope="col">Public IP</th>
                  <th scope="col">MAC</th>
                  <th scope="col">Network</th>
                  <th scope="col">Link</th>
                </tr>
              </thead>
              <tbody>
                {(x.nics ?? []).map((n, i) => (
                  <tr key={n.port}>
                    <td>eth{i}</td>
                    <td>{n.ip}</td>
                    <td>{n.public_ip ?? '—'}</td>
                    <td>
                      <code>{n.mac}</code>
                    </td>
                    <td>
                      <a href={`/console/networks/${n.network}`}>{n.network.slice(0, 8)}</a>
                    </td>
                    <td>{n.up ? 'up' : 'down'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
        {(x.volumes ?? []).length > 0 && <h3>Volumes</h3>}
        {(x.volumes ?? []).length > 0 && (
          <ScrollRegion label="Volumes table">
            <table aria-label="Volumes">
              <thead>
                <tr>
                  <th scope="col">Device</th>
                  <th scope="col">Volume</th>
                  <th scope="col">Use</th>
                </tr>
              </thead>
              <tbody>
                {(x.volumes ?? []).map((v) => (
                  <tr key={v.id}>
                    <td>{v.device}</td>
                    <td>
                      <a href={`/console/volumes/${v.id}`}>{v.name}</a>
                    </td>
                    <td>{v.boot ? 'boot' : 'data'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
      </section>

      <section aria-labelledby="h-residency">
        <h2 id="h-residency">Residency history</h2>
        <ProblemView error={residency.error} />
        {residency.data ? <ResidencyTimeline records={residency.data} label={`Residency history of ${x.name}`} /> : !residency.error && <Loading what="Reading the residency records" />}
      </section>

      <section aria-labelledby="h-migrations">
        <h2 id="h-migrations">Migrations</h2>
        <ProblemView error={migrations.error} />
        {migrations.data ? <MigrationList items={migrations.data} /> : !migrations.error && <Loading what="Reading migrations" />}
        {s.isOperator && !gone && <MigrateForm x={x} busy={busy} onMigrate={(a) => void action(a)} />}
      </section>

      {!gone && <ConsoleSection x={x} />}
    </section>
  );
}
