/**
 * Operations endpoints: liveness (`/health`) and readiness (`/ready`, 503 naming what is not ready).
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Services } from '../../../app.js';
import { isAppError } from '../../../errors.js';
import { ErrorEnvelopeSchema } from '../../errors.js';

const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');
const ReadySchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), message: z.string().optional() })),
  })
  .openapi('Readiness');

export const getHealth = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  summary: 'Liveness: the process is up and serving HTTP',
  tags: ['operations'],
  responses: {
    200: { description: 'The process is alive', content: { 'application/json': { schema: HealthSchema } } },
  },
});

export const getReady = createRoute({
  method: 'get',
  path: '/ready',
  operationId: 'getReady',
  summary: 'Readiness: Kafka and PostgreSQL reachable and the engine running',
  tags: ['operations'],
  responses: {
    200: { description: 'Every dependency answers', content: { 'application/json': { schema: ReadySchema } } },
    503: {
      description: 'At least one dependency is not ready; `checks` names it',
      content: { 'application/json': { schema: ReadySchema.or(ErrorEnvelopeSchema) } },
    },
  },
});

export function registerHealthRoutes(app: OpenAPIHono, services: Pick<Services, 'readiness'>) {
  app.openapi(getHealth, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(getReady, async (c) => {
    const results = await Promise.all(
      services.readiness.map(async (probe) => {
        try {
          await probe.check();
          return [probe.name, { ok: true }] as const;
        } catch (err) {
          const message = isAppError(err) ? err.message : `${probe.name} check failed`;
          return [probe.name, { ok: false, message }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ready = results.every(([, r]) => r.ok);
    return c.json({ status: ready ? ('ready' as const) : ('not_ready' as const), checks }, ready ? 200 : 503);
  });
}
