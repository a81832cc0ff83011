/**
 * `/metrics` (Prometheus text from every component's `MetricsSource`), `/openapi.json` and the docs UI.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import { type MetricsSource, renderPrometheus } from '../../../observability/metrics.js';
import type { Services } from '../../../services.js';

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
      'from the stream layer (`/stream/...`) or the PostgreSQL warehouse (`/stream/postgresql/...`), plus live ' +
      'server-sent events. Every error has the body `{ "error": { "code", "message", "details"?, "request_id"? } }`.',
  },
  tags: [
    { name: 'stream', description: 'The stream layer (engine outputs)' },
    { name: 'warehouse', description: 'The PostgreSQL warehouse' },
    { name: 'live', description: 'Server-sent events' },
    { name: 'operations', description: 'Health, readiness, metrics' },
  ],
};

/** `own` are the API's own sources (HTTP metrics); `services.metrics` is read at every scrape. */
export function registerOperationsRoutes(
  app: OpenAPIHono,
  services: Pick<Services, 'metrics' | 'logger'>,
  own: MetricsSource[] = [],
) {
  app.openapi(getMetrics, (c) => {
    const text = renderPrometheus([...services.metrics, ...own], (err) =>
      services.logger.warn({ err }, 'metrics_source_failed'),
    );
    return c.text(text, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  app.doc31('/openapi.json', openApiInfo);
  app.get('/docs', Scalar({ url: '/openapi.json', pageTitle: 'telemetry-pipeline API' }));
}
