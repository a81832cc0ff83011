/**
 * Simulator control: `POST /simulate` starts a run (202), `GET /simulate` reports it, `DELETE /simulate`
 * stops it after flushing. Starting while a run is active answers 409 (no silent replacement). When the
 * configuration sets `API_KEY`, all three require the header `x-api-key`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../../../errors.js';
import type { Services } from '../../../services.js';
import { SimulationRequestSchema } from '../../../simulators/simulation-config.js';
import { SimulationStatusSchema } from '../../../simulators/simulation-status.js';
import { ErrorEnvelopeSchema, errorResponses, validationHook } from '../../errors.js';

const json = (description: string, schema: z.ZodType) => ({ description, content: { 'application/json': { schema } } });

const controlErrors = {
  401: json('`API_KEY` is configured and `x-api-key` is missing or wrong', ErrorEnvelopeSchema),
} as const;

export const startSimulation = createRoute({
  method: 'post',
  path: '/simulate',
  operationId: 'startSimulation',
  summary: 'Start a simulation run; `{}` runs the specification defaults (3 devices, 2 s / 0.5 s)',
  tags: ['simulators'],
  request: { body: { required: false, content: { 'application/json': { schema: SimulationRequestSchema } } } },
  responses: {
    202: json('The run started; its state', SimulationStatusSchema),
    ...controlErrors,
    403: json('A cross-origin request from an origin CORS_ORIGINS does not name', ErrorEnvelopeSchema),
    409: json('A run is already active; stop it with DELETE /simulate first', ErrorEnvelopeSchema),
    422: json(
      'A configured limit (devices, events per second, duration, events in total) is exceeded',
      ErrorEnvelopeSchema,
    ),
    ...errorResponses,
  },
});

export const getSimulation = createRoute({
  method: 'get',
  path: '/simulate',
  operationId: 'getSimulation',
  summary: 'State of the current or last run: configuration, events per topic, rates, errors',
  tags: ['simulators'],
  responses: { 200: json('The run state', SimulationStatusSchema), ...controlErrors, ...errorResponses },
});

export const stopSimulation = createRoute({
  method: 'delete',
  path: '/simulate',
  operationId: 'stopSimulation',
  summary: 'Stop the active run after flushing what it produced (no-op without one)',
  tags: ['simulators'],
  responses: {
    200: json('The final state', SimulationStatusSchema),
    403: json('A cross-origin request from an origin CORS_ORIGINS does not name', ErrorEnvelopeSchema),
    ...controlErrors,
    ...errorResponses,
  },
});

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time comparison of the `x-api-key` header with the configured key (hashes equalise lengths). */
export function requireApiKey(apiKey: string | undefined): MiddlewareHandler {
  const expected = apiKey === undefined ? undefined : sha256(apiKey);
  return async (c, next) => {
    if (expected) {
      const given = c.req.header('x-api-key');
      if (given === undefined || !timingSafeEqual(sha256(given), expected)) {
        throw new AppError('UNAUTHORIZED', 'simulator control requires a valid x-api-key header');
      }
    }
    await next();
  };
}

/** zod reports unknown keys at the parent's path; name each unknown field instead. */
function simulateHook(result: { success: boolean; error?: z.ZodError; target?: string }, c: Context) {
  if (result.success || !result.error) return undefined;
  const issues: z.core.$ZodIssue[] = result.error.issues.flatMap((issue): z.core.$ZodIssue[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ ...issue, path: [...issue.path, key], message: `unknown field ${key}` }))
      : [issue],
  );
  return validationHook({ success: false, target: result.target, error: new z.ZodError(issues) }, c);
}

export function registerSimulateRoutes(app: OpenAPIHono, services: Pick<Services, 'simulator' | 'config'>) {
  app.use('/simulate', requireApiKey(services.config.API_KEY));
  app.openapi(
    startSimulation,
    (c) => {
      const body = c.req.valid('json') ?? {};
      return c.json(services.simulator.startRun(body), 202);
    },
    // The hook answers with the shared error envelope, which the route's typed responses declare for 400;
    // zod-openapi types a hook's return as the route's success responses only, hence the cast.
    (result, c) => simulateHook(result, c) as never,
  );
  app.openapi(getSimulation, (c) => c.json(services.simulator.status(), 200));
  app.openapi(stopSimulation, async (c) => c.json(await services.simulator.stopRun(), 200));
}
