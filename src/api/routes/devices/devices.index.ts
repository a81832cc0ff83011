/**
 * Handlers of the per-device reads.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Services } from '../../../services.js';
import { invalidRange, timeRange } from '../../paging.js';
import { DEFAULT_TRACK_RANGE_MS, MAX_TRACK_RANGE_MS, toTrackCollection } from '../../schemas/track.js';
import { getDeviceTrack } from './devices.routes.js';

/** `application/json` only for a client that asks for it and not for GeoJSON; GeoJSON otherwise. */
function trackMediaType(accept: string | undefined): string {
  const asks = (type: string) => accept?.toLowerCase().includes(type) ?? false;
  return asks('application/json') && !asks('application/geo+json') ? 'application/json' : 'application/geo+json';
}

export function registerDeviceRoutes(app: OpenAPIHono, services: Pick<Services, 'warehouse'>) {
  app.openapi(getDeviceTrack, async (c) => {
    const { device_id: deviceId } = c.req.valid('param');
    const query = c.req.valid('query');
    const given = timeRange(query);
    const to = given.to ?? Date.now();
    const from = given.from ?? to - DEFAULT_TRACK_RANGE_MS;
    if (from >= to) throw invalidRange('`from` must be earlier than `to` (default: now)');
    if (to - from > MAX_TRACK_RANGE_MS) {
      throw invalidRange(`the range from \`from\` to \`to\` may span at most 31 days (${MAX_TRACK_RANGE_MS} ms)`);
    }
    const range = { deviceId, from, to, limit: query.limit };
    const track = await services.warehouse.readTrack(range);
    return c.json(toTrackCollection(range, track), 200, {
      'Content-Type': trackMediaType(c.req.header('accept')),
      Vary: 'Accept',
    });
  });
}
