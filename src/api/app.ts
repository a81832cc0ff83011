/**
 * The HTTP API: an OpenAPIHono app built from the services it is given. Uses only Web-standard
 * Request/Response, so the same factory runs on any runtime; `main.ts` serves it with @hono/node-server.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Services } from '../app.js';

const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');

const getHealth = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  summary: 'Liveness: the process is up and serving HTTP',
  tags: ['operations'],
  responses: {
    200: { description: 'The process is alive', content: { 'application/json': { schema: HealthSchema } } },
  },
});

export function createApi(_services: Pick<Services, 'logger' | 'readiness'>) {
  const app = new OpenAPIHono();
  app.openapi(getHealth, (c) => c.json({ status: 'ok' as const }, 200));
  return app;
}

export type Api = ReturnType<typeof createApi>;
