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

  it('ends with the same windows and device rows as an uninterrupted run', () => {
    fc.assert(
      fc.property(arbInputs, fc.nat(), fc.nat(), (raw, cut, extra) => {
        const inputs = raw.map((r) =>
          r.side === 'location' ? loc(r.device, r.ts) : sta(r.device, r.ts, r.temperature),
        );
        const options = { windowGraceMs: 8000, joinRetentionMs: 10_000 };
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
        const hw = { location: 0, status: 0 };
        for (let i = 0; i < k; i++) hw[(inputs[i] as Input).side] = (offsets[i] as number) + 1;
        feed(t1, inputs, k, c, offsets);

        // Restart: device table from the last emitted values, join and windows by replay from the low-water.
        const second = collector();
        const t2 = topologyInto(options, second);
        for (const [key, d] of first.devices) t2.restoreDevice(key, d.ts, d.record);
        t2.beginReplay({ ...point, closedAtAggStreamTime: closedAt, resumeAt: hw });
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
  });
});
