import { describe, expect, it } from 'vitest';
import { type DeviceLatestRecord, decodeWindowedKey, type WindowAggregateRecord } from '../core/results.js';
import { joinEventJson, OutputBuffer } from './emitter.js';

const topics = { joinEvents: 'j', per2s: 'w', perDevice: 'd', deadLetters: 'x' };

describe('joinEventJson', () => {
  it('is byte-identical to JSON.stringify', () => {
    const row = {
      ID: 'l"1\\',
      LATITUDE: 9.5,
      LONGITUDE: 107,
      DISTANCE: 78.11700792544114,
      EVENT_TS: 1000,
      DI_: null,
      TEMPERATURE: null,
      SOUND: 1e-7,
      ALTITUDE: -0.5,
    };
    expect(joinEventJson(row)).toBe(JSON.stringify(row));
    expect(joinEventJson({ ...row, DI_: 'dev-1', TEMPERATURE: 30 })).toBe(
      JSON.stringify({ ...row, DI_: 'dev-1', TEMPERATURE: 30 }),
    );
  });
});

describe('OutputBuffer', () => {
  it('coalesces table updates per key to the latest value, keeps every stream row', () => {
    const buffer = new OutputBuffer('coalesce', topics);
    const out = buffer.forPartition(2);
    let count = 1;
    const snapshot = () => ({ EVENT_COUNT: count }) as unknown as WindowAggregateRecord;
    out.windowUpdate('dev-1', { start: 2000, end: 4000 }, 2500, snapshot);
    count = 2;
    out.windowUpdate('dev-1', { start: 2000, end: 4000 }, 2600, snapshot);
    out.deviceUpdate('dev-1', 2600, () => ({ LATITUDE: 9 }) as DeviceLatestRecord);
    const messages = buffer.drain();
    expect(messages).toHaveLength(2);
    const window = messages.find((m) => m.topic === 'w');
    expect(JSON.parse(window?.value?.toString() ?? '')).toEqual({ EVENT_COUNT: 2 });
    expect(window?.partition).toBe(2);
    expect(window?.timestamp).toBe(2600n);
    expect(decodeWindowedKey(window?.key as Buffer)).toEqual({ deviceId: 'dev-1', windowStart: 2000 });
    expect(buffer.size).toBe(0);
  });

  it('writes every update in order in every-update mode', () => {
    const buffer = new OutputBuffer('every-update', topics);
    const out = buffer.forPartition(0);
    let count = 1;
    const snapshot = () => ({ EVENT_COUNT: count }) as unknown as WindowAggregateRecord;
    out.windowUpdate('dev-1', { start: 0, end: 2000 }, 100, snapshot);
    count = 2;
    out.windowUpdate('dev-1', { start: 0, end: 2000 }, 200, snapshot);
    expect(buffer.drain().map((m) => JSON.parse(m.value?.toString() ?? ''))).toEqual([
      { EVENT_COUNT: 1 },
      { EVENT_COUNT: 2 },
    ]);
  });

  it('builds batch messages on demand in write order: dead letters, stream rows, then coalesced tables', () => {
    const buffer = new OutputBuffer('coalesce', topics);
    const out = buffer.forPartition(1);
    const row = {
      ID: 'l-1',
      LATITUDE: 9,
      LONGITUDE: 107,
      DISTANCE: 0,
      EVENT_TS: 10,
      DI_: null,
      TEMPERATURE: null,
      SOUND: null,
      ALTITUDE: null,
    };
    // Larger than one slab, and multi-byte UTF-8.
    const big = { ...row, ID: `é${'x'.repeat(2 * 1024 * 1024)}` };
    out.joinRow('dev-é', 10, row);
    out.deviceUpdate('dev-é', 10, () => ({ LATITUDE: 9 }) as DeviceLatestRecord);
    out.joinRow('dev-é', 11, big);
    buffer.deadLetter('src', 'status', 1, { offset: 5, timestamp: 7, key: null, value: Buffer.from('x') }, 'bad');
    const batch = buffer.drainBatch();
    expect(buffer.size).toBe(0);
    expect(batch.length).toBe(4);
    const messages = Array.from({ length: batch.length }, (_, i) => batch.message(i));
    expect(messages.map((m) => m.topic)).toEqual(['x', 'j', 'j', 'd']);
    expect([0, 1, 2, 3].map((i) => batch.partition(i))).toEqual([undefined, 1, 1, 1]);
    expect(messages[1]?.value?.toString()).toBe(JSON.stringify(row));
    expect(messages[2]?.value?.toString()).toBe(JSON.stringify(big));
    expect(messages[1]?.key?.toString()).toBe('dev-é');
    expect(messages[2]?.timestamp).toBe(11n);
  });
});
