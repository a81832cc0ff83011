/**
 * Decoding of the output-topic records (upper-case ksqlDB columns, JSON values) into the API's lower-case rows.
 * Validation happens here, once; a record that fails it is counted and skipped by the caller.
 */
import { z } from 'zod';
import {
  completeDeviceLatestRecord,
  type DeviceLatest,
  decodeWindowedKey,
  toDeviceLatest,
  toWindowAggregate,
  type WindowAggregate,
} from '../core/results.js';

const nullableNumber = z.number().nullable();

const WindowAggregateRecordSchema = z.object({
  ID: z.string(),
  dev_id: z.string().optional(),
  LATITUDE: z.number(),
  LONGITUDE: z.number(),
  DISTANCE: z.number(),
  EVENT_TS: z.number(),
  EVENT_COUNT: z.number(),
  AVG_TEMP: z.number(),
  AVG_SOUND: z.number(),
  AVG_ALT: z.number(),
  // Present in the embedded processor's records; ksqlDB-written records carry the window only in the key.
  WINDOW_START: z.number().optional(),
  WINDOW_END: z.number().optional(),
});

const DeviceLatestRecordSchema = z.object({
  LATITUDE: nullableNumber.optional(),
  LONGITUDE: nullableNumber.optional(),
  DISTANCE: nullableNumber.optional(),
  EVENT_TS: nullableNumber.optional(),
  TEMPERATURE: nullableNumber.optional(),
  SOUND: nullableNumber.optional(),
  ALTITUDE: nullableNumber.optional(),
});

/** The 2-second tumbling window size of `device_winagg_status_per2s`. */
export const WINDOW_SIZE_MS = 2000;

export type Decoded<T> =
  | { ok: true; deviceId: string; row: T | null; windowStart?: number }
  | { ok: false; reason: string };

/** A `DEVICE_WINAGG_STATUS_PER2S` record: windowed key bytes, JSON value (null = tombstone). */
export function decodeWindowRecord(
  key: Buffer | null | undefined,
  value: Buffer | null | undefined,
): Decoded<WindowAggregate> {
  if (!key || key.length <= 8) return { ok: false, reason: 'missing or short windowed key' };
  const { deviceId, windowStart } = decodeWindowedKey(key);
  if (!value || value.length === 0) return { ok: true, deviceId, windowStart, row: null };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'value is not JSON' };
  }
  const parsed = WindowAggregateRecordSchema.safeParse(json);
  if (!parsed.success)
    return { ok: false, reason: `value does not match the per2s record: ${parsed.error.issues[0]?.path.join('.')}` };
  const r = parsed.data;
  const start = r.WINDOW_START ?? windowStart;
  const row = toWindowAggregate(deviceId, {
    ...r,
    dev_id: r.dev_id ?? deviceId,
    WINDOW_START: start,
    WINDOW_END: r.WINDOW_END ?? start + WINDOW_SIZE_MS,
  });
  return { ok: true, deviceId, windowStart: start, row };
}

/** A `DEVICE_WINAGG_STATUS_PERDEVICE` record: key = device id (UTF-8), JSON value (null = tombstone). */
export function decodeLatestRecord(
  key: Buffer | null | undefined,
  value: Buffer | null | undefined,
): Decoded<DeviceLatest> {
  if (!key || key.length === 0) return { ok: false, reason: 'missing key' };
  const deviceId = key.toString('utf8');
  if (!value || value.length === 0) return { ok: true, deviceId, row: null };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'value is not JSON' };
  }
  const parsed = DeviceLatestRecordSchema.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      reason: `value does not match the perdevice record: ${parsed.error.issues[0]?.path.join('.')}`,
    };
  const r = parsed.data;
  const row = toDeviceLatest(deviceId, completeDeviceLatestRecord(r));
  return { ok: true, deviceId, row };
}
