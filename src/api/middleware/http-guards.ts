/**
 * Cross-cutting HTTP behaviour, installed before every route: request ids, metrics, CORS, body size limit and
 * a timeout for every non-streaming route (SSE responses stay open by design).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { timeout } from 'hono/timeout';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';
import { errorResponse } from '../errors.js';

export type GuardConfig = Pick<Config, 'CORS_ORIGINS' | 'BODY_LIMIT_BYTES' | 'REQUEST_TIMEOUT_MS'>;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A browser's `Origin` names the page's scheme, host and port; the app's own pages come from its `Host`. */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Routes that stream (server-sent events) are exempt from the request timeout. */
export const isStreamingPath = (path: string) => path.endsWith('/events');

export function installHttpGuards(app: OpenAPIHono, config: GuardConfig, metrics: MiddlewareHandler) {
  app.use('*', requestId());
  app.use('*', metrics);
  const origins = config.CORS_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  const corsGuard = cors({
    origin: origins.length === 0 || origins.includes('*') ? '*' : origins,
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: ['content-type', 'x-api-key', 'last-event-id', 'x-request-id'],
    exposeHeaders: ['Link', 'X-Next-Cursor', 'X-Request-Id'],
    maxAge: 600,
  });
  // Browsers send Origin on every cross-origin request; skipping CORS work otherwise keeps @hono/node-server
  // on its fast path (rebuilding the response's headers costs several times the handler itself).
  app.use('*', (c, next) => (c.req.header('origin') === undefined ? next() : corsGuard(c, next)));
  // CORS only tells a browser whether a page may read the answer; the request itself has already run. So a
  // cross-origin request that changes state (starting simulations that write into the production topics) is
  // refused outright, unless its origin is listed by name: any web page a user opens could send one.
  const mutatingOrigins = new Set(origins.filter((o) => o !== '*'));
  app.use('*', async (c, next) => {
    const origin = c.req.header('origin');
    if (origin === undefined || SAFE_METHODS.has(c.req.method) || mutatingOrigins.has(origin)) return next();
    if (isSameOrigin(origin, c.req.header('host'))) return next();
    return errorResponse(
      c,
      new AppError('FORBIDDEN', `cross-origin ${c.req.method} refused: list the origin in CORS_ORIGINS to allow it`, {
        details: { origin },
      }),
    );
  });
  const limitGuard = bodyLimit({
    maxSize: config.BODY_LIMIT_BYTES,
    onError: (c) =>
      errorResponse(
        c,
        new AppError('PAYLOAD_TOO_LARGE', `request body is larger than ${config.BODY_LIMIT_BYTES} bytes`),
      ),
  });
  // Only methods that carry a body: touching the body of a GET would materialize the full Web Request.
  app.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitGuard(c, next)));
  const guard = timeout(
    config.REQUEST_TIMEOUT_MS,
    () => new HTTPException(504, { message: `the request took longer than ${config.REQUEST_TIMEOUT_MS} ms` }),
  );
  app.use('*', (c, next) => (isStreamingPath(c.req.path) ? next() : guard(c, next)));
  app.notFound((c) => errorResponse(c, new AppError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`)));
}
