/**
 * Live streams (server-sent events): a snapshot, then every change, from the instance's one broadcaster.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Services } from '../../../app.js';
import type { LiveChannel } from '../../../live/broadcaster.js';
import { ApiError, errorResponses } from '../../errors.js';
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
  responses: { 200: sseResponse('`latest` (a `DeviceLatest`)'), ...errorResponses },
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
  responses: { 200: sseResponse('`window` (a `WindowAggregate`)'), ...errorResponses },
});

export function registerLiveRoutes(app: OpenAPIHono, services: Pick<Services, 'broadcaster' | 'logger'>) {
  const open = (channel: LiveChannel, devices: string[] | undefined, lastEventId: string | undefined) => {
    const body = openSseStream(services.broadcaster, {
      channel,
      ...(devices ? { devices: new Set(devices) } : {}),
      lastEventId: lastEventId ?? null,
    });
    if (!body)
      throw new ApiError('UNAVAILABLE', 'too many live clients on this instance; retry later', {
        limit: 'SSE_MAX_CLIENTS',
      });
    return new Response(body, { status: 200, headers: sseHeaders });
  };

  app.openapi(streamLatestEvents, (c) =>
    open('latest', c.req.valid('query').device_id, c.req.valid('header')['last-event-id']),
  );
  app.openapi(streamRawEvents, (c) =>
    open('window', c.req.valid('query').device_id, c.req.valid('header')['last-event-id']),
  );
}
