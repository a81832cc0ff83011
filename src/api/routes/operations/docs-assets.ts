/**
 * The script of the `/docs` page: the Scalar API reference's standalone browser build (`@scalar/api-reference`,
 * `dist/browser/standalone.js`, about 3.5 MB, 1 MB gzipped), served by the app itself, so the page loads nothing
 * from a CDN (by default `@scalar/hono-api-reference` points the browser at one). Read from `node_modules` on
 * the first request and kept in memory with a gzipped copy; a Node-only module, as reading a file must be.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Context } from 'hono';

/** Where `/docs` loads its script from. */
export const API_REFERENCE_SCRIPT_PATH = '/docs/assets/api-reference.js';

interface Bundle {
  body: Uint8Array<ArrayBuffer>;
  gzipped: Uint8Array<ArrayBuffer>;
  etag: string;
}

async function loadBundle(): Promise<Bundle> {
  const file = createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js');
  // Copied once into Uint8Arrays over plain ArrayBuffers, the body type Hono takes (a Buffer's may be shared).
  const body = new Uint8Array(await readFile(file));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, gzipped: new Uint8Array(await promisify(gzip)(body)), etag };
}

/** The handler of `API_REFERENCE_SCRIPT_PATH`: the bundle, gzipped when the client accepts it, with an ETag. */
export function createApiReferenceScript() {
  let bundle: Promise<Bundle> | undefined;
  return async (c: Context) => {
    bundle ??= loadBundle().catch((err: unknown) => {
      // Not cached: a later request tries again (e.g. after `npm ci` finished).
      bundle = undefined;
      throw err;
    });
    const { body, gzipped, etag } = await bundle;
    // A day: the file changes only with the package version, and the ETag makes a revalidation cheap.
    const headers = { ETag: etag, 'Cache-Control': 'public, max-age=86400', Vary: 'Accept-Encoding' };
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
    const acceptsGzip = /\bgzip\b/i.test(c.req.header('accept-encoding') ?? '');
    return c.body(acceptsGzip ? gzipped : body, 200, {
      ...headers,
      'Content-Type': 'text/javascript; charset=utf-8',
      ...(acceptsGzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
  };
}
