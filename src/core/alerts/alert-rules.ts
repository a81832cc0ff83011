/**
 * The rules the alert detector judges by (docs/alerts.md): the sensors' normal ranges (inclusive bounds; the
 * specification's 30–50, 20–30 and 1000–2000 by default), how long a metric must stay in range before its
 * episode clears, how long a device may stay silent, when an alert is critical, and the operational box.
 */
import type { GeoBox } from '../movement.js';
import type { SensorName } from '../sensors.js';

export interface NormalRange {
  min: number;
  max: number;
}

export interface AlertRules {
  ranges: Record<SensorName, NormalRange>;
  /** An episode clears at the first in-range reading at least this long after its last anomalous one. */
  clearAfterMs: number;
  /** A device that sent a fix opens an `inactive` episode when no fix followed for this long. */
  inactiveAfterMs: number;
  /** Critical when the worst value lies more than this fraction of the range width outside the range. */
  criticalDeviation: number;
  /** `outside_geofence` opens at the first fix outside (inclusive bounds, as JOIN_EVENTS' BETWEEN). */
  geofence: GeoBox;
}

export const DEFAULT_ALERT_RULES: AlertRules = {
  ranges: {
    sound: { min: 30, max: 50 },
    temperature: { min: 20, max: 30 },
    altitude: { min: 1000, max: 2000 },
  },
  clearAfterMs: 5000,
  inactiveAfterMs: 10_000,
  criticalDeviation: 0.1,
  geofence: { minLatitude: 8, maxLatitude: 10, minLongitude: 106, maxLongitude: 108 },
};

/** How far `value` lies outside `range` (0 inside, bounds included). */
export function distanceOutside(value: number, range: NormalRange): number {
  if (value < range.min) return range.min - value;
  if (value > range.max) return value - range.max;
  return 0;
}

/** How far (in degrees, the larger of the two axes) a position lies outside the box; 0 inside, edges included. */
export function degreesOutside(latitude: number, longitude: number, box: GeoBox): number {
  const lat = distanceOutside(latitude, { min: box.minLatitude, max: box.maxLatitude });
  const lon = distanceOutside(longitude, { min: box.minLongitude, max: box.maxLongitude });
  return Math.max(lat, lon);
}
