/**
 * The HTTP API: an OpenAPIHono app built from the services it is given. Uses only Web-standard
 * Request/Response, so the same factory runs on any runtime; `main.ts` serves it with @hono/node-server.
 *
 * Route groups live in `routes/<group>/` and export a `register<Group>Routes(app, services)` function.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { createMetricsRegistry } from '../observability/metrics.js';
import type { Services } from '../services.js';
import { createErrorHandler, validationHook } from './errors.js';
import { installHttpGuards } from './middleware/http-guards.js';
import { createHttpMetrics } from './middleware/http-metrics.js';
import { registerAlertRoutes } from './routes/alerts/alerts.index.js';
import { registerDeviceRoutes } from './routes/devices/devices.index.js';
import { registerHealthRoutes } from './routes/health/health.routes.js';
import { registerLiveRoutes } from './routes/live/live.index.js';
import { registerOperationsRoutes } from './routes/operations/operations.index.js';
import { registerSimulateRoutes } from './routes/simulate/simulate.routes.js';
import { registerStreamRoutes } from './routes/stream/stream.index.js';
import { registerWebRoutes } from './routes/web/web.routes.js';

export type ApiServices = Services;

export function createApi(services: ApiServices) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError(createErrorHandler(services.logger));
  const metrics = createMetricsRegistry({
    sources: services.metrics,
    onSourceError: (err) => services.logger.warn({ err }, 'metrics_source_failed'),
  });
  const httpMetrics = createHttpMetrics(metrics.registry);
  installHttpGuards(app, services.config, httpMetrics.middleware);
  registerHealthRoutes(app, services);
  registerStreamRoutes(app, services);
  registerDeviceRoutes(app, services);
  registerLiveRoutes(app, services);
  registerAlertRoutes(app, services);
  registerOperationsRoutes(app, metrics);
  registerSimulateRoutes(app, services);
  registerWebRoutes(app, { config: services.config });
  return app;
}

export type Api = ReturnType<typeof createApi>;
