// Field errors by prefix: errors[] may name "nics[1].subnet" or "ssh_keys[0]"; a form shows
// each under the control it belongs to. fieldsShown() tells ProblemView which not to repeat.
import { ApiError } from '../api/client';

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
