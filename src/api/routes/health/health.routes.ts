/**
 * Operations endpoints: liveness (`/health`) and readiness (`/ready`, 503 naming what is not ready).
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { isAppError } from '../../../errors.js';
import type { Services } from '../../../services.js';
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

/**
 * Bounds `/ready` when a dependency does not answer: the Kafka client retries an unreachable broker for about
 * 3 s before it fails.
 */
const READINESS_CHECK_TIMEOUT_MS = 2000;
const TIMED_OUT = Symbol('timed out');

export function registerHealthRoutes(app: OpenAPIHono, services: Pick<Services, 'readiness'>) {
  app.openapi(getHealth, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(getReady, async (c) => {
    const results = await Promise.all(
      services.readiness.map(async (probe) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          // A dependency that does not answer (a broker that went away) is not ready: answer in bounded time.
          await Promise.race([
            probe.check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(TIMED_OUT), READINESS_CHECK_TIMEOUT_MS);
            }),
          ]);
          return [probe.name, { ok: true }] as const;
        } catch (err) {
          const message = isAppError(err)
            ? err.message
            : err === TIMED_OUT
              ? `${probe.name} did not answer within ${READINESS_CHECK_TIMEOUT_MS} ms`
              : `${probe.name} check failed`;
          return [probe.name, { ok: false, message }] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ready = results.every(([, r]) => r.ok);
    return c.json({ status: ready ? ('ready' as const) : ('not_ready' as const), checks }, ready ? 200 : 503);
  });
}
