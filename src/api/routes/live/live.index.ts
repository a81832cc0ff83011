/**
 * Live streams (server-sent events): a snapshot, then every change, from the instance's one broadcaster.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Services } from '../../../services.js';
import { errorResponses } from '../../errors.js';
import { lastEventIdHeader, openLiveStream, sseResponse, tooManyResponse } from '../../live-streams.js';
import { deviceFilterParam } from '../../schemas/common.js';

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

export function registerLiveRoutes(app: OpenAPIHono, services: Pick<Services, 'broadcaster'>) {
  app.openapi(streamLatestEvents, (c) =>
    openLiveStream(c, services.broadcaster, {
      channel: 'latest',
      devices: c.req.valid('query').device_id,
      lastEventId: c.req.valid('header')['last-event-id'],
    }),
  );
  app.openapi(streamRawEvents, (c) =>
    openLiveStream(c, services.broadcaster, {
      channel: 'window',
      devices: c.req.valid('query').device_id,
      lastEventId: c.req.valid('header')['last-event-id'],
    }),
  );
}
