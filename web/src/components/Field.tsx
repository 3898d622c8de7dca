// Form fields, one way for every page: a <label>, the control, a hint, and the message errors[]
// gives for the field under it; the control carries aria-invalid and aria-describedby (the
// error, and the hint where it is read before the control). errors[] may also name parts of a
// field ("nics[1].subnet"): FieldErrors shows those by prefix, fieldsShown() tells ProblemView
// which not to repeat.
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import { ApiError } from '../api/client';
import { FieldError } from './ProblemView';

/** aria-invalid for a field: true when the error's errors[] names it. */
export function invalid(error: unknown, field: string): boolean {
  return error instanceof ApiError && error.fieldError(field) !== undefined;
}

/** The attributes that tie a control to its label and its field error (and to `described`). */
export function fieldAttrs(error: unknown, field: string, id: string, described?: string) {
  const bad = invalid(error, field);
  const by = [described, bad ? `${id}-error` : undefined].filter(Boolean).join(' ');
  return { id, 'aria-invalid': bad ? ('true' as const) : undefined, 'aria-describedby': by || undefined };
}

/**
 * A label, the control (children, given fieldAttrs(error, field, id)), a hint (under the control,
 * or between label and control with hintFirst), the field's error (id `${id}-error`).
 */
export function Field({
  id,
  label,
  field,
  error,
  hint,
  hintFirst,
  children,
}: {
  id: string;
  label: string;
  field: string;
  error: unknown;
  hint?: ComponentChildren;
  hintFirst?: boolean;
  children: ComponentChildren;
}) {
  const h = hint ? (
    <p id={`${id}-hint`} class="hint muted">
      {hint}
    </p>
  ) : null;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hintFirst && h}
      {children}
      {!hintFirst && h}
      <FieldError error={error} field={field} id={`${id}-error`} />
    </div>
  );
}

interface Common {
  label: string;
  /** The request field its errors[] entries name. */
  field: string;
  value: string;
  onValue: (v: string) => void;
  error: unknown;
  /** Read before the control, and described by. */
  hint?: ComponentChildren;
  required?: boolean;
  disabled?: boolean;
}

/** A Field around an <input>, its id made up; the other props go to the input. */
export function TextField({
  label,
  field,
  onValue,
  error,
  hint,
  type = 'text',
  autoComplete = 'off',
  ...input
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
  return (
    <Field id={id} label={label} field={field} error={error} hint={hint} hintFirst>
      <input
        {...fieldAttrs(error, field, id, hint ? `${id}-hint` : undefined)}
        {...input}
        name={field}
        type={type}
        autoComplete={autoComplete}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
      />
    </Field>
  );
}

/** A Field around a <select> of options, its id made up. */
export function SelectField({ label, field, onValue, error, hint, options, ...select }: Common & { options: { value: string; label: string }[] }) {
  const id = useId();
  return (
    <Field id={id} label={label} field={field} error={error} hint={hint} hintFirst>
      <select
        {...fieldAttrs(error, field, id, hint ? `${id}-hint` : undefined)}
        {...select}
        name={field}
        onChange={(e) => onValue((e.currentTarget as HTMLSelectElement).value)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

export function fieldMatches(field: string, prefix: string, exact = false): boolean {
  if (field === prefix) return true;
  return !exact && (field.startsWith(`${prefix}[`) || field.startsWith(`${prefix}.`));
}

export function fieldMessages(error: unknown, prefix: string, exact = false): string[] {
  if (!(error instanceof ApiError)) return [];
  return (error.problem.errors ?? []).filter((e) => fieldMatches(e.field, prefix, exact)).map((e) => (e.field === prefix ? e.message : `${e.field}: ${e.message}`));
}

/** The fields of errors[] that one of the prefixes covers (shown next to a control). */
export function fieldsShown(error: unknown, prefixes: string[]): string[] {
  if (!(error instanceof ApiError)) return [];
  return (error.problem.errors ?? []).map((e) => e.field).filter((f) => prefixes.some((p) => fieldMatches(f, p)));
}

/** Every errors[] message under a prefix ("nics" covers "nics[1].subnet"), under its control. */
export function FieldErrors({ error, prefix, id, exact }: { error: unknown; prefix: string; id: string; exact?: boolean }) {
  const ms = fieldMessages(error, prefix, exact);
  if (ms.length === 0) return null;
  return (
    <div class="field-error" id={id} role="alert">
      {ms.map((m, i) => (
        <p key={i}>{m}</p>
      ))}
    </div>
  );
}
