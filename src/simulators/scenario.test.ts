import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors.js';
import { isSilentAt, reportScenario, resolveScenario, scheduleScenario } from './scenario.js';

const run = { devices: ['a', 'b', 'c', 'd'], locationIntervalMs: 2000 };

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isAppError(err) && err.code === 'BAD_REQUEST') return (err.details as { field: string }[])[0]!.field;
    throw err;
  }
  return undefined;
}

describe('which devices the script takes', () => {
  it('takes nothing without the fields (today’s behaviour)', () => {
    expect(resolveScenario({}, run)).toEqual({ silent: undefined, wander: undefined });
    expect(resolveScenario({ silent_devices: 0, wander_devices: 0 }, run)).toEqual({
      silent: undefined,
      wander: undefined,
    });
  });

  it('silences the first devices and walks out the next ones, from 10 s and until the run ends by default', () => {
    expect(resolveScenario({ silent_devices: 1, wander_devices: 2 }, run)).toEqual({
      silent: { devices: ['a'], afterMs: 10_000, forMs: undefined },
      wander: { devices: ['b', 'c'], afterMs: 10_000, forMs: undefined },
    });
    expect(resolveScenario({ wander_devices: 1, wander_after_ms: 0, wander_for_ms: 12_000 }, run).wander).toEqual({
      devices: ['a'],
      afterMs: 0,
      forMs: 12_000,
    });
  });

  it('refuses more devices than the run has, and a wander too short to get out, naming the field', () => {
    expect(fieldOf(() => resolveScenario({ silent_devices: 5 }, run))).toBe('silent_devices');
    expect(fieldOf(() => resolveScenario({ silent_devices: 2, wander_devices: 3 }, run))).toBe('wander_devices');
    expect(fieldOf(() => resolveScenario({ silent_devices: 4 }, run))).toBeUndefined();
    // 5 intervals to walk out, then one fix outside: 6 × 2000 ms.
    expect(fieldOf(() => resolveScenario({ wander_devices: 1, wander_for_ms: 11_999 }, run))).toBe('wander_for_ms');
    expect(fieldOf(() => resolveScenario({ wander_devices: 1, wander_for_ms: 12_000 }, run))).toBeUndefined();
  });
});

describe('the schedule', () => {
  const config = {
    silent: { devices: ['a'], afterMs: 4000, forMs: 6000 },
    wander: { devices: ['b'], afterMs: 1000, forMs: 30_000 },
    locationIntervalMs: 2000,
  };
  const t0 = 1_764_000_000_000;
  const schedule = scheduleScenario(config, t0);

  it('places the silent window and the wander at absolute times', () => {
    expect(schedule.silent).toEqual({ devices: ['a'], from: t0 + 4000, until: t0 + 10_000 });
    expect(schedule.wander).toEqual({ devices: ['b'], from: t0 + 1000, until: t0 + 31_000, legMs: 10_000 });
  });

  it('has a device silent from `from` (included) to `until` (excluded)', () => {
    const w = schedule.silent!;
    expect([3999, 4000, 9999, 10_000].map((ms) => isSilentAt(w, t0 + ms))).toEqual([false, true, true, false]);
    expect(isSilentAt({ from: 5, until: undefined }, Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('reports the timeline and the state at a time', () => {
    expect(reportScenario(schedule, t0 + 5000)).toEqual({
      silent: {
        devices: ['a'],
        from: '2025-11-24T16:00:04.000Z',
        until: '2025-11-24T16:00:10.000Z',
        state: 'silent',
      },
      wander: {
        devices: ['b'],
        from: '2025-11-24T16:00:01.000Z',
        away_from: '2025-11-24T16:00:11.000Z',
        until: '2025-11-24T16:00:31.000Z',
        back_by: '2025-11-24T16:00:41.000Z',
        state: 'leaving',
      },
    });
    const states = (ms: number) => {
      const r = reportScenario(schedule, t0 + ms);
      return [r.silent?.state, r.wander?.state];
    };
    expect(states(0)).toEqual(['pending', 'pending']);
    expect(states(11_000)).toEqual(['over', 'away']);
    expect(states(31_000)).toEqual(['over', 'returning']);
    expect(states(41_000)).toEqual(['over', 'over']);
    const open = reportScenario(scheduleScenario({ ...config, silent: { ...config.silent, forMs: undefined } }, t0), 0);
    expect(open.silent?.until).toBeNull();
    expect(
      reportScenario(scheduleScenario({ silent: undefined, wander: undefined, locationIntervalMs: 1 }, 0), 0),
    ).toEqual({ silent: null, wander: null });
  });
});
