/**
 * Live streams (server-sent events): a snapshot, then every change, from the instance's one broadcaster.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../../errors.js';
import type { LiveChannel } from '../../../live/broadcaster.js';
import type { Services } from '../../../services.js';
import { ErrorEnvelopeSchema, errorResponses } from '../../errors.js';
import { deviceFilterParam } from '../../schemas/common.js';
import { openSseStream, sseHeaders } from '../../sse.js';

const lastEventIdHeader = z
  .string()
  .max(200)
  .optional()
  .openapi({
    param: { name: 'last-event-id', in: 'header' },
    description: 'Resume after this event id (sent automatically by EventSource on reconnection)',
  });

/** Seconds a refused live client is asked to wait before it reconnects. */
const RETRY_AFTER_S = 5;

const tooManyResponse = {
  429: {
    description: 'Too many live connections from this address (SSE_MAX_CLIENTS_PER_ADDRESS); see Retry-After',
    content: { 'application/json': { schema: ErrorEnvelopeSchema } },
  },
} as const;

const sseResponse = (events: string) => ({
  description:
    `\`text/event-stream\`. First event \`snapshot\` (a JSON array), then ${events} events (one JSON object ` +
    'each), every one with an `id:`; `: heartbeat` comments keep the connection open. Reconnecting with ' +
    '`Last-Event-ID` resumes without gaps or duplicates while the position is still in the instance history; ' +
    'otherwise a fresh snapshot starts the stream. A slow client receives only the newest change per device.',
  content: {
    'text/event-stream': {
      schema: z.string().openapi({ example: 'id: 3f2a9c01-42\nevent: latest\ndata: {"device_id":"dev-1",...}\n\n' }),
    },
  },
});

export const streamLatestEvents = createRoute({
  method: 'get',
  path: '/stream/latest/events',
  operationId: 'streamLatestEvents',
  summary: 'Live latest state per device (server-sent events)',
  tags: ['live'],
  request: {
    query: z.object({ device_id: deviceFilterParam }),
    headers: z.object({ 'last-event-id': lastEventIdHeader }),
  },
  responses: { 200: sseResponse('`latest` (a `DeviceLatest`)'), ...tooManyResponse, ...errorResponses },
});

export const streamRawEvents = createRoute({
  method: 'get',
  path: '/stream/raw/events',
  operationId: 'streamRawEvents',
  summary: 'Live 2-second window aggregates (server-sent events)',
  description: 'The snapshot holds the newest window of each device; then every new window and window revision.',
  tags: ['live'],
  request: {
    query: z.object({ device_id: deviceFilterParam }),
    headers: z.object({ 'last-event-id': lastEventIdHeader }),
  },
  responses: { 200: sseResponse('`window` (a `WindowAggregate`)'), ...tooManyResponse, ...errorResponses },
});

/** The client's address as the socket sees it (behind a proxy: the proxy's, see SSE_MAX_CLIENTS_PER_ADDRESS). */
function remoteAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not served by @hono/node-server (in-process requests in tests)
  }
}

export function registerLiveRoutes(app: OpenAPIHono, services: Pick<Services, 'broadcaster' | 'logger'>) {
  const open = (c: Context, channel: LiveChannel, devices: string[] | undefined, lastEventId: string | undefined) => {
    const address = remoteAddress(c);
    const admission = services.broadcaster.admission(address);
    if (admission === 'max_per_address') {
      c.header('Retry-After', String(RETRY_AFTER_S));
      throw new AppError('TOO_MANY_REQUESTS', 'too many live connections from this address; close some first', {
        details: { limit: 'SSE_MAX_CLIENTS_PER_ADDRESS' },
      });
    }
    const body =
      admission === 'ok'
        ? openSseStream(services.broadcaster, {
            channel,
            ...(devices ? { devices: new Set(devices) } : {}),
            lastEventId: lastEventId ?? null,
            ...(address === undefined ? {} : { address }),
          })
        : undefined;
    if (!body) {
      c.header('Retry-After', String(RETRY_AFTER_S));
      throw new AppError('UNAVAILABLE', 'too many live clients on this instance; retry later', {
        details: { limit: 'SSE_MAX_CLIENTS' },
      });
    }
    return new Response(body, { status: 200, headers: sseHeaders });
  };

  app.openapi(streamLatestEvents, (c) =>
    open(c, 'latest', c.req.valid('query').device_id, c.req.valid('header')['last-event-id']),
  );
  app.openapi(streamRawEvents, (c) =>
    open(c, 'window', c.req.valid('query').device_id, c.req.valid('header')['last-event-id']),
  );
}
