// Labelled form fields for the operator pages: a <label>, an optional hint, the control, and
// the message errors[] gives for the field right under it (aria-invalid, aria-describedby).
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client';
import { FieldError } from './ProblemView';
import './OpsFields.css';

interface Common {
  label: string;
  /** The request field its errors[] entries name. */
  field: string;
  value: string;
  onValue: (v: string) => void;
  error: unknown;
  hint?: ComponentChildren;
  required?: boolean;
  disabled?: boolean;
}

function describedBy(hintId: string | null, errId: string | null): string | undefined {
  return [hintId, errId].filter(Boolean).join(' ') || undefined;
}

function fieldMessage(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.fieldError(field) : undefined;
}

export function TextField({
  label,
  field,
  value,
  onValue,
  error,
  hint,
  required,
  disabled,
  type = 'text',
  placeholder,
  min,
  max,
  step,
  pattern,
  autoComplete = 'off',
  list,
}: Common & {
  type?: 'text' | 'number' | 'email' | 'url';
  placeholder?: string;
  min?: number;
  max?: number;
  step?: number | 'any';
  pattern?: string;
  autoComplete?: string;
  /** The id of a <datalist> of suggestions. */
  list?: string;
}) {
  const id = useId();
  const msg = fieldMessage(error, field);
  const hintId = hint ? `${id}-hint` : null;
  const errId = msg ? `${id}-err` : null;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && (
        <p id={hintId!} class="hint muted">
          {hint}
        </p>
      )}
      <input
        id={id}
        name={field}
        type={type}
        value={value}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
        required={required}
        disabled={disabled}
        placeholder={placeholder}
        min={min}
        max={max}
        step={step}
        pattern={pattern}
        autoComplete={autoComplete}
        list={list}
        aria-invalid={msg ? 'true' : undefined}
        aria-describedby={describedBy(hintId, errId)}
      />
      <FieldError error={error} field={field} id={errId ?? undefined} />
    </div>
  );
}

export function SelectField({
  label,
  field,
  value,
  onValue,
  error,
  hint,
  required,
  disabled,
  options,
}: Common & { options: { value: string; label: string }[] }) {
  const id = useId();
  const msg = fieldMessage(error, field);
  const hintId = hint ? `${id}-hint` : null;
  const errId = msg ? `${id}-err` : null;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && (
        <p id={hintId!} class="hint muted">
          {hint}
        </p>
      )}
      <select
        id={id}
        name={field}
        value={value}
        onChange={(e) => onValue((e.currentTarget as HTMLSelectElement).value)}
        required={required}
        disabled={disabled}
        aria-invalid={msg ? 'true' : undefined}
        aria-describedby={describedBy(hintId, errId)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldError error={error} field={field} id={errId ?? undefined} />
    </div>
  );
}

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
