import { describe, expect, it } from 'vitest';
import { decodeKsqlLatestRow, decodeKsqlWindowRow, decodeLatestRecord, decodeWindowRecord } from './output-records.js';
import { encodeWindowedKey, type WindowAggregateRecord } from './results.js';

const record = (deviceId: string, start: number): WindowAggregateRecord => ({
  ID: `${deviceId}_${start}_${start + 2000}`,
  dev_id: deviceId,
  LATITUDE: 9,
  LONGITUDE: 107,
  DISTANCE: 0.5,
  EVENT_TS: start + 1,
  EVENT_COUNT: 2,
  AVG_TEMP: 25,
  AVG_SOUND: 40,
  AVG_ALT: 1500,
  WINDOW_START: start,
  WINDOW_END: start + 2000,
});
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('decodeWindowRecord', () => {
  it('decodes a per2s record, and a ksqlDB-written one without the window columns from its key', () => {
    expect(decodeWindowRecord(encodeWindowedKey('dev-1', 8000), json(record('dev-1', 8000)))).toEqual({
      ok: true,
      deviceId: 'dev-1',
      windowStart: 8000,
      record: record('dev-1', 8000),
    });
    const { WINDOW_START: _s, WINDOW_END: _e, dev_id: _d, ...bare } = record('dev-1', 8000);
    expect(decodeWindowRecord(encodeWindowedKey('dev-1', 8000), json(bare))).toEqual({
      ok: true,
      deviceId: 'dev-1',
      windowStart: 8000,
      record: record('dev-1', 8000),
    });
  });

  it('reads an empty value as a tombstone', () => {
    expect(decodeWindowRecord(encodeWindowedKey('d', 0), null)).toEqual({
      ok: true,
      deviceId: 'd',
      windowStart: 0,
      record: null,
    });
  });

  it.each([
    ['a short key', Buffer.from('short'), json({}), 'windowed key'],
    ['a non-JSON value', encodeWindowedKey('d', 0), Buffer.from('not json'), 'value is not JSON'],
    [
      'an infinite average',
      encodeWindowedKey('d', 0),
      Buffer.from(JSON.stringify(record('d', 0)).replace('"AVG_ALT":1500', '"AVG_ALT":1e999')),
      'AVG_ALT',
    ],
    ['another window in the value', encodeWindowedKey('d', 0), json(record('d', 2000)), 'differs from the key'],
    ['a zero count', encodeWindowedKey('d', 0), json({ ...record('d', 0), EVENT_COUNT: 0 }), 'EVENT_COUNT'],
    ['an oversized device id', encodeWindowedKey('d'.repeat(400_000), 0), json(record('d', 0)), 'device id'],
    ['an id of another window', encodeWindowedKey('d', 0), json({ ...record('d', 0), ID: 'e_0_2000' }), 'ID differs'],
  ])('rejects %s, naming the problem', (_, key, value, reason) => {
    const decoded = decodeWindowRecord(key, value);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toContain(reason);
  });
});

describe('decodeLatestRecord', () => {
  it('fills absent columns with null and reads an empty value as a tombstone', () => {
    expect(decodeLatestRecord(Buffer.from('d'), json({ LATITUDE: 9, EVENT_TS: 5 }))).toEqual({
      ok: true,
      deviceId: 'd',
      record: {
        LATITUDE: 9,
        LONGITUDE: null,
        DISTANCE: null,
        EVENT_TS: 5,
        TEMPERATURE: null,
        SOUND: null,
        ALTITUDE: null,
      },
    });
    expect(decodeLatestRecord(Buffer.from('d'), null)).toEqual({ ok: true, deviceId: 'd', record: null });
  });

  it('rejects a foreign record, a wrong type and a key that breaks the device-id rule', () => {
    expect(decodeLatestRecord(Buffer.from('d'), Buffer.from('{"LATITUDE":"x"}'))).toMatchObject({ ok: false });
    expect(decodeLatestRecord(Buffer.from('d'), Buffer.from('hello'))).toEqual({
      ok: false,
      reason: 'value is not JSON',
    });
    expect(decodeLatestRecord(Buffer.from('d'), json([1]))).toMatchObject({ ok: false });
    expect(decodeLatestRecord(Buffer.from('x'.repeat(129)), json({}))).toMatchObject({ ok: false });
    expect(decodeLatestRecord(null, json({}))).toMatchObject({ ok: false });
  });
});

describe('ksqlDB query rows', () => {
  it('decode with the same rules as the topic records', () => {
    const { WINDOW_START: _s, WINDOW_END: _e, dev_id: _d, ...value } = record('dev-2', 4000);
    expect(decodeKsqlWindowRow({ DEVICE_ID: 'dev-2', WINDOWSTART: 4000, WINDOWEND: 6000, ...value })).toEqual({
      ok: true,
      deviceId: 'dev-2',
      windowStart: 4000,
      record: record('dev-2', 4000),
    });
    expect(decodeKsqlWindowRow({ DEVICE_ID: 'dev-2', WINDOWSTART: 4000, ...value, EVENT_COUNT: -1 }).ok).toBe(false);
    expect(decodeKsqlWindowRow({ DEVICE_ID: 'dev-2', ...value }).ok).toBe(false);
    expect(decodeKsqlLatestRow({ DEVICE_ID: 'dev-2', LATITUDE: 9 })).toMatchObject({
      ok: true,
      deviceId: 'dev-2',
      record: { LATITUDE: 9, SOUND: null },
    });
    expect(decodeKsqlLatestRow({ LATITUDE: 9 }).ok).toBe(false);
  });
});
