import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleTimes, thinWindows } from './track-thinning.js';

interface Window {
  window_start: number;
}

/** Windows at 2-second steps with random gaps (a device that goes silent now and then). */
const stepArb = fc.oneof(
  fc.constant(2000),
  fc.integer({ min: 1, max: 500 }).map((n) => n * 2000),
);
const windowsArb = fc.array(stepArb, { maxLength: 400 }).map((steps) => {
  const rows: Window[] = [{ window_start: 1_772_288_700_000 }];
  for (const step of steps) rows.push({ window_start: (rows[rows.length - 1] as Window).window_start + step });
  return rows;
});

describe('sampleTimes', () => {
  it('spreads the samples evenly, both ends included', () => {
    expect(sampleTimes(0, 10, 3)).toEqual([0, 5, 10]);
    expect(sampleTimes(1000, 1006, 4)).toEqual([1000, 1002, 1004, 1006]);
    expect(sampleTimes(5, 5, 10)).toEqual([5]);
  });

  it('is strictly increasing from first to last whenever the span allows it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: 2, max: 10_000 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (first, count, extra) => {
          const last = first + (count - 1) + extra;
          const times = sampleTimes(first, last, count);
          expect(times).toHaveLength(count);
          expect(times[0]).toBe(first);
          expect(times[count - 1]).toBe(last);
          expect(times.every((t, i) => i === 0 || t > (times[i - 1] as number))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('thinWindows', () => {
  it('keeps every window when they are no more than the limit', () => {
    const rows = [{ window_start: 0 }, { window_start: 2000 }, { window_start: 4000 }];
    expect(thinWindows(rows, 3)).toEqual(rows);
    expect(thinWindows([], 2)).toEqual([]);
  });

  it('keeps windows evenly spread in time, the first and the last among them', () => {
    // 10 windows 0…18 s, 4 samples at 0, 6, 12 and 18 s: exactly those windows.
    const rows = Array.from({ length: 10 }, (_, i) => ({ window_start: i * 2000 }));
    expect(thinWindows(rows, 4).map((r) => r.window_start)).toEqual([0, 6000, 12000, 18000]);
    // 3 samples at 0, 9 and 18 s: 9 s is no window start, so the window after it (10 s).
    expect(thinWindows(rows, 3).map((r) => r.window_start)).toEqual([0, 10000, 18000]);
  });

  it('collapses the samples that fall into a silent stretch into the window after it', () => {
    const rows = [0, 2000, 4000, 100_000, 102_000].map((window_start) => ({ window_start }));
    // Samples at 0, 34, 68 and 102 s: the two inside the gap both pick the window at 100 s.
    expect(thinWindows(rows, 4).map((r) => r.window_start)).toEqual([0, 100_000, 102_000]);
  });

  it('returns a subset of the windows, in time order, first and last kept, at most limit', () => {
    fc.assert(
      fc.property(windowsArb, fc.integer({ min: 2, max: 60 }), (rows, limit) => {
        const kept = thinWindows(rows, limit);
        expect(kept.length).toBeLessThanOrEqual(limit);
        if (rows.length <= limit) expect(kept).toEqual(rows);
        const stored = new Set(rows);
        expect(kept.every((row) => stored.has(row))).toBe(true);
        expect(kept.every((row, i) => i === 0 || row.window_start > (kept[i - 1] as Window).window_start)).toBe(true);
        expect(kept[0]).toBe(rows[0]);
        expect(kept[kept.length - 1]).toBe(rows[rows.length - 1]);
      }),
      { numRuns: 500 },
    );
  });
});
