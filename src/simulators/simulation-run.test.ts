import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { degreesOutside } from '../core/alerts/alert-rules.js';
import { LocationRecordSchema, StatusRecordSchema } from '../core/events.js';
import { OPERATIONAL_BOX } from '../core/movement.js';
import type { OutgoingRecord } from './batching-sender.js';
import { resolveSimulation, type SimulationRequest, SPEC_DEFAULTS } from './simulation-config.js';
import { startSimulationRun } from './simulation-run.js';

const topics = { location: 'loc', status: 'st' };

function runFor(request: SimulationRequest, ms: number, capacity = Number.POSITIVE_INFINITY) {
  const clock = createManualClock(1_764_000_000_000);
  const records: OutgoingRecord[] = [];
  const sender = { offer: (r: OutgoingRecord) => records.length < capacity && records.push(r) > 0 };
  const config = resolveSimulation(request, SPEC_DEFAULTS, () => 1);
  let finished = 0;
  const run = startSimulationRun({ config, clock, sender, topics, onFinished: () => finished++ });
  clock.advance(ms);
  return { records, run, clock, finished: () => finished };
}

describe('simulation run', () => {
  it('gives every default device one location per 2 s and one status per 0.5 s', () => {
    const { records } = runFor({ seed: 7 }, 10_000 - 1);
    for (const device of ['dev-1', 'dev-2', 'dev-3']) {
      expect(records.filter((r) => r.topic === 'loc' && r.key === device).length).toBe(5);
      expect(records.filter((r) => r.topic === 'st' && r.key === device).length).toBe(20);
      const ts = records.filter((r) => r.topic === 'st' && r.key === device).map((r) => r.timestamp);
      expect(new Set(ts.slice(1).map((t, i) => t - ts[i]!))).toEqual(new Set([500]));
    }
  });

  it('spreads the devices so that they do not fire in the same millisecond', () => {
    const { records } = runFor({ seed: 7 }, 2000 - 1);
    for (const topic of ['loc', 'st']) {
      const first = ['dev-1', 'dev-2', 'dev-3'].map((d) => records.find((r) => r.topic === topic && r.key === d)!);
      expect(new Set(first.map((r) => r.timestamp)).size).toBe(3);
    }
  });

  it('writes the specification fields, keyed by device id, with event_ts as the record timestamp', () => {
    const { records } = runFor({ seed: 7 }, 2000);
    const location = records.find((r) => r.topic === 'loc')!;
    const status = records.find((r) => r.topic === 'st')!;
    const loc = JSON.parse(location.value);
    const st = JSON.parse(status.value);
    expect(Object.keys(loc)).toEqual(['id', 'device_id', 'latitude', 'longitude', 'event_ts']);
    expect(Object.keys(st)).toEqual(['id', 'device_id', 'sound', 'temperature', 'altitude', 'event_ts']);
    expect(LocationRecordSchema.parse(loc).device_id).toBe(location.key);
    expect(StatusRecordSchema.parse(st).event_ts).toBe(status.timestamp);
    expect(loc.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(records.map((r) => JSON.parse(r.value).id)).size).toBe(records.length);
  });

  it('replays the same values for the same seed (ids aside)', () => {
    const strip = (rs: OutgoingRecord[]) =>
      rs.map((r) => {
        const { id: _id, event_ts, ...rest } = JSON.parse(r.value);
        return { ...rest, offset: event_ts - 1_764_000_000_000 };
      });
    const a = strip(runFor({ seed: 'replay' }, 30_000).records);
    const b = strip(runFor({ seed: 'replay' }, 30_000).records);
    const c = strip(runFor({ seed: 'other' }, 30_000).records);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('moves each device as a walk from lat 9 / lon 107', () => {
    const { records } = runFor({ seed: 1, sigma: 0.01 }, 60_000);
    const fixes = records.filter((r) => r.topic === 'loc' && r.key === 'dev-2').map((r) => JSON.parse(r.value));
    expect(fixes.length).toBe(30);
    // Consecutive fixes are close (steps of σ√2 ≈ 0.014°), far closer than the spread from the start.
    const steps = fixes.slice(1).map((f, i) => Math.abs(f.latitude - fixes[i].latitude));
    expect(Math.max(...steps)).toBeLessThan(0.1);
    expect(Math.abs(fixes[0].latitude - 9)).toBeLessThan(0.1);
  });

  it('stops after the duration or the event budget and reports it once', () => {
    const timed = runFor({ seed: 1, duration_ms: 5000 }, 60_000);
    expect(timed.finished()).toBe(1);
    expect(timed.run.finished).toBe(true);
    expect(timed.records.every((r) => r.timestamp < timed.run.startedAt + 5000)).toBe(true);
    const counted = runFor({ seed: 1, max_events: 7 }, 60_000);
    expect(counted.records.length).toBe(7);
    expect(counted.finished()).toBe(1);
  });

  it('counts ticks refused by a full sender as skipped (backpressure), without stopping', () => {
    const { records, run } = runFor({ seed: 1 }, 10_000 - 1, 10);
    const counters = run.counters();
    expect(records.length).toBe(10);
    expect(counters.location.generated + counters.status.generated).toBe(10);
    expect(counters.location.skippedBackpressure + counters.status.skippedBackpressure).toBe(75 - 10);
    expect(run.finished).toBe(false);
  });

  it('skips and counts ticks that are far too late instead of firing a burst', () => {
    const manual = createManualClock(0);
    let stallMs = 0;
    // A clock whose timers fire `stallMs` late, as when the event loop was blocked.
    const clock = { ...manual, now: () => manual.now() + stallMs };
    const records: OutgoingRecord[] = [];
    const config = resolveSimulation({ seed: 1, devices: ['a'] }, SPEC_DEFAULTS, () => 1);
    const run = startSimulationRun({ config, clock, sender: { offer: (r) => records.push(r) > 0 }, topics });
    stallMs = 60_000;
    manual.advance(125); // the first status tick (phase 125 ms) wakes 60 s late
    const counters = run.counters();
    // Ticks more than 1 s late are skipped: 118 status ticks and 30 location ticks; only the last second fires.
    expect(counters.status.skippedLate).toBe(118);
    expect(counters.location.skippedLate).toBe(30);
    expect(counters.status.generated).toBe(3);
    expect(records.map((r) => r.timestamp)).toEqual([59_125, 59_625, 60_125]);
    run.halt();
  });

  describe('with a script', () => {
    const T0 = 1_764_000_000_000;
    /** The values of one device's events on one topic, by offset from the start (ids aside). */
    const valuesOf = (records: OutgoingRecord[], topic: string, device: string) =>
      new Map(
        records
          .filter((r) => r.topic === topic && r.key === device)
          .map((r) => {
            const { id: _id, ...rest } = JSON.parse(r.value);
            return [r.timestamp - T0, rest];
          }),
      );

    it('publishes nothing of a silent device inside its window, then resumes where the seed puts it', () => {
      const plain = runFor({ seed: 7 }, 20_000 - 1).records;
      const { records, run } = runFor(
        { seed: 7, silent_devices: 1, silent_after_ms: 4000, silent_for_ms: 6000 },
        20_000 - 1,
      );
      // dev-1 fires locations at 333 + 2000·k and statuses at 41 + 500·k: 3 and 12 of them fall in [4000, 10000).
      expect(run.counters().location.skippedSilent).toBe(3);
      expect(run.counters().status.skippedSilent).toBe(12);
      for (const topic of ['loc', 'st']) {
        const silent = valuesOf(records, topic, 'dev-1');
        expect([...silent.keys()].filter((ms) => ms >= 4000 && ms < 10_000)).toEqual([]);
        const expected = [...valuesOf(plain, topic, 'dev-1')].filter(([ms]) => ms < 4000 || ms >= 10_000);
        expect([...silent]).toEqual(expected);
        for (const other of ['dev-2', 'dev-3'])
          expect(valuesOf(records, topic, other)).toEqual(valuesOf(plain, topic, other));
      }
    });

    it('walks a wandering device out of the box and back onto its own walk', () => {
      const plain = valuesOf(runFor({ seed: 7 }, 60_000).records, 'loc', 'dev-1');
      const { records } = runFor({ seed: 7, wander_devices: 1, wander_after_ms: 4000, wander_for_ms: 20_000 }, 60_000);
      const fixes = valuesOf(records, 'loc', 'dev-1');
      expect(fixes.size).toBe(plain.size);
      // Out over [4000, 14000), away until 24000, back over [24000, 34000).
      for (const [ms, fix] of fixes) {
        const outside = degreesOutside(fix.latitude, fix.longitude, OPERATIONAL_BOX);
        if (ms < 4000 || ms >= 34_000) expect(fix).toEqual(plain.get(ms));
        if (ms >= 14_000 && ms < 24_000) expect(outside).toBeGreaterThanOrEqual(0.5);
        if (ms >= 34_000) expect(outside).toBe(0);
      }
      expect(valuesOf(records, 'loc', 'dev-2')).toEqual(valuesOf(runFor({ seed: 7 }, 60_000).records, 'loc', 'dev-2'));
    });
  });
});
