/**
 * Bundles the operations map (`web/`) into `dist/web/`, which the app serves at `/` (`npm run build`).
 * Everything is bundled; nothing is inlined as a data: URL or loaded from another host, so the page passes the
 * app's Content-Security-Policy (`default-src 'self'`).
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'web',
  publicDir: 'public',
  logLevel: 'warn',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: true,
  },
});
