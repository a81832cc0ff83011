/**
 * Turns processor output records into warehouse rows (decoded by the one rule of `core/output-records.ts`), and
 * decides which of two versions of the same row is newer. Pure: no I/O. The SQL guard in `warehouse-writer.ts` applies the same order, so collapsing a batch
 * here and guarding in the database agree.
 *
 * Which version is newer:
 * - **per-window rows**: a window's aggregate only grows — every update adds at least one join row — so the
 *   version with the larger `event_count` (then the larger `event_ts`) is newer whatever order the records
 *   arrive in. This also holds when a restarted processor replays and re-emits partial aggregates at higher
 *   offsets: they carry smaller counts and change nothing. Only between versions equal in both does the source
 *   position decide (the later offset of the same partition), which makes redelivery a no-op.
 * - **per-device rows**: LATEST_BY_OFFSET is defined by processing order, which the output topic's offsets
 *   record (one key always lands in one partition). The later offset of the same partition is newer. If a
 *   device's versions come from different partitions (the topic was re-partitioned), `event_ts` decides.
 */
import { type AlertRecord, decodeAlertRecord } from '../core/alerts/alert-record.js';
import { decodeLatestRecord, decodeWindowRecord } from '../core/output-records.js';
import { type DeviceLatest, toDeviceLatest, toWindowAggregate, type WindowAggregate } from '../core/results.js';

export interface SourcePosition {
  kafka_partition: number;
  kafka_offset: bigint;
}

export type WindowRow = WindowAggregate & SourcePosition;
export type DeviceRow = DeviceLatest & SourcePosition;
export type AlertRow = AlertRecord & SourcePosition;

export class RecordRejectedError extends Error {
  override name = 'RecordRejectedError';
}

/** A DEVICE_WINAGG_STATUS_PER2S record (windowed key, JSON value) as a row; throws `RecordRejectedError`. */
export function decodeWindowRow(
  key: Buffer | undefined,
  value: Buffer | undefined,
  position: SourcePosition,
): WindowRow {
  const decoded = decodeWindowRecord(key, value);
  if (!decoded.ok) throw new RecordRejectedError(decoded.reason);
  if (decoded.record === null) throw new RecordRejectedError('empty value (tombstone) is not expected');
  return { ...toWindowAggregate(decoded.deviceId, decoded.record), ...position };
}

/** A DEVICE_WINAGG_STATUS_PERDEVICE record (key = device id, JSON value) as a row. */
export function decodeDeviceRow(
  key: Buffer | undefined,
  value: Buffer | undefined,
  position: SourcePosition,
): DeviceRow {
  const decoded = decodeLatestRecord(key, value);
  if (!decoded.ok) throw new RecordRejectedError(decoded.reason);
  if (decoded.record === null) throw new RecordRejectedError('empty value (tombstone) is not expected');
  return { ...toDeviceLatest(decoded.deviceId, decoded.record), ...position };
}

/** A `device_alerts` record (key = device id, JSON value) as a row. */
export function decodeAlertRow(key: Buffer | undefined, value: Buffer | undefined, position: SourcePosition): AlertRow {
  const decoded = decodeAlertRecord(key, value);
  if (!decoded.ok) throw new RecordRejectedError(decoded.reason);
  return { ...decoded.alert, ...position };
}

/** True when `candidate` should replace `current` (same alert id): its revision is higher. */
export function isNewerAlert(candidate: AlertRow, current: AlertRow): boolean {
  return candidate.revision > current.revision;
}

function laterPosition(a: SourcePosition, b: SourcePosition): boolean {
  return a.kafka_partition === b.kafka_partition && a.kafka_offset > b.kafka_offset;
}

/** True when `candidate` should replace `current` (same window id). */
export function isNewerWindow(candidate: WindowRow, current: WindowRow): boolean {
  if (candidate.event_count !== current.event_count) return candidate.event_count > current.event_count;
  if (candidate.event_ts !== current.event_ts) return candidate.event_ts > current.event_ts;
  return laterPosition(candidate, current);
}

/** True when `candidate` should replace `current` (same device). */
export function isNewerDevice(candidate: DeviceRow, current: DeviceRow): boolean {
  if (candidate.kafka_partition === current.kafka_partition) return candidate.kafka_offset > current.kafka_offset;
  return (candidate.event_ts ?? -1) >= (current.event_ts ?? -1);
}

/**
 * Keeps the newest version per key. PostgreSQL refuses an `INSERT … ON CONFLICT DO UPDATE` that touches one
 * row twice, and writing superseded versions is wasted work anyway.
 */
export function newestByKey<R>(rows: Iterable<R>, keyOf: (r: R) => string, isNewer: (a: R, b: R) => boolean): R[] {
  const newest = new Map<string, R>();
  for (const row of rows) {
    const key = keyOf(row);
    const current = newest.get(key);
    if (current === undefined || isNewer(row, current)) newest.set(key, row);
  }
  return [...newest.values()];
}
