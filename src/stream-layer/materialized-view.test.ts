import { describe, expect, it } from 'vitest';
import { decodeWindowRecord } from '../core/output-records.js';
import { encodeWindowedKey, toWindowAggregate } from '../core/results.js';
import { createMaterializedView } from './materialized-view.js';

const record = (deviceId: string, start: number, count = 1) => ({
  ID: `${deviceId}_${start}_${start + 2000}`,
  dev_id: deviceId,
  LATITUDE: 9,
  LONGITUDE: 107,
  DISTANCE: 0,
  EVENT_TS: start + 1,
  EVENT_COUNT: count,
  AVG_TEMP: 0,
  AVG_SOUND: 0,
  AVG_ALT: 0,
  WINDOW_START: start,
  WINDOW_END: start + 2000,
});

function apply(view: ReturnType<typeof createMaterializedView>, deviceId: string, start: number, count = 1) {
  const decoded = decodeWindowRecord(
    encodeWindowedKey(deviceId, start),
    Buffer.from(JSON.stringify(record(deviceId, start, count))),
  );
  if (!decoded.ok || !decoded.record) throw new Error('decode failed');
  return view.applyWindow(deviceId, start, toWindowAggregate(deviceId, decoded.record));
}

describe('materialized view', () => {
  it('keeps windows newest first, replaces revisions, and bounds windows per device', () => {
    const view = createMaterializedView({ windowsPerDevice: 3 });
    for (const start of [4000, 0, 2000, 6000]) apply(view, 'd', start);
    apply(view, 'd', 4000, 7);
    expect(view.listWindows('d', 10).map((w) => [w.window_start, w.event_count])).toEqual([
      [6000, 1],
      [4000, 7],
      [2000, 1],
    ]);
    expect(apply(view, 'd', 0)).toBeUndefined();
    expect(view.listWindows('d', 1)).toHaveLength(1);
    expect(view.listWindows('other', 10)).toEqual([]);
    view.applyWindow('d', 6000, null);
    expect(view.size()).toEqual({ devices: 1, windows: 2 });
  });

  it('lists latest state ordered by device id and forgets tombstoned devices', () => {
    const view = createMaterializedView();
    const row = (id: string) => ({
      device_id: id,
      latitude: 1,
      longitude: 2,
      distance: 3,
      event_ts: 4,
      temperature: null,
      sound: null,
      altitude: null,
    });
    view.applyLatest('b', row('b'));
    view.applyLatest('a', row('a'));
    expect(view.listLatest().map((r) => r.device_id)).toEqual(['a', 'b']);
    view.applyLatest('a', null);
    expect(view.listLatest().map((r) => r.device_id)).toEqual(['b']);
  });
});

describe('materialized view, bounded in devices', () => {
  const latest = (id: string, eventTs: number) => ({
    device_id: id,
    latitude: 1,
    longitude: 2,
    distance: 3,
    event_ts: eventTs,
    temperature: null,
    sound: null,
    altitude: null,
  });

  it('forgets a device whose rows are all the horizon behind the newest row, and says so', () => {
    const evicted: string[] = [];
    const view = createMaterializedView({
      deviceIdleHorizonMs: 10_000,
      onEvict: (id, reason) => evicted.push(`${id}:${reason}`),
    });
    apply(view, 'a', 0); // event_ts 1
    view.applyLatest('a', latest('a', 1));
    view.applyLatest('b', latest('b', 10_000));
    expect(view.listLatest().map((r) => r.device_id)).toEqual(['a', 'b']);
    view.applyLatest('b', latest('b', 10_001));
    expect(evicted).toEqual(['a:idle']);
    expect(view.listLatest().map((r) => r.device_id)).toEqual(['b']);
    expect(view.listWindows('a', 10)).toEqual([]);
    expect(view.size()).toEqual({ devices: 1, windows: 0 });
    expect(view.evictions()).toEqual({ idle: 1, cap: 0 });
  });

  it('holds at most maxDevices, the least recently seen going first', () => {
    const view = createMaterializedView({ maxDevices: 2 });
    for (const [id, ts] of [
      ['a', 100],
      ['b', 200],
      ['a', 300],
      ['c', 400],
    ] as const) {
      view.applyLatest(id, latest(id, ts));
    }
    expect(view.listLatest().map((r) => r.device_id)).toEqual(['a', 'c']);
    // A row older than every device held is forgotten at once: no change to hand on.
    expect(view.applyLatest('z', latest('z', 50))).toBeUndefined();
    expect(view.size().devices).toBe(2);
    expect(view.evictions()).toEqual({ idle: 0, cap: 2 });
  });

  it('stays within the cap while 20,000 device ids go through it', () => {
    const view = createMaterializedView({ maxDevices: 500, deviceIdleHorizonMs: 60_000 });
    let most = 0;
    for (let i = 0; i < 20_000; i++) {
      apply(view, `dev-${i}`, i * 10);
      view.applyLatest(`dev-${i}`, latest(`dev-${i}`, i * 10));
      most = Math.max(most, view.size().devices);
    }
    expect(most).toBe(500);
    expect(view.evictions().cap + view.evictions().idle).toBe(19_500);
  });
});
