// The operator pages' form helpers (their fields are components/Field.tsx): a button that opens
// a form in its place, lists and numbers typed in a field, MiB as text.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import './OpsFields.css';

/** Split "a, b c" into ["a", "b", "c"]. */
export function splitList(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** A number input's value as a number, or undefined when empty. */
export function numberOrUndefined(s: string): number | undefined {
  if (s.trim() === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** MiB as GiB text when large ("2 GiB", "512 MiB"). */
export function mib(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} GiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} GiB`;
  return `${n} MiB`;
}

/**
 * A button that opens a form in its place: the form's first field gets focus, and close()
 * (its Cancel) puts the button back, focused.
 */
export function Reveal({ opener, children }: { opener: string; children: (close: () => void) => ComponentChildren }) {
  const [open, setOpen] = useState(false);
  const [returning, setReturning] = useState(false);
  const btn = useRef<HTMLButtonElement>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (open) box.current?.querySelector<HTMLElement>('input, select, textarea')?.focus();
    else if (returning) btn.current?.focus();
  }, [open, returning]);
  if (!open)
    return (
      <div class="actions">
        <button
          ref={btn}
          type="button"
          class="primary"
          aria-expanded="false"
          onClick={() => {
            setReturning(false);
            setOpen(true);
          }}
        >
          {opener}
        </button>
      </div>
    );
  return (
    <div ref={box}>
      {children(() => {
        setReturning(true);
        setOpen(false);
      })}
    </div>
  );
}
