/**
 * `/metrics` (Prometheus text from the application's prom-client registry: process and HTTP metrics and every
 * component's `MetricsSource`), `/openapi.json` and the docs UI (`/docs`, its script served by the app itself).
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import type { MetricsRegistry } from '../../../observability/metrics.js';
import { API_REFERENCE_SCRIPT_PATH, createApiReferenceScript } from './docs-assets.js';

export const getMetrics = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  summary: 'Prometheus metrics (text exposition format 0.0.4)',
  tags: ['operations'],
  responses: {
    200: {
      description: 'HTTP, SSE, stream layer, simulator, processor, sink and dead-letter metrics',
      content: { 'text/plain': { schema: z.string() } },
    },
  },
});

export const openApiInfo: Parameters<OpenAPIHono['getOpenAPI31Document']>[0] = {
  openapi: '3.1.0',
  info: {
    title: 'telemetry-pipeline API',
    version: '0.1.0',
    description:
      'Live and historical telemetry of moving devices: 2-second window aggregates and latest state per device, ' +
      'from the stream layer (`/stream/...`) or the PostgreSQL warehouse (`/stream/postgresql/...`), a device’s ' +
      'track as GeoJSON (`/devices/{device_id}/track`), plus live server-sent events, and alerts (`/alerts/...`: their history, the active ones, their changes live, the ' +
      'rules). Every error has the body `{ "error": { "code", "message", "details"?, "request_id"? } }`.',
  },
  tags: [
    { name: 'stream', description: 'The stream layer (engine outputs)' },
    { name: 'warehouse', description: 'The PostgreSQL warehouse' },
    { name: 'live', description: 'Server-sent events' },
    { name: 'alerts', description: 'Alert episodes: history (warehouse), active alerts and changes (live), rules' },
    { name: 'operations', description: 'Health, readiness, metrics' },
  ],
};

/**
 * The `/docs` page asks nothing of any host but the app: its script from the app (`cdn` defaults to a CDN), no
 * web fonts (from fonts.scalar.com), no AI agent and no developer toolbar (on localhost by default, both calling
 * Scalar's services through proxy.scalar.com).
 */
const docsConfiguration = {
  url: '/openapi.json',
  pageTitle: 'telemetry-pipeline API',
  cdn: API_REFERENCE_SCRIPT_PATH,
  withDefaultFonts: false,
  showDeveloperTools: 'never',
  // Read by the bundle (@scalar/api-reference 1.46), not yet in the configuration type of this integration.
  agent: { disabled: true },
} as const;

/** `metrics` is the application's registry; it reads the components' sources at every scrape. */
export function registerOperationsRoutes(app: OpenAPIHono, metrics: Pick<MetricsRegistry, 'scrape' | 'contentType'>) {
  app.openapi(getMetrics, async (c) => c.text(await metrics.scrape(), 200, { 'content-type': metrics.contentType }));
  app.doc31('/openapi.json', openApiInfo);
  app.get(API_REFERENCE_SCRIPT_PATH, createApiReferenceScript());
  app.get('/docs', Scalar(docsConfiguration));
}
