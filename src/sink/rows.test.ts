import { describe, expect, it } from 'vitest';
import { encodeWindowedKey, type WindowAggregateRecord } from '../core/results.js';
import { isRecordRefusal, isRetryableDatabaseError } from './retry.js';
import {
  type DeviceRow,
  decodeDeviceRow,
  decodeWindowRow,
  isNewerDevice,
  isNewerWindow,
  newestByKey,
  RecordRejectedError,
  type WindowRow,
} from './rows.js';

const at = (kafka_partition: number, kafka_offset: bigint) => ({ kafka_partition, kafka_offset });

const record: WindowAggregateRecord = {
  ID: 'd1_2000_4000',
  dev_id: 'd1',
  LATITUDE: 9.1,
  LONGITUDE: 107.2,
  DISTANCE: 12.5,
  EVENT_TS: 3999,
  EVENT_COUNT: 4,
  AVG_TEMP: 0,
  AVG_SOUND: 55.5,
  AVG_ALT: 120,
  WINDOW_START: 2000,
  WINDOW_END: 4000,
};
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('decodeWindowRow', () => {
  it('maps the upper-case topic record to the lower-case row with its source position', () => {
    expect(decodeWindowRow(encodeWindowedKey('d1', 2000), json(record), at(2, 7n))).toEqual({
      id: 'd1_2000_4000',
      device_id: 'd1',
      window_start: 2000,
      window_end: 4000,
      latitude: 9.1,
      longitude: 107.2,
      distance: 12.5,
      event_ts: 3999,
      event_count: 4,
      avg_temp: 0,
      avg_sound: 55.5,
      avg_alt: 120,
      kafka_partition: 2,
      kafka_offset: 7n,
    });
  });

  it.each([
    ['a non-JSON value', encodeWindowedKey('d1', 2000), Buffer.from('{'), 'value is not JSON'],
    ['a tombstone', encodeWindowedKey('d1', 2000), undefined, 'empty value (tombstone) is not expected'],
    ['a short key', Buffer.from('d1'), json(record), 'windowed key missing or shorter than 9 bytes'],
    ['a key of another window', encodeWindowedKey('d1', 0), json(record), 'WINDOW_START differs'],
    ['a count of zero', encodeWindowedKey('d1', 2000), json({ ...record, EVENT_COUNT: 0 }), 'EVENT_COUNT'],
    ['a missing average', encodeWindowedKey('d1', 2000), json({ ...record, AVG_ALT: null }), 'AVG_ALT'],
    ['a fractional timestamp', encodeWindowedKey('d1', 2000), json({ ...record, EVENT_TS: 1.5 }), 'EVENT_TS'],
  ])('rejects %s naming the problem', (_, key, value, reason) => {
    expect(() => decodeWindowRow(key, value, at(0, 0n))).toThrow(RecordRejectedError);
    expect(() => decodeWindowRow(key, value, at(0, 0n))).toThrow(reason);
  });
});

describe('decodeDeviceRow', () => {
  it('keeps null sensor values and fills absent columns with null', () => {
    const row = decodeDeviceRow(Buffer.from('dev-1'), json({ LATITUDE: 9, EVENT_TS: 5, TEMPERATURE: null }), at(0, 1n));
    expect(row).toMatchObject({ device_id: 'dev-1', latitude: 9, event_ts: 5, temperature: null, sound: null });
  });

  it('rejects a non-numeric column', () => {
    expect(() => decodeDeviceRow(Buffer.from('d'), json({ SOUND: '50' }), at(0, 0n))).toThrow('SOUND');
  });
});

describe('which version is newer', () => {
  const w = (count: number, ts: number, offset: bigint, partition = 0): WindowRow => ({
    ...decodeWindowRow(encodeWindowedKey('d1', 2000), json(record), at(partition, offset)),
    event_count: count,
    event_ts: ts,
  });
  const d = (offset: bigint, partition = 0, ts: number | null = 1): DeviceRow => ({
    ...decodeDeviceRow(Buffer.from('d1'), json({ EVENT_TS: ts }), at(partition, offset)),
  });

  it('prefers the larger window aggregate even when it arrived first (a replayed partial one comes later)', () => {
    expect(isNewerWindow(w(3, 10, 50n), w(5, 10, 10n))).toBe(false);
    expect(isNewerWindow(w(5, 10, 10n), w(3, 10, 50n))).toBe(true);
    expect(isNewerWindow(w(5, 11, 1n), w(5, 10, 2n))).toBe(true);
  });

  it('breaks a tie between equal windows by the later offset of the same partition only', () => {
    expect(isNewerWindow(w(5, 10, 11n), w(5, 10, 10n))).toBe(true);
    expect(isNewerWindow(w(5, 10, 10n), w(5, 10, 10n))).toBe(false);
    expect(isNewerWindow(w(5, 10, 99n, 1), w(5, 10, 10n, 0))).toBe(false);
  });

  it('orders device versions by offset within a partition, by event time across partitions', () => {
    expect(isNewerDevice(d(5n, 0, 1), d(4n, 0, 100))).toBe(true);
    expect(isNewerDevice(d(4n, 0), d(4n, 0))).toBe(false);
    expect(isNewerDevice(d(1n, 1, 200), d(9n, 0, 100))).toBe(true);
    expect(isNewerDevice(d(1n, 1, 50), d(9n, 0, 100))).toBe(false);
  });

  it('collapses a batch to the newest version per key, in any order', () => {
    const versions = [w(1, 1, 1n), w(3, 3, 3n), w(2, 2, 2n), w(1, 1, 4n)];
    for (const order of [versions, [...versions].reverse()]) {
      const [newest] = newestByKey(order, (r) => r.id, isNewerWindow);
      expect(newest?.event_count).toBe(3);
    }
  });
});

describe('retry policy', () => {
  it('retries connection and shutdown errors but not constraint or data errors', () => {
    for (const code of ['08006', 'CONNECTION_CLOSED', 'ECONNREFUSED', '57P01', '40001']) {
      expect(isRetryableDatabaseError({ code })).toBe(true);
    }
    for (const code of ['23505', '22003', '42P01', undefined]) expect(isRetryableDatabaseError({ code })).toBe(false);
  });

  it('blames the record only for data, constraint and size-limit errors, never for a missing table or a lost connection', () => {
    // 54000: "index row size … exceeds btree … maximum", what a 400 kB device id gets.
    for (const code of ['23505', '23514', '22003', '54000']) expect(isRecordRefusal({ code })).toBe(true);
    for (const code of ['42P01', '08006', '57P01', '53300', 'XX000', 'CONNECTION_CLOSED', undefined])
      expect(isRecordRefusal({ code })).toBe(false);
  });
});
