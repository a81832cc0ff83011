/**
 * The operations map (docs/web.md): `GET /web/config.json`, the page's settings (in OpenAPI), and the built page
 * itself — `GET /` and its assets from `dist/web/` (`npm run build` bundles `web/` with Vite). Every page response
 * carries a strict Content-Security-Policy: the page may talk to the app only, plus the tile host when
 * `MAP_TILE_URL` is set.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Config } from '../../../config.js';
import { tileOrigin } from '../../../config.js';
import { createStaticAssets } from './static-assets.js';

const WebConfigSchema = z
  .object({
    tile_url: z.string().nullable().describe('MAP_TILE_URL: raster tile template, null for no base map'),
    tile_attribution: z.string().nullable().describe('MAP_TILE_ATTRIBUTION'),
    api_key_required: z.boolean().describe('Whether simulator control needs `x-api-key` (API_KEY is set)'),
  })
  .openapi('WebConfig');

export const getWebConfig = createRoute({
  method: 'get',
  path: '/web/config.json',
  operationId: 'getWebConfig',
  summary: "The operations map's settings: base-map tiles and whether simulator control needs an API key",
  tags: ['operations'],
  responses: {
    200: { description: 'The settings', content: { 'application/json': { schema: WebConfigSchema } } },
  },
});

/** The page's Content-Security-Policy: nothing but the app, plus the tile origin for images when configured. */
export function contentSecurityPolicy(config: Pick<Config, 'MAP_TILE_URL'>): string {
  const images = config.MAP_TILE_URL ? `'self' ${tileOrigin(config.MAP_TILE_URL)}` : `'self'`;
  return [
    `default-src 'self'`,
    `img-src ${images}`,
    `script-src 'self'`,
    `style-src 'self'`,
    `connect-src 'self'`,
    `font-src 'self'`,
    `object-src 'none'`,
    `base-uri 'none'`,
    `form-action 'self'`,
    `frame-ancestors 'none'`,
  ].join('; ');
}

/** Where `npm run build` writes the page: `dist/web/`, from `src/api/routes/web/` and `dist/api/routes/web/` alike. */
export const defaultWebRoot = new URL('../../../../dist/web/', import.meta.url).pathname;

export interface WebRoutesOptions {
  config: Pick<Config, 'MAP_TILE_URL' | 'MAP_TILE_ATTRIBUTION' | 'API_KEY'>;
  /** The built page's folder; `dist/web/` by default. */
  root?: string;
}

export function registerWebRoutes(app: OpenAPIHono, { config, root = defaultWebRoot }: WebRoutesOptions) {
  app.openapi(getWebConfig, (c) =>
    c.json(
      {
        tile_url: config.MAP_TILE_URL ?? null,
        tile_attribution: config.MAP_TILE_ATTRIBUTION ?? null,
        api_key_required: config.API_KEY !== undefined,
      },
      200,
    ),
  );
  const assets = createStaticAssets(root);
  const csp = contentSecurityPolicy(config);
  const pageHeaders = {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  const serve = (path: string) => async (c: Context) => {
    const asset = await assets.read(path);
    if (!asset) {
      return c.text(
        path === 'index.html' ? 'The map is not built yet: run `npm run build`.\n' : 'Not found\n',
        path === 'index.html' ? 503 : 404,
        pageHeaders,
      );
    }
    return c.body(new Uint8Array(asset.body), 200, {
      ...pageHeaders,
      'content-type': asset.contentType,
      // Vite names assets by content hash; the page itself must be revalidated so a new build shows at once.
      'cache-control': path.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  };
  app.get('/', serve('index.html'));
  app.get('/favicon.svg', serve('favicon.svg'));
  app.get('/assets/:file{[A-Za-z0-9._-]+}', (c) => serve(`assets/${c.req.param('file')}`)(c));
}
