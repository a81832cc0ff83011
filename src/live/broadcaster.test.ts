import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import type { AlertRecord } from '../core/alerts/alert-record.js';
import type { DeviceLatest, WindowAggregate } from '../core/results.js';
import { createBroadcaster, type Frame } from './broadcaster.js';

const latest = (deviceId: string, ts: number): DeviceLatest => ({
  device_id: deviceId,
  latitude: 9,
  longitude: 107,
  distance: 0,
  event_ts: ts,
  temperature: 25,
  sound: 40,
  altitude: 1500,
});

const windowRow = (deviceId: string, start: number, count = 1): WindowAggregate => ({
  id: `${deviceId}_${start}_${start + 2000}`,
  device_id: deviceId,
  window_start: start,
  window_end: start + 2000,
  latitude: 9,
  longitude: 107,
  distance: 0,
  event_ts: start + 10,
  event_count: count,
  avg_temp: 25,
  avg_sound: 40,
  avg_alt: 1500,
});

const eventTs = (frames: Frame[]) =>
  frames.flatMap((f) => (f.type === 'event' ? [(f.event.data as DeviceLatest).event_ts] : []));

describe('broadcaster', () => {
  it('sends a snapshot first, then changes, filtered by device', () => {
    const b = createBroadcaster();
    b.publish({ kind: 'latest', deviceId: 'dev-1', row: latest('dev-1', 1) });
    b.publish({ kind: 'latest', deviceId: 'dev-2', row: latest('dev-2', 1) });
    const sub = b.subscribe({ channel: 'latest', devices: new Set(['dev-2']), onReadable: () => undefined });
    const first = sub?.take() ?? [];
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ type: 'snapshot', rows: [{ device_id: 'dev-2' }] });
    b.publish({ kind: 'latest', deviceId: 'dev-1', row: latest('dev-1', 2) });
    b.publish({ kind: 'latest', deviceId: 'dev-2', row: latest('dev-2', 2) });
    expect(eventTs(sub?.take() ?? [])).toEqual([2]);
  });

  it('keeps only the newest pending change per device for a slow client and counts the rest', () => {
    const b = createBroadcaster();
    let readable = 0;
    const sub = b.subscribe({ channel: 'latest', onReadable: () => readable++ });
    sub?.take();
    for (let ts = 1; ts <= 100; ts++) b.publish({ kind: 'latest', deviceId: 'dev-1', row: latest('dev-1', ts) });
    expect(readable).toBe(1);
    expect(eventTs(sub?.take() ?? [])).toEqual([100]);
    expect(b.metrics().find((m) => m.name === 'sse_events_coalesced_total')?.value).toBe(99);
  });

  it('resumes after Last-Event-ID without gaps or duplicates, and snapshots for unknown ids', () => {
    const b = createBroadcaster({ historySize: 5 });
    const sub = b.subscribe({ channel: 'latest', onReadable: () => undefined });
    sub?.take();
    b.publish({ kind: 'latest', deviceId: 'dev-1', row: latest('dev-1', 1) });
    const frames = sub?.take() ?? [];
    const lastId = frames[0]?.type === 'event' ? frames[0].event.id : '';
    sub?.close();
    b.publish({ kind: 'latest', deviceId: 'dev-1', row: latest('dev-1', 2) });
    b.publish({ kind: 'latest', deviceId: 'dev-2', row: latest('dev-2', 3) });
    const resumed = b.subscribe({ channel: 'latest', lastEventId: lastId, onReadable: () => undefined });
    expect(resumed?.resumed).toBe(true);
    expect(eventTs(resumed?.take() ?? [])).toEqual([2, 3]);

    const foreign = b.subscribe({ channel: 'latest', lastEventId: 'ffffffff-1', onReadable: () => undefined });
    expect(foreign?.resumed).toBe(false);
    expect(foreign?.take()[0]?.type).toBe('snapshot');

    for (let ts = 10; ts < 20; ts++) b.publish({ kind: 'latest', deviceId: 'dev-3', row: latest('dev-3', ts) });
    const tooOld = b.subscribe({ channel: 'latest', lastEventId: lastId, onReadable: () => undefined });
    expect(tooOld?.resumed).toBe(false);
  });

  it('ignores rows identical to the state it holds, separates channels and enforces maxClients', () => {
    const b = createBroadcaster({ maxClients: 2 });
    const windows = b.subscribe({ channel: 'window', onReadable: () => undefined });
    windows?.take();
    b.publish({ kind: 'window', deviceId: 'dev-1', row: windowRow('dev-1', 0) });
    b.publish({ kind: 'window', deviceId: 'dev-1', row: windowRow('dev-1', 0) });
    b.publish({ kind: 'latest', deviceId: 'dev-1', row: latest('dev-1', 5) });
    const got = windows?.take() ?? [];
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: 'event', event: { channel: 'window' } });
    expect(b.subscribe({ channel: 'latest', onReadable: () => undefined })).toBeDefined();
    expect(b.subscribe({ channel: 'latest', onReadable: () => undefined })).toBeUndefined();
  });

  it('queues one heartbeat per client and wakes idle clients', () => {
    const b = createBroadcaster();
    let woke = 0;
    const sub = b.subscribe({ channel: 'latest', onReadable: () => woke++ });
    sub?.take();
    b.heartbeat();
    b.heartbeat();
    expect(woke).toBe(1);
    expect(sub?.take()).toEqual([{ type: 'heartbeat' }]);
  });

  it('keeps the final revision of every window of a device, bounded by maxPendingPerClient', () => {
    const b = createBroadcaster({ maxPendingPerClient: 3 });
    const sub = b.subscribe({ channel: 'window', onReadable: () => undefined });
    sub?.take();
    b.publish({ kind: 'window', deviceId: 'dev-1', row: windowRow('dev-1', 0, 1) });
    b.publish({ kind: 'window', deviceId: 'dev-1', row: windowRow('dev-1', 0, 2) });
    b.publish({ kind: 'window', deviceId: 'dev-1', row: windowRow('dev-1', 2000, 1) });
    const rows = (sub?.take() ?? []).flatMap((f) => (f.type === 'event' ? [f.event.data as WindowAggregate] : []));
    expect(rows.map((r) => [r.window_start, r.event_count])).toEqual([
      [0, 2],
      [2000, 1],
    ]);
    for (let i = 2; i < 8; i++) b.publish({ kind: 'window', deviceId: 'dev-1', row: windowRow('dev-1', i * 2000) });
    const bounded = (sub?.take() ?? []).flatMap((f) =>
      f.type === 'event' ? [(f.event.data as WindowAggregate).window_start] : [],
    );
    expect(bounded).toEqual([10_000, 12_000, 14_000]);
    expect(b.metrics().find((m) => m.name === 'sse_events_dropped_total')?.value).toBe(3);
  });

  it('keeps active alerts as the snapshot, filters by device and type, and ignores revisions already seen', () => {
    const b = createBroadcaster();
    const alert = (
      device: string,
      type: AlertRecord['type'],
      revision: number,
      status: AlertRecord['status'] = 'active',
    ) =>
      ({
        alert_id: `${device}/${type}/-/1`,
        device_id: device,
        type,
        metric: null,
        status,
        severity: 'warning',
        opened_at: 1,
        cleared_at: status === 'cleared' ? 5 : null,
        updated_at: revision,
        readings: revision,
        worst_value: null,
        normal_min: null,
        normal_max: null,
        latitude: null,
        longitude: null,
        revision,
      }) satisfies AlertRecord;
    b.publish({ kind: 'alert', deviceId: 'dev-1', row: alert('dev-1', 'inactive', 1) });
    b.publish({ kind: 'alert', deviceId: 'dev-2', row: alert('dev-2', 'outside_geofence', 1) });
    b.publish({ kind: 'alert', deviceId: 'dev-3', row: alert('dev-3', 'inactive', 1) });
    b.publish({ kind: 'alert', deviceId: 'dev-3', row: alert('dev-3', 'inactive', 2, 'cleared') });
    const sub = b.subscribe({ channel: 'alert', types: new Set(['inactive']), onReadable: () => undefined });
    const [first] = sub?.take() ?? [];
    expect(first).toMatchObject({ type: 'snapshot', rows: [{ alert_id: 'dev-1/inactive/-/1' }] });
    b.publish({ kind: 'alert', deviceId: 'dev-1', row: alert('dev-1', 'inactive', 1) }); // a replay: not a change
    b.publish({ kind: 'alert', deviceId: 'dev-2', row: alert('dev-2', 'outside_geofence', 2) }); // another type
    b.publish({ kind: 'alert', deviceId: 'dev-1', row: alert('dev-1', 'inactive', 2, 'cleared') });
    const events = (sub?.take() ?? []).flatMap((f) => (f.type === 'event' ? [f.event.data as AlertRecord] : []));
    expect(events.map((a) => [a.alert_id, a.revision, a.status])).toEqual([['dev-1/inactive/-/1', 2, 'cleared']]);
    const later = b.subscribe({ channel: 'alert', onReadable: () => undefined });
    expect(later?.take()[0]).toMatchObject({ rows: [{ alert_id: 'dev-2/outside_geofence/-/1', revision: 2 }] });
  });
});

describe('broadcaster, bounded in devices', () => {
  const snapshotIds = (b: ReturnType<typeof createBroadcaster>, channel: 'latest' | 'window') => {
    const frame = b.subscribe({ channel, onReadable: () => undefined })?.take()[0];
    return frame?.type === 'snapshot' ? frame.rows.map((r) => (r as DeviceLatest).device_id) : [];
  };

  it('drops a device with no change for the horizon of the wall clock from both snapshots', () => {
    const clock = createManualClock(0);
    const b = createBroadcaster({ clock, deviceIdleHorizonMs: 10_000 });
    b.publish({ kind: 'latest', deviceId: 'dev-1', row: latest('dev-1', 1) });
    b.publish({ kind: 'window', deviceId: 'dev-1', row: windowRow('dev-1', 0) });
    clock.advance(5000);
    b.publish({ kind: 'latest', deviceId: 'dev-2', row: latest('dev-2', 1) });
    clock.advance(4999);
    expect(snapshotIds(b, 'latest')).toEqual(['dev-1', 'dev-2']);
    clock.advance(1);
    expect(snapshotIds(b, 'latest')).toEqual(['dev-2']);
    expect(snapshotIds(b, 'window')).toEqual([]);
    const evicted = b.metrics().find((m) => m.name === 'sse_devices_evicted_total' && m.labels?.reason === 'idle');
    expect(evicted?.value).toBe(1);
    // Forgotten, so the same row again is a change again.
    b.publish({ kind: 'latest', deviceId: 'dev-1', row: latest('dev-1', 1) });
    expect(snapshotIds(b, 'latest')).toEqual(['dev-1', 'dev-2']);
  });

  it('holds at most maxDevices, reporting each cap eviction', () => {
    const clock = createManualClock(0);
    const reported: string[] = [];
    const b = createBroadcaster({ clock, maxDevices: 2, onDeviceCapReached: (id, n) => reported.push(`${id}#${n}`) });
    for (const id of ['a', 'b', 'c', 'd']) {
      clock.advance(1);
      b.publish({ kind: 'latest', deviceId: id, row: latest(id, 1) });
    }
    expect(snapshotIds(b, 'latest')).toEqual(['c', 'd']);
    expect(reported).toEqual(['a#1', 'b#2']);
    expect(b.metrics().find((m) => m.name === 'sse_devices')?.value).toBe(2);
  });

  it('a deletion from the stream layer removes the device from both snapshots', () => {
    const b = createBroadcaster();
    b.publish({ kind: 'latest', deviceId: 'dev-1', row: latest('dev-1', 1) });
    b.publish({ kind: 'window', deviceId: 'dev-1', row: windowRow('dev-1', 0) });
    b.publish({ kind: 'latest', deviceId: 'dev-1', row: null });
    expect(snapshotIds(b, 'latest')).toEqual([]);
    expect(snapshotIds(b, 'window')).toEqual([]);
  });
});
