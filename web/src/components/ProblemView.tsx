// An API error as the user sees it: the problem's title and detail (and the request id of a
// 5xx). Field errors are shown next to their fields by FieldError; the rest are listed here.
import { ApiError } from '../api/client';

export function ProblemView({ error, fields = [] }: { error: unknown; fields?: string[] }) {
  if (!error) return null;
  if (!(error instanceof ApiError))
    return (
      <div class="problem" role="alert">
        <strong>Something went wrong</strong>
        <p>{String(error)}</p>
      </div>
    );
  const p = error.problem;
  const other = (p.errors ?? []).filter((e) => !fields.includes(e.field));
  return (
    <div class="problem" role="alert">
      <strong>{p.title}</strong>
      {p.detail && <p>{p.detail}</p>}
      {other.length > 0 && (
        <ul>
          {other.map((e) => (
            <li key={e.field}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
      {p.request_id && p.status >= 500 && <p class="muted">Request id {p.request_id}</p>}
    </div>
  );
}

/** The message errors[] gives for one field, shown under that field. */
export function FieldError({ error, field, id }: { error: unknown; field: string; id?: string }) {
  if (!(error instanceof ApiError)) return null;
  const m = error.fieldError(field);
  return m ? (
    <p class="field-error" id={id} role="alert">
      {m}
    </p>
  ) : null;
}
