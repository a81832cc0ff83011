/**
 * OpenAPI schemas of the alert routes: the alert (from the record contract in `core/alerts/alert-record.ts`),
 * the rules in force, and the alert filters.
 */
import { z } from '@hono/zod-openapi';
import { ALERT_STATUSES, ALERT_TYPES, AlertRecordSchema } from '../../core/alerts/alert-record.js';
import { type AlertRules, DEFAULT_ALERT_RULES } from '../../core/alerts/alert-rules.js';
import type { SensorName } from '../../core/sensors.js';
import { repeatedQueryParam } from './common.js';

// Rebuilt with this module's `z`, as the row schemas in `common.ts` are.
export const AlertRow = z.object(AlertRecordSchema.shape).openapi('Alert', {
  example: {
    alert_id: 'dev-1/sensor_anomaly/sound/1772288702000',
    device_id: 'dev-1',
    type: 'sensor_anomaly',
    metric: 'sound',
    status: 'cleared',
    severity: 'critical',
    opened_at: 1772288702000,
    cleared_at: 1772288712000,
    updated_at: 1772288712000,
    readings: 3,
    worst_value: 62.5,
    normal_min: 30,
    normal_max: 50,
    latitude: 9.0012,
    longitude: 106.9987,
    revision: 4,
  },
});

const NormalRangeBody = z
  .object({
    min: z.number().describe('Lowest normal value (inclusive)'),
    max: z.number().describe('Highest normal value (inclusive)'),
  })
  .openapi('NormalRange');

const AlertRulesObject = z.object({
  ranges: z
    .object({ sound: NormalRangeBody, temperature: NormalRangeBody, altitude: NormalRangeBody })
    .describe('Normal range per metric; a reading outside opens (or extends) a `sensor_anomaly`'),
  clear_after_ms: z
    .number()
    .int()
    .describe('An episode clears at the first in-range reading at least this long after its last anomalous one'),
  inactive_after_ms: z
    .number()
    .int()
    .describe('A device opens an `inactive` episode when no fix followed its last one for this long'),
  critical_deviation: z
    .number()
    .describe('Critical when the worst value lies more than this fraction of the range width outside the range'),
  geofence: z
    .object({
      min_latitude: z.number(),
      max_latitude: z.number(),
      min_longitude: z.number(),
      max_longitude: z.number(),
    })
    .describe('The operational box (edges inside); a fix outside opens `outside_geofence`'),
});

export type AlertRulesBody = z.infer<typeof AlertRulesObject>;

/** The rules as the API shows them (snake_case). */
export function toAlertRulesBody(rules: AlertRules): AlertRulesBody {
  const range = (metric: SensorName) => ({ min: rules.ranges[metric].min, max: rules.ranges[metric].max });
  return {
    ranges: { sound: range('sound'), temperature: range('temperature'), altitude: range('altitude') },
    clear_after_ms: rules.clearAfterMs,
    inactive_after_ms: rules.inactiveAfterMs,
    critical_deviation: rules.criticalDeviation,
    geofence: {
      min_latitude: rules.geofence.minLatitude,
      max_latitude: rules.geofence.maxLatitude,
      min_longitude: rules.geofence.minLongitude,
      max_longitude: rules.geofence.maxLongitude,
    },
  };
}

export const AlertRulesBody = AlertRulesObject.openapi('AlertRules', {
  example: toAlertRulesBody(DEFAULT_ALERT_RULES),
});

/** Repeated `type` filter; absent means every type. */
export const alertTypeFilterParam = repeatedQueryParam('type', z.enum(ALERT_TYPES), {
  items: { type: 'string', enum: [...ALERT_TYPES] },
  description: 'Only these alert types (repeat the parameter for several); every type when absent',
  example: ['sensor_anomaly'],
  max: 10,
});

export const alertStatusParam = z
  .enum(ALERT_STATUSES)
  .optional()
  .openapi({
    param: { name: 'status', in: 'query' },
    description: 'Only active, or only cleared, alerts; both when absent',
    example: 'active',
  });
