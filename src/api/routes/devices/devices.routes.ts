/**
 * Per-device reads: the track of one device over a time range, as GeoJSON, from the warehouse.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses } from '../../errors.js';
import { DeviceIdSchema, timeParam } from '../../schemas/common.js';
import {
  DEFAULT_TRACK_LIMIT,
  MAX_TRACK_LIMIT,
  MAX_TRACK_RANGE_MS,
  TrackCollection,
  trackLimitParam,
} from '../../schemas/track.js';

const trackContent = { schema: TrackCollection };

export const getDeviceTrack = createRoute({
  method: 'get',
  path: '/devices/{device_id}/track',
  operationId: 'getDeviceTrack',
  summary: 'The track of one device over a time range, as GeoJSON, from the warehouse',
  description:
    'Reads table `device_winagg_status_per2s`: the windows whose `window_start` lies in [`from`, `to`), in time ' +
    'order, as a GeoJSON (RFC 7946) FeatureCollection. `features[0]` is a `LineString` Feature of the track, ' +
    'positions `[longitude, latitude]`, with `properties` `{ device_id, from, to, windows, points, thinned, ' +
    'limit }`; then one `Point` Feature per returned window, in the same order, with the window’s fields in ' +
    '`properties`. A LineString needs two positions, so below two the LineString is left out and only the ' +
    'Points (one or none) remain. An empty range or an unknown device gives a FeatureCollection without ' +
    'features, not an error (as `/stream/postgresql/raw` answers `[]`). Windows without a position are skipped.\n\n' +
    `Without \`from\`/\`to\` the range is the last hour (\`to\` = now, \`from\` = \`to\` − 3,600,000 ms); it may ` +
    `span at most 31 days (${MAX_TRACK_RANGE_MS} ms). Past \`limit\` windows (default ${DEFAULT_TRACK_LIMIT}, ` +
    `at most ${MAX_TRACK_LIMIT}) the track is thinned on the server to a subset of the real windows, never ` +
    'invented or averaged positions: `limit` sample times spread evenly from the first to the last window ' +
    'start, each taking the first window at or after it; the first and the last window are always kept, and ' +
    'samples falling into a silent stretch collapse into one point. `thinned` says whether that happened.\n\n' +
    'Served as `application/geo+json`, or as `application/json` when `Accept` asks for that and not for GeoJSON.',
  tags: ['warehouse'],
  request: {
    params: z.object({
      device_id: DeviceIdSchema.openapi({
        param: { name: 'device_id', in: 'path' },
        description: 'Device id',
        example: 'dev-1',
      }),
    }),
    query: z.object({
      from: timeParam('from', 'Only windows starting at or after this time (epoch ms or ISO 8601); default `to` − 1 h'),
      to: timeParam('to', 'Only windows starting before this time (epoch ms or ISO 8601); default now'),
      limit: trackLimitParam,
    }),
  },
  responses: {
    200: {
      description: 'The track: a LineString (two positions or more), then one Point per window, in time order',
      content: { 'application/geo+json': trackContent, 'application/json': trackContent },
    },
    ...errorResponses,
  },
});
