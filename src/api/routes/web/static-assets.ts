/**
 * Reads the built page's files for the web routes: only plain names under the build folder (the route patterns
 * admit no `/` or `..`), with a content type by extension, cached in memory once read (a build is a few files).
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

export interface StaticAsset {
  body: Buffer;
  contentType: string;
}

export function createStaticAssets(root: string) {
  const cache = new Map<string, StaticAsset>();
  return {
    /** The file at `path` (relative to the root), or undefined when absent or of an unknown type. */
    async read(path: string): Promise<StaticAsset | undefined> {
      const cached = cache.get(path);
      // index.html is read again each time: a rebuild while the app runs names new hashed assets.
      if (cached && path !== 'index.html') return cached;
      const contentType = CONTENT_TYPES[extname(path)];
      if (contentType === undefined || path.split('/').some((part) => part === '..' || part === '')) return undefined;
      try {
        const asset = { body: await readFile(join(root, path)), contentType };
        cache.set(path, asset);
        return asset;
      } catch {
        return undefined;
      }
    },
  };
}
