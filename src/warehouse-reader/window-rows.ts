/**
 * Rows of `device_winagg_status_per2s` as the API serves them: the columns read and their mapping to the
 * `WindowAggregate` shape of the stream layer (without the table's source-position and generated time columns).
 */
import type { WindowAggregate } from '../core/results.js';

/** The columns a window is read with, in the contract's order. */
export const windowColumns = [
  'id',
  'device_id',
  'window_start',
  'window_end',
  'latitude',
  'longitude',
  'distance',
  'event_ts',
  'event_count',
  'avg_temp',
  'avg_sound',
  'avg_alt',
] as const;

export interface WindowDbRow extends Omit<WindowAggregate, 'avg_temp' | 'avg_sound' | 'avg_alt'> {
  avg_temp: number | null;
  avg_sound: number | null;
  avg_alt: number | null;
}

export function toWindowAggregate(r: WindowDbRow): WindowAggregate {
  return {
    id: r.id,
    device_id: r.device_id,
    window_start: r.window_start,
    window_end: r.window_end,
    latitude: r.latitude,
    longitude: r.longitude,
    distance: r.distance,
    event_ts: r.event_ts,
    event_count: r.event_count,
    // ksqlDB's AVG over no values is 0.0; a NULL written by another sink means the same.
    avg_temp: r.avg_temp ?? 0,
    avg_sound: r.avg_sound ?? 0,
    avg_alt: r.avg_alt ?? 0,
  };
}
