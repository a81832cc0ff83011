/**
 * An alert as the `device_alerts` topic, the warehouse table and the API carry it: one record per change of an
 * episode (opened, updated, cleared), JSON, snake_case. Pure.
 *
 * `alert_id` is built from the device, the type, the metric and the opening event time, so a replay or a restart
 * updates the same alert instead of creating another; `revision` counts its changes (1 when opened), so an older
 * change never overwrites a newer one wherever it lands.
 */
import { z } from 'zod';
import { DEVICE_ID_PATTERN } from '../device-id.js';
import { SENSOR_NAMES, type SensorName } from '../sensors.js';

export const ALERT_TYPES = ['sensor_anomaly', 'outside_geofence', 'inactive'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];
export const ALERT_STATUSES = ['active', 'cleared'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export const ALERT_SEVERITIES = ['warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

const epochMs = z.number().int().nonnegative();
const nullableNumber = z.number().nullable();

export const AlertRecordSchema = z.object({
  alert_id: z
    .string()
    .min(1)
    .describe('`<device_id>/<type>/<metric or ->/<opened_at>`: the same episode always has the same id'),
  device_id: z.string().regex(DEVICE_ID_PATTERN),
  type: z.enum(ALERT_TYPES),
  metric: z.enum(SENSOR_NAMES).nullable().describe('The sensor of a `sensor_anomaly`; null for the other types'),
  status: z.enum(ALERT_STATUSES),
  severity: z.enum(ALERT_SEVERITIES),
  opened_at: epochMs.describe('Event time the episode opened, epoch ms'),
  cleared_at: epochMs.nullable().describe('Event time it cleared; null while active'),
  updated_at: epochMs.describe('Event time of the latest change'),
  readings: z.number().int().nonnegative().describe('Anomalous readings, or fixes outside the geofence, so far'),
  worst_value: nullableNumber.describe(
    'The reading furthest outside the range; for `outside_geofence` the degrees outside the box; null for `inactive`',
  ),
  normal_min: nullableNumber.describe('The normal range the episode was judged by (sensor alerts)'),
  normal_max: nullableNumber,
  latitude: nullableNumber.describe('The device’s last fix when the episode opened'),
  longitude: nullableNumber,
  revision: z.number().int().positive().describe('Changes of this alert so far; the newest revision wins'),
});

export type AlertRecord = z.infer<typeof AlertRecordSchema>;

/**
 * Newest opening first, then the greater `alert_id` first: the order of `GET /alerts` (the table's
 * `(opened_at DESC, alert_id DESC)` indexes), of `GET /alerts/active` and of the `/alerts/events` snapshot.
 */
export function newestOpenedFirst(a: AlertRecord, b: AlertRecord): number {
  return b.opened_at - a.opened_at || (a.alert_id < b.alert_id ? 1 : a.alert_id > b.alert_id ? -1 : 0);
}

export function alertId(deviceId: string, type: AlertType, metric: SensorName | null, openedAt: number): string {
  return `${deviceId}/${type}/${metric ?? '-'}/${openedAt}`;
}

/** Decodes a `device_alerts` value; the key must be its device id. */
export function decodeAlertRecord(
  key: Uint8Array | null | undefined,
  value: Uint8Array | null | undefined,
): { ok: true; alert: AlertRecord } | { ok: false; reason: string } {
  if (!value || value.length === 0) return { ok: false, reason: 'alert record: empty value' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf8'));
  } catch {
    return { ok: false, reason: 'alert record: value is not JSON' };
  }
  const parsed = AlertRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `alert record: ${issue?.path.join('.') || '(value)'}: ${issue?.message ?? 'invalid'}` };
  }
  const deviceId = key ? Buffer.from(key.buffer, key.byteOffset, key.length).toString('utf8') : null;
  if (deviceId !== parsed.data.device_id) return { ok: false, reason: 'alert record: key differs from device_id' };
  return { ok: true, alert: parsed.data };
}
