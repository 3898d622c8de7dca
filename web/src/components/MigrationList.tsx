// An instance's migrations (GET /v1/instances/{id}/migrations), oldest first: live or cold,
// from which host to which, state, and libvirt's progress in bytes while it copies.
import type { Schemas } from '../api/client';
import { StateBadge, When, ScrollRegion } from './common';

type Migration = Schemas['InstanceMigration'];

export const MIGRATION_DONE = ['succeeded', 'failed'];

function mib(n: number | null | undefined): string {
  return n === null || n === undefined ? '?' : `${Math.round(n / 1048576)} MiB`;
}

/** Percent of the data (memory and disks) copied so far; null when libvirt has not said. */
export function migrationPercent(m: Migration): number | null {
  const p = m.progress ?? {};
  const total = (p.data_total ?? 0) + (p.disk_total ?? 0);
  if (!total) return null;
  const done = (p.data_processed ?? 0) + (p.disk_processed ?? 0);
  return Math.min(100, Math.round((done / total) * 100));
}

export function MigrationList({ items }: { items: Migration[] }) {
  if (items.length === 0) return <p class="muted">This instance has never moved.</p>;
  return (
    <ScrollRegion label="Migrations table">
      <table aria-label="Migrations">
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Kind</th>
            <th scope="col">From → to</th>
            <th scope="col">State</th>
            <th scope="col">Progress</th>
          </tr>
        </thead>
        <tbody>
          {items.map((m) => {
            const pct = migrationPercent(m);
            const running = !MIGRATION_DONE.includes(m.state);
            return (
              <tr key={m.id}>
                <td>
                  <When iso={m.created_at} />
                </td>
                <td>{m.live ? 'live' : 'cold'}</td>
                <td>
                  {m.source} → {m.target}
                </td>
                <td>
                  <StateBadge state={m.state} />
                  {m.reason && <div class={m.state === 'failed' ? 'bad-text' : 'muted'}>{m.reason}</div>}
                </td>
                <td>
                  {running ? (
                    pct === null ? (
                      <progress aria-label={`Migration to ${m.target}`} />
                    ) : (
                      <>
                        <progress max={100} value={pct} aria-label={`Migration to ${m.target}`} /> {pct}% ({mib(m.progress?.data_processed)} of{' '}
                        {mib(m.progress?.data_total)})
                      </>
                    )
                  ) : m.state === 'succeeded' ? (
                    <span>
                      done <When iso={m.finished_at} />
                      {m.downtime_ms !== null && m.downtime_ms !== undefined && `, ${m.downtime_ms} ms paused`}
                    </span>
                  ) : (
                    <span class="muted">—</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
