/**
 * Output records as the processor writes them, and the rows the warehouse should end up holding.
 */
import { type DeviceLatestRecord, encodeWindowedKey, type WindowAggregateRecord } from '../../src/core/results.js';
import type { AlertRow, DeviceRow, WindowRow } from '../../src/sink/rows.js';

export function windowRecord(device: string, start: number, count: number, extra = 0): WindowAggregateRecord {
  return {
    ID: `${device}_${start}_${start + 2000}`,
    dev_id: device,
    LATITUDE: 9 + count / 1000 + extra,
    LONGITUDE: 107 - count / 1000,
    DISTANCE: count * 0.5,
    EVENT_TS: start + Math.min(count, 1999),
    EVENT_COUNT: count,
    AVG_TEMP: count === 1 ? 0 : 20 + count / 10,
    AVG_SOUND: 60.25,
    AVG_ALT: 100.125,
    WINDOW_START: start,
    WINDOW_END: start + 2000,
  };
}

export function deviceRecord(seq: number, withSensors = true): DeviceLatestRecord {
  return {
    LATITUDE: 9 + seq / 1e4,
    LONGITUDE: 107 + seq / 1e4,
    DISTANCE: seq / 10,
    EVENT_TS: 1_700_000_000_000 + seq,
    TEMPERATURE: withSensors ? 20 + seq / 100 : null,
    SOUND: withSensors ? 50 : null,
    ALTITUDE: withSensors ? 300 : null,
  };
}

export function windowRow(r: WindowAggregateRecord, partition = 0, offset = 0n): WindowRow {
  return {
    id: r.ID,
    device_id: r.dev_id,
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
    kafka_partition: partition,
    kafka_offset: offset,
  };
}

export function deviceRow(device: string, r: DeviceLatestRecord, partition = 0, offset = 0n): DeviceRow {
  return {
    device_id: device,
    latitude: r.LATITUDE,
    longitude: r.LONGITUDE,
    distance: r.DISTANCE,
    event_ts: r.EVENT_TS,
    temperature: r.TEMPERATURE,
    sound: r.SOUND,
    altitude: r.ALTITUDE,
    kafka_partition: partition,
    kafka_offset: offset,
  };
}

export const windowKey = (r: WindowAggregateRecord) => encodeWindowedKey(r.dev_id, r.WINDOW_START);

/** The contract columns of both tables, in a stable order, for equality checks. */
export const WINDOW_SELECT =
  'id, device_id, window_start, window_end, latitude, longitude, distance, event_ts, event_count, avg_temp, avg_sound, avg_alt';
export const DEVICE_SELECT = 'device_id, latitude, longitude, distance, event_ts, temperature, sound, altitude';

/** A sensor alert revision: opened at 1_700_000_000_000, `revision` changes so far, cleared when `cleared`. */
export function alertRow(device: string, revision: number, cleared = false, partition = 0, offset = 0n): AlertRow {
  const openedAt = 1_700_000_000_000;
  return {
    alert_id: `${device}/sensor_anomaly/sound/${openedAt}`,
    device_id: device,
    type: 'sensor_anomaly',
    metric: 'sound',
    status: cleared ? 'cleared' : 'active',
    severity: revision > 2 ? 'critical' : 'warning',
    opened_at: openedAt,
    cleared_at: cleared ? openedAt + 9_000 : null,
    updated_at: openedAt + revision * 1_000,
    readings: cleared ? revision - 1 : revision,
    worst_value: 50 + revision,
    normal_min: 30,
    normal_max: 50,
    latitude: 9.5,
    longitude: 107.25,
    revision,
    kafka_partition: partition,
    kafka_offset: offset,
  };
}
