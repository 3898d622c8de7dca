import { ApiError } from '../api/client';

/** aria-invalid for a field: true when the error's errors[] names it. */
export function invalid(error: unknown, field: string): boolean {
  return error instanceof ApiError && error.fieldError(field) !== undefined;
}
