import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/preact';
import { ApiError } from '../api/client';
import { FieldError, ProblemView } from './ProblemView';

describe('ProblemView', () => {
  const err = new ApiError({
    type: '/problems/invalid',
    title: 'Invalid request',
    status: 400,
    detail: 'name: must be lowercase',
    errors: [
      { field: 'name', message: 'must be lowercase' },
      { field: 'flavor', message: 'no such flavor' },
    ],
  });

  it('shows the title, the detail and the field errors not shown elsewhere', () => {
    render(<ProblemView error={err} fields={['name']} />);
    expect(screen.getByRole('alert').textContent).toContain('Invalid request');
    expect(screen.getByRole('alert').textContent).toContain('name: must be lowercase');
    expect(screen.getByText('flavor')).toBeTruthy();
    expect(screen.queryByText('name', { selector: 'code' })).toBeNull();
  });

  it('puts a field error next to its field', () => {
    render(<FieldError error={err} field="name" />);
    expect(screen.getByRole('alert').textContent).toBe('must be lowercase');
  });
});
