/**
 * OpenAPI schemas of `GET /devices/{device_id}/track` and the GeoJSON (RFC 7946) it answers: a FeatureCollection
 * whose first feature is the track as a LineString (omitted below two positions: a LineString needs two), then
 * one Point per returned window, in the same time order. Positions are `[longitude, latitude]`.
 */
import { z } from '@hono/zod-openapi';
import { type WindowAggregate, WindowAggregateSchema } from '../../core/results.js';
import type { Track } from '../../warehouse-reader/track-reader.js';

/** The range when the request names none: the last hour before `to`. */
export const DEFAULT_TRACK_RANGE_MS = 3_600_000;
/** Longest range one request may ask for: 31 days (1,339,200 windows of one device). */
export const MAX_TRACK_RANGE_MS = 31 * 86_400_000;
export const DEFAULT_TRACK_LIMIT = 2000;
export const MAX_TRACK_LIMIT = 10_000;

export const trackLimitParam = z.coerce
  .number()
  .int()
  .min(2)
  .max(MAX_TRACK_LIMIT)
  .default(DEFAULT_TRACK_LIMIT)
  .openapi({
    param: { name: 'limit', in: 'query' },
    type: 'integer',
    minimum: 2,
    maximum: MAX_TRACK_LIMIT,
    default: DEFAULT_TRACK_LIMIT,
    description:
      `Most positions returned (2–${MAX_TRACK_LIMIT}); a range holding more windows is thinned to this many ` +
      'at most, evenly spread in time, the first and the last window always among them',
    example: DEFAULT_TRACK_LIMIT,
  });

const Position = z
  .tuple([z.number(), z.number()])
  .openapi('Position', { description: '`[longitude, latitude]` in degrees (RFC 7946 order)', example: [107.0, 9.0] });

const window = WindowAggregateSchema.shape;

export const TrackLineFeature = z
  .object({
    type: z.literal('Feature'),
    geometry: z.object({ type: z.literal('LineString'), coordinates: z.array(Position) }),
    properties: z.object({
      device_id: z.string(),
      from: z.number().int().describe('Start of the range, epoch ms (inclusive, on `window_start`)'),
      to: z.number().int().describe('End of the range, epoch ms (exclusive)'),
      windows: z.number().int().describe('Windows of the device in the range, before thinning'),
      points: z.number().int().describe('Positions returned: the LineString’s and the Points’ count'),
      thinned: z.boolean().describe('Whether the range held more windows than `limit`, so only a subset came back'),
      limit: z.number().int().describe('The point limit in force'),
    }),
  })
  .openapi('TrackLine');

export const TrackPointFeature = z
  .object({
    type: z.literal('Feature'),
    geometry: z.object({ type: z.literal('Point'), coordinates: Position }),
    properties: z.object({
      id: window.id,
      window_start: window.window_start,
      window_end: window.window_end,
      event_ts: window.event_ts,
      event_count: window.event_count,
      avg_temp: window.avg_temp,
      avg_sound: window.avg_sound,
      avg_alt: window.avg_alt,
      distance: window.distance,
    }),
  })
  .openapi('TrackPoint');

const TrackCollectionObject = z.object({
  type: z.literal('FeatureCollection'),
  features: z
    .array(z.union([TrackLineFeature, TrackPointFeature]))
    .describe('The LineString first (when there are two positions or more), then one Point per window'),
});
export type TrackCollectionBody = z.infer<typeof TrackCollectionObject>;

export interface TrackRange {
  deviceId: string;
  from: number;
  to: number;
  limit: number;
}

function exampleWindow(windowStart: number, latitude: number, longitude: number): WindowAggregate {
  return {
    id: `dev-1_${windowStart}_${windowStart + 2000}`,
    device_id: 'dev-1',
    window_start: windowStart,
    window_end: windowStart + 2000,
    latitude,
    longitude,
    distance: 0.18,
    event_ts: windowStart + 1500,
    event_count: 1,
    avg_temp: 24.7,
    avg_sound: 41.2,
    avg_alt: 1520.4,
  };
}

/** The response body for `track`, read over `range`. */
export function toTrackCollection(range: TrackRange, track: Track): TrackCollectionBody {
  const points = track.rows.map((r) => ({
    type: 'Feature' as const,
    geometry: { type: 'Point' as const, coordinates: [r.longitude, r.latitude] as [number, number] },
    properties: {
      id: r.id,
      window_start: r.window_start,
      window_end: r.window_end,
      event_ts: r.event_ts,
      event_count: r.event_count,
      avg_temp: r.avg_temp,
      avg_sound: r.avg_sound,
      avg_alt: r.avg_alt,
      distance: r.distance,
    },
  }));
  if (points.length < 2) return { type: 'FeatureCollection', features: points };
  const line = {
    type: 'Feature' as const,
    geometry: { type: 'LineString' as const, coordinates: points.map((p) => p.geometry.coordinates) },
    properties: {
      device_id: range.deviceId,
      from: range.from,
      to: range.to,
      windows: track.windows,
      points: points.length,
      thinned: track.thinned,
      limit: range.limit,
    },
  };
  return { type: 'FeatureCollection', features: [line, ...points] };
}

export const TrackCollection = TrackCollectionObject.openapi('Track', {
  example: toTrackCollection(
    { deviceId: 'dev-1', from: 1772288700000, to: 1772292300000, limit: DEFAULT_TRACK_LIMIT },
    {
      windows: 2,
      thinned: false,
      rows: [exampleWindow(1772288702000, 9.0012, 106.9987), exampleWindow(1772288704000, 9.0015, 106.9991)],
    },
  ),
});
