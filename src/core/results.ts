/**
 * What the stream processing produces, in two spellings:
 *
 * 1. The **topic records**, exactly as ksqlDB writes them with JSON values (upper-case column names, `dev_id`
 *    quoted lower-case, key columns only in the key). The embedded processor writes these; the ksqlDB
 *    statements in `ksql/` produce the same columns (AVRO there).
 * 2. The **rows** the warehouse stores and the API serves: lower-case snake_case, identical between the
 *    stream layer and the warehouse layer, so a client switches between them without remapping.
 *
 * Keys on the output topics:
 * - `JOIN_EVENTS`, `DEVICE_WINAGG_STATUS_PERDEVICE`: the device id as UTF-8 bytes (ksqlDB's KAFKA key format).
 * - `DEVICE_WINAGG_STATUS_PER2S`: ksqlDB's windowed key, the device id's UTF-8 bytes followed by the window
 *   start as an 8-byte big-endian integer (Kafka Streams' TimeWindowedSerializer).
 */
import { z } from 'zod';

/** JOIN_EVENTS value (key: DEVICE_ID). Sensor columns and DI_ are null on null-padded rows. */
export interface JoinEventRecord {
  /** The location's id; null when the location record had none (as in ksqlDB). */
  ID: string | null;
  LATITUDE: number;
  LONGITUDE: number;
  DISTANCE: number;
  EVENT_TS: number;
  DI_: string | null;
  TEMPERATURE: number | null;
  SOUND: number | null;
  ALTITUDE: number | null;
}

/** DEVICE_WINAGG_STATUS_PER2S value (windowed key: DEVICE_ID + window start). */
export interface WindowAggregateRecord {
  ID: string;
  dev_id: string;
  LATITUDE: number;
  LONGITUDE: number;
  DISTANCE: number;
  EVENT_TS: number;
  EVENT_COUNT: number;
  AVG_TEMP: number;
  AVG_SOUND: number;
  AVG_ALT: number;
  /** Added to the specification's statement (`WINDOWSTART AS WINDOW_START`) so sinks need not parse the key. */
  WINDOW_START: number;
  WINDOW_END: number;
}

/** DEVICE_WINAGG_STATUS_PERDEVICE value (key: DEVICE_ID). Sensor columns stay null until a status joins. */
export interface DeviceLatestRecord {
  LATITUDE: number | null;
  LONGITUDE: number | null;
  DISTANCE: number | null;
  EVENT_TS: number | null;
  TEMPERATURE: number | null;
  SOUND: number | null;
  ALTITUDE: number | null;
}

const nullableNumber = z.number().nullable();

/** A 2-second window aggregate as stored in PostgreSQL and served by the API. */
export const WindowAggregateSchema = z.object({
  id: z.string().describe('Window id: `<device_id>_<window_start>_<window_end>`'),
  device_id: z.string(),
  window_start: z.number().int().describe('Window start, epoch ms (inclusive)'),
  window_end: z.number().int().describe('Window end, epoch ms (exclusive)'),
  latitude: z.number().describe('AVG(LATITUDE) over the join rows of the window'),
  longitude: z.number().describe('AVG(LONGITUDE)'),
  distance: z.number().describe('AVG(DISTANCE) in km from (9.0, 107.0)'),
  event_ts: z.number().int().describe('MAX(EVENT_TS) of the window, epoch ms'),
  event_count: z.number().int().describe('COUNT(*) of join rows in the window'),
  avg_temp: z.number().describe('AVG(TEMPERATURE); 0.0 when the window has no sensor values (ksqlDB AVG)'),
  avg_sound: z.number().describe('AVG(SOUND); 0.0 when none'),
  avg_alt: z.number().describe('AVG(ALTITUDE); 0.0 when none'),
});
export type WindowAggregate = z.infer<typeof WindowAggregateSchema>;

/** The latest state of one device as stored in PostgreSQL and served by the API. */
export const DeviceLatestSchema = z.object({
  device_id: z.string(),
  latitude: nullableNumber.describe('LATEST_BY_OFFSET(LATITUDE)'),
  longitude: nullableNumber,
  distance: nullableNumber.describe('km from (9.0, 107.0)'),
  event_ts: nullableNumber.describe('LATEST_BY_OFFSET(EVENT_TS), epoch ms'),
  temperature: nullableNumber.describe('Last non-null temperature'),
  sound: nullableNumber,
  altitude: nullableNumber,
});
export type DeviceLatest = z.infer<typeof DeviceLatestSchema>;

export function toWindowAggregate(deviceId: string, r: WindowAggregateRecord): WindowAggregate {
  return {
    id: r.ID,
    device_id: deviceId,
    window_start: r.WINDOW_START,
    window_end: r.WINDOW_END,
    latitude: r.LATITUDE,
    longitude: r.LONGITUDE,
    distance: r.DISTANCE,
    event_ts: r.EVENT_TS,
    event_count: r.EVENT_COUNT,
    avg_temp: r.AVG_TEMP,
    avg_sound: r.AVG_SOUND,
    avg_alt: r.AVG_ALT,
  };
}

/** A perdevice value with absent columns read as null (ksqlDB's JSON omits nothing, other writers may). */
export function completeDeviceLatestRecord(r: Partial<DeviceLatestRecord>): DeviceLatestRecord {
  return {
    LATITUDE: r.LATITUDE ?? null,
    LONGITUDE: r.LONGITUDE ?? null,
    DISTANCE: r.DISTANCE ?? null,
    EVENT_TS: r.EVENT_TS ?? null,
    TEMPERATURE: r.TEMPERATURE ?? null,
    SOUND: r.SOUND ?? null,
    ALTITUDE: r.ALTITUDE ?? null,
  };
}

export function toDeviceLatest(deviceId: string, r: DeviceLatestRecord): DeviceLatest {
  return {
    device_id: deviceId,
    latitude: r.LATITUDE,
    longitude: r.LONGITUDE,
    distance: r.DISTANCE,
    event_ts: r.EVENT_TS,
    temperature: r.TEMPERATURE,
    sound: r.SOUND,
    altitude: r.ALTITUDE,
  };
}

/** Windowed key bytes as Kafka Streams writes them: key bytes, then the window start (int64 big-endian). */
export function encodeWindowedKey(deviceId: string, windowStart: number): Buffer {
  const key = Buffer.from(deviceId, 'utf8');
  const out = Buffer.alloc(key.length + 8);
  key.copy(out, 0);
  out.writeBigInt64BE(BigInt(windowStart), key.length);
  return out;
}

export function decodeWindowedKey(bytes: Buffer): { deviceId: string; windowStart: number } {
  if (bytes.length < 8) throw new RangeError('a windowed key has at least 8 bytes');
  return {
    deviceId: bytes.subarray(0, bytes.length - 8).toString('utf8'),
    windowStart: Number(bytes.readBigInt64BE(bytes.length - 8)),
  };
}
