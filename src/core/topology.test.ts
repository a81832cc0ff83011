import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LocationEvent, StatusEvent } from './decode.js';
import type { DeviceLatestRecord, JoinEventRecord, WindowAggregateRecord } from './results.js';
import { PartitionTopology, type TopologyOptions } from './topology.js';

type Input = { side: 'location'; event: LocationEvent } | { side: 'status'; event: StatusEvent };

interface Collected {
  joins: { key: string; ts: number; row: JoinEventRecord }[];
  windows: Map<string, WindowAggregateRecord>;
  devices: Map<string, { ts: number; record: DeviceLatestRecord }>;
}

const collector = (): Collected => ({ joins: [], windows: new Map(), devices: new Map() });

function topologyInto(options: TopologyOptions, c: Collected): PartitionTopology {
  return new PartitionTopology(options, {
    joinRow: (key, ts, row) => c.joins.push({ key, ts, row }),
    windowUpdate: (_key, _w, _ts, snapshot) => {
      const record = snapshot();
      c.windows.set(record.ID, record);
    },
    deviceUpdate: (key, ts, snapshot) => c.devices.set(key, { ts, record: snapshot() }),
  });
}

/** Feeds inputs with per-side offsets (their index among that side's records). */
function feed(t: PartitionTopology, inputs: Input[], from = 0, to = inputs.length, offsets = sideOffsets(inputs)) {
  for (let i = from; i < to; i++) {
    const input = inputs[i] as Input;
    if (input.side === 'location') t.processLocation(input.event, offsets[i]);
    else t.processStatus(input.event, offsets[i]);
  }
}

function sideOffsets(inputs: Input[]): number[] {
  const next = { location: 0, status: 0 };
  return inputs.map((i) => next[i.side]++);
}

const loc = (deviceId: string, eventTs: number, lat = 9, lon = 107): Input => ({
  side: 'location',
  event: { id: `l${eventTs}`, deviceId, latitude: lat, longitude: lon, eventTs },
});
const sta = (deviceId: string, eventTs: number, temperature: number | null = 20): Input => ({
  side: 'status',
  event: { id: `s${eventTs}`, deviceId, sound: 40, temperature, altitude: 1000, eventTs },
});

describe('PartitionTopology grace and state', () => {
  it('drops rows into windows closed by the grace and counts them, but still updates the device table', () => {
    const c = collector();
    const t = topologyInto({ windowGraceMs: 1000, joinRetentionMs: 3000 }, c);
    feed(t, [loc('a', 10_000), loc('a', 7_000)]);
    expect(t.counters.lateRowsDropped).toBe(1);
    expect([...c.windows.keys()]).toEqual(['a_10000_12000']);
    expect(c.devices.get('a')?.record.EVENT_TS).toBe(7000);
  });

  it('keeps state bounded under a continuous stream', () => {
    const t = topologyInto({ windowGraceMs: 5000, joinRetentionMs: 7000 }, collector());
    const sizes: number[] = [];
    for (let ts = 0; ts < 200_000; ts += 100) {
      feed(t, [sta(`d${ts % 7}`, ts), loc(`d${ts % 5}`, ts)]);
      if (ts % 10_000 === 0) {
        t.prune();
        sizes.push(t.stateSize.joinRecords + t.stateSize.windows);
      }
    }
    expect(Math.max(...sizes.slice(2))).toBeLessThanOrEqual(Math.max(...sizes.slice(0, 3)) * 1.5);
  });
});

interface RawInput {
  side: 'location' | 'status';
  device: string;
  ts: number;
  temperature: number | null;
}

describe('PartitionTopology restart from a replay point', () => {
  const arbInputs = fc.array(
    fc.record({
      side: fc.constantFrom('location' as const, 'status' as const),
      device: fc.constantFrom('a', 'b', 'c'),
      // Mostly increasing time with some disorder and occasional very late records.
      ts: fc.integer({ min: 0, max: 60_000 }),
      temperature: fc.option(fc.integer({ min: 10, max: 40 }), { nil: null }),
    }),
    { minLength: 5, maxLength: 120 },
  );

  /** Runs the restart property with `options`; `held` says whether the replayed stretch may be compared. */
  function restartProperty(options: TopologyOptions, devicesArb: fc.Arbitrary<RawInput[]> = arbInputs) {
    fc.assert(
      fc.property(devicesArb, fc.nat(), fc.nat(), (raw, cut, extra) => {
        const inputs = raw.map((r) =>
          r.side === 'location' ? loc(r.device, r.ts) : sta(r.device, r.ts, r.temperature),
        );
        const reference = collector();
        feed(topologyInto(options, reference), inputs);

        // First run: processes up to the checkpoint k, keeps emitting until the crash at c ≥ k.
        const k = cut % (inputs.length + 1);
        const c = k + (extra % (inputs.length - k + 1));
        const offsets = sideOffsets(inputs);
        const first = collector();
        const t1 = topologyInto(options, first);
        feed(t1, inputs, 0, k, offsets);
        t1.prune();
        const point = t1.replayPoint();
        const closedAt = t1.aggStreamTime;
        const evictedAtCheckpoint = { ...t1.deviceEvictions };
        const hw = { location: 0, status: 0 };
        for (let i = 0; i < k; i++) hw[(inputs[i] as Input).side] = (offsets[i] as number) + 1;
        feed(t1, inputs, k, c, offsets);
        // A device forgotten and seen again between the checkpoint and the crash is restored with its new
        // aggregate, which the replay then re-applies older rows to (documented in docs/processor.md).
        fc.pre(
          t1.deviceEvictions.idle === evictedAtCheckpoint.idle && t1.deviceEvictions.cap === evictedAtCheckpoint.cap,
        );

        // Restart: device table from the last emitted values, join and windows by replay from the low-water.
        const second = collector();
        const t2 = topologyInto(options, second);
        t2.beginReplay({ ...point, closedAtAggStreamTime: closedAt, resumeAt: hw });
        for (const [key, d] of first.devices) t2.restoreDevice(key, d.ts, d.record);
        const low = { location: point.location ?? hw.location, status: point.status ?? hw.status };
        for (let i = 0; i < inputs.length; i++) {
          const input = inputs[i] as Input;
          if ((offsets[i] as number) >= low[input.side]) feed(t2, inputs, i, i + 1, offsets);
        }
        const windows = new Map([...first.windows, ...second.windows]);
        const devices = new Map([...first.devices, ...second.devices]);
        expect(windows).toEqual(reference.windows);
        expect(devices).toEqual(reference.devices);
      }),
      { numRuns: 300 },
    );
  }

  it('ends with the same windows and device rows as an uninterrupted run', () => {
    restartProperty({ windowGraceMs: 8000, joinRetentionMs: 10_000 });
  });

  it('does so too when the per-device table forgets idle devices and caps their number', () => {
    const fourDevices = fc.array(
      fc.record({
        side: fc.constantFrom('location' as const, 'status' as const),
        device: fc.constantFrom('a', 'b', 'c', 'd'),
        ts: fc.integer({ min: 0, max: 60_000 }),
        temperature: fc.option(fc.integer({ min: 10, max: 40 }), { nil: null }),
      }),
      { minLength: 5, maxLength: 120 },
    );
    restartProperty(
      { windowGraceMs: 8000, joinRetentionMs: 10_000, deviceIdleHorizonMs: 12_000, maxDevices: 2 },
      fourDevices,
    );
  });
});

describe('PartitionTopology bounded per-device table', () => {
  it('forgets a device idle beyond the horizon: its next row starts a fresh LATEST_BY_OFFSET', () => {
    const options = { windowGraceMs: 1000, joinRetentionMs: 3000, deviceIdleHorizonMs: 10_000 };
    const run = (horizon: number | undefined) => {
      const c = collector();
      const t = topologyInto({ ...options, deviceIdleHorizonMs: horizon ?? Number.POSITIVE_INFINITY }, c);
      // a's status at 1000 joins its fix at 1000; b moves stream time to 11000; a's next fix has no status.
      feed(t, [sta('a', 1000, 25), loc('a', 1000), loc('b', 11_000), loc('a', 11_500)]);
      return { record: c.devices.get('a')?.record, evictions: t.deviceEvictions, size: t.stateSize.devices };
    };
    // ksqlDB (no horizon) keeps the temperature of the status 10.5 s earlier; with the horizon it starts afresh.
    expect(run(undefined).record?.TEMPERATURE).toBe(25);
    const bounded = run(10_000);
    expect(bounded.record).toMatchObject({ TEMPERATURE: null, LATITUDE: 9, EVENT_TS: 11_500 });
    expect(bounded.evictions).toEqual({ idle: 1, cap: 0 });
  });

  it('keeps a device seen within the horizon, and prune removes idle ones without a row of theirs', () => {
    const c = collector();
    const t = topologyInto({ windowGraceMs: 1000, joinRetentionMs: 3000, deviceIdleHorizonMs: 10_000 }, c);
    feed(t, [loc('a', 1000), loc('b', 10_999)]);
    t.prune();
    expect(t.stateSize.devices).toBe(2);
    feed(t, [loc('b', 11_000)]);
    t.prune();
    expect(t.stateSize.devices).toBe(1);
    expect(t.deviceEvictions).toEqual({ idle: 1, cap: 0 });
  });

  it('holds at most maxDevices, the least recently seen going first, and reports each eviction', () => {
    const evicted: string[] = [];
    const t = topologyInto(
      {
        windowGraceMs: 1000,
        joinRetentionMs: 3000,
        maxDevices: 2,
        onDeviceEvicted: (id, reason) => evicted.push(`${id}:${reason}`),
      },
      collector(),
    );
    feed(t, [loc('a', 1000), loc('b', 2000), loc('a', 3000), loc('c', 4000), loc('d', 5000)]);
    expect(evicted).toEqual(['b:cap', 'a:cap']);
    expect(t.stateSize.devices).toBe(2);
  });

  it('restores only devices not idle at the checkpoint, within the cap', () => {
    const t = topologyInto(
      { windowGraceMs: 1000, joinRetentionMs: 3000, deviceIdleHorizonMs: 10_000, maxDevices: 2 },
      collector(),
    );
    t.beginReplay({
      joinStreamTime: 20_000,
      aggStreamTime: 20_000,
      closedAtAggStreamTime: 20_000,
      resumeAt: { location: 0, status: 0 },
    });
    const record = { LATITUDE: 9, LONGITUDE: 107, DISTANCE: 0, EVENT_TS: 1, TEMPERATURE: 1, SOUND: 1, ALTITUDE: 1 };
    t.restoreDevice('old', 10_000, record);
    t.restoreDevice('x', 12_000, record);
    t.restoreDevice('y', 15_000, record);
    t.restoreDevice('z', 14_000, record);
    expect(t.stateSize.devices).toBe(2);
    expect(t.deviceEvictions).toEqual({ idle: 0, cap: 1 });
  });
});
