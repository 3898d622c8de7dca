// Tabs as the WAI-ARIA tabs pattern: a tablist of buttons (arrow keys, Home and End move between
// them; Tab goes into the panel), one panel shown. The chosen tab can follow ?tab= in the URL.
import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';

export interface TabDef {
  id: string;
  label: string;
}

export function Tabs({
  label,
  tabs,
  current,
  onChange,
  children,
}: {
  label: string;
  tabs: TabDef[];
  current: string;
  onChange: (id: string) => void;
  children: ComponentChildren;
}) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const idx = Math.max(
    0,
    tabs.findIndex((t) => t.id === current),
  );
  const move = (i: number) => {
    const n = (i + tabs.length) % tabs.length;
    onChange(tabs[n].id);
    refs.current[n]?.focus();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowRight') move(idx + 1);
    else if (e.key === 'ArrowLeft') move(idx - 1);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(tabs.length - 1);
    else return;
    e.preventDefault();
  };
  return (
    <div class="nv-tabs">
      <div role="tablist" aria-label={label} onKeyDown={onKey}>
        {tabs.map((t, i) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={i === idx}
            aria-controls={`panel-${t.id}`}
            tabIndex={i === idx ? 0 : -1}
            ref={(el) => {
              refs.current[i] = el;
            }}
            onClick={() => onChange(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tabs[idx].id}`} aria-labelledby={`tab-${tabs[idx].id}`}>
        {children}
      </div>
    </div>
  );
}

/** The ?tab= of the current URL, else the first tab. */
export function tabFromUrl(tabs: TabDef[], query?: Record<string, string>): string {
  let t = query?.tab;
  if (!t && typeof location !== 'undefined') t = new URLSearchParams(location.search).get('tab') ?? undefined;
  return tabs.some((x) => x.id === t) ? (t as string) : tabs[0].id;
}

/** Keep ?tab= in the URL (replaceState: no new history entry per tab). */
export function tabToUrl(id: string, first: string): void {
  if (typeof history === 'undefined') return;
  const u = new URL(location.href);
  if (id === first) u.searchParams.delete('tab');
  else u.searchParams.set('tab', id);
  history.replaceState(history.state, '', u.pathname + u.search + u.hash);
}
