// Vitest: unmount what each test rendered (testing-library cleans up by itself only with globals).
import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/preact';

afterEach(() => cleanup());
