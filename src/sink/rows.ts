/**
 * Turns processor output records into warehouse rows, and decides which of two versions of the same row is
 * newer. Pure: no I/O. The SQL guard in `warehouse-writer.ts` applies the same order, so collapsing a batch
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
import {
  completeDeviceLatestRecord,
  type DeviceLatest,
  type DeviceLatestRecord,
  decodeWindowedKey,
  toDeviceLatest,
  toWindowAggregate,
  type WindowAggregate,
  type WindowAggregateRecord,
} from '../core/results.js';

export interface SourcePosition {
  kafka_partition: number;
  kafka_offset: bigint;
}

export type WindowRow = WindowAggregate & SourcePosition;
export type DeviceRow = DeviceLatest & SourcePosition;

export class RecordRejectedError extends Error {
  override name = 'RecordRejectedError';
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isSafeInt = (v: unknown): v is number => Number.isSafeInteger(v);

function parseObject(value: Buffer | undefined): Record<string, unknown> {
  if (!value || value.length === 0) throw new RecordRejectedError('empty value (tombstone) is not expected');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    throw new RecordRejectedError('value is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RecordRejectedError('value is not a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function requireField(o: Record<string, unknown>, field: string, ok: (v: unknown) => boolean, what: string): void {
  if (!ok(o[field])) throw new RecordRejectedError(`${field} must be ${what}`);
}

/** A DEVICE_WINAGG_STATUS_PER2S record (windowed key, JSON value) as a row; throws `RecordRejectedError`. */
export function decodeWindowRow(
  key: Buffer | undefined,
  value: Buffer | undefined,
  position: SourcePosition,
): WindowRow {
  if (!key) throw new RecordRejectedError('windowed key is missing');
  let keyed: { deviceId: string; windowStart: number };
  try {
    keyed = decodeWindowedKey(key);
  } catch {
    throw new RecordRejectedError('windowed key is shorter than 8 bytes');
  }
  const o = parseObject(value);
  requireField(o, 'ID', (v) => typeof v === 'string' && v.length > 0, 'a non-empty string');
  for (const f of ['LATITUDE', 'LONGITUDE', 'DISTANCE']) requireField(o, f, isFiniteNumber, 'a finite number');
  for (const f of ['AVG_TEMP', 'AVG_SOUND', 'AVG_ALT']) requireField(o, f, isFiniteNumber, 'a finite number');
  for (const f of ['EVENT_TS', 'WINDOW_START', 'WINDOW_END']) requireField(o, f, isSafeInt, 'an integer');
  requireField(o, 'EVENT_COUNT', (v) => isSafeInt(v) && v > 0, 'a positive integer');
  const record = o as unknown as WindowAggregateRecord;
  if (record.WINDOW_END <= record.WINDOW_START) throw new RecordRejectedError('WINDOW_END must exceed WINDOW_START');
  if (record.WINDOW_START !== keyed.windowStart) {
    throw new RecordRejectedError('WINDOW_START differs from the window start in the key');
  }
  const deviceId = typeof record.dev_id === 'string' && record.dev_id.length > 0 ? record.dev_id : keyed.deviceId;
  return { ...toWindowAggregate(deviceId, record), ...position };
}

/** A DEVICE_WINAGG_STATUS_PERDEVICE record (key = device id, JSON value) as a row. */
export function decodeDeviceRow(
  key: Buffer | undefined,
  value: Buffer | undefined,
  position: SourcePosition,
): DeviceRow {
  if (!key || key.length === 0) throw new RecordRejectedError('device id key is missing');
  const o = parseObject(value);
  const nullableNumber = (v: unknown) => v === null || v === undefined || isFiniteNumber(v);
  for (const f of ['LATITUDE', 'LONGITUDE', 'DISTANCE', 'TEMPERATURE', 'SOUND', 'ALTITUDE']) {
    requireField(o, f, nullableNumber, 'a finite number or null');
  }
  requireField(o, 'EVENT_TS', (v) => v === null || v === undefined || isSafeInt(v), 'an integer or null');
  const record = completeDeviceLatestRecord(o as Partial<DeviceLatestRecord>);
  return { ...toDeviceLatest(key.toString('utf8'), record), ...position };
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
