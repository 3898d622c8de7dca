// Vite builds the console into dist/, which sovd serves at /console/ (console_dir).
// Asset names carry a content hash (cached for a year); index.html is never cached.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

export default defineConfig({
  base: '/console/',
  plugins: [preact()],
  // An address, not "localhost": Vitest starts Vite's server, and a machine with no
  // /etc/hosts (a minimal Debian root, as ../shared/tools/fresh-test makes) cannot resolve it.
  server: { host: '127.0.0.1' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or data: module preloads: the Content-Security-Policy sovd sends
    // allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    globals: false,
    setupFiles: ['src/test/setup.ts'],
  },
});
