import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { degreesOutside } from './alerts/alert-rules.js';
import { createMovementModel, OPERATIONAL_BOX, type Position } from './movement.js';
import { createRandom } from './random.js';
import { createWander, onEarth, WANDER_LEG_FIXES, WANDER_MARGIN_DEG, wanderPhase } from './wander.js';

const at = (latitude: number, longitude: number): Position => ({ latitude, longitude });

describe('wander phases', () => {
  it('leaves over [from, from + leg), stays away until `until`, returns over [until, until + leg)', () => {
    const plan = { from: 1000, until: 5000, legMs: 1000 };
    expect([999, 1000, 1999, 2000, 4999, 5000, 5999, 6000].map((ts) => wanderPhase(plan, ts))).toEqual([
      'pending',
      'leaving',
      'leaving',
      'away',
      'away',
      'returning',
      'returning',
      'over',
    ]);
    expect(wanderPhase({ from: 1000, until: undefined, legMs: 1000 }, 1e12)).toBe('away');
  });
});

describe('wander offset', () => {
  // From (9.2, 107.9) the nearest edge is the east one (108): the target is 108.5, 0.6° away.
  it('walks towards the nearest edge until the fix lies the margin beyond it', () => {
    const wander = createWander({ from: 1000, until: undefined, legMs: 1000 });
    expect(wander.apply(500, at(9.2, 107.9))).toEqual(at(9.2, 107.9));
    expect(wander.apply(1000, at(9.2, 107.9))).toEqual(at(9.2, 107.9));
    expect(wander.apply(1500, at(9.2, 107.9)).longitude).toBeCloseTo(108.2, 12);
    expect(wander.apply(2000, at(9.2, 107.9)).longitude).toBeCloseTo(108.5, 12);
    expect(wander.apply(2000, at(9.2, 107.9)).latitude).toBe(9.2);
  });

  it('grows the offset while away so that a walk heading back never brings the fix closer than the margin', () => {
    const wander = createWander({ from: 0, until: undefined, legMs: 1000 });
    wander.apply(0, at(9.2, 107.9)); // offset 0.6° east
    expect(wander.apply(1000, at(9.2, 107.5)).longitude).toBeCloseTo(108.5, 12); // grown to 1.0°
    expect(wander.apply(2000, at(9.2, 107.9)).longitude).toBeCloseTo(108.9, 12); // kept at 1.0°
  });

  it('shrinks the offset back to zero over the way back, then reports the walk itself', () => {
    const wander = createWander({ from: 0, until: 5000, legMs: 1000 });
    wander.apply(0, at(9.2, 107.9));
    expect(wander.apply(4000, at(9.2, 107.9)).longitude).toBeCloseTo(108.5, 12);
    expect(wander.apply(5500, at(9.2, 107.9)).longitude).toBeCloseTo(108.2, 12);
    expect(wander.apply(6000, at(9.2, 107.9))).toEqual(at(9.2, 107.9));
    expect(wander.apply(9000, at(9.1, 107.8))).toEqual(at(9.1, 107.8));
  });

  it('breaks a tie between edges by taking the north one, and leaves a device already far outside alone', () => {
    const centre = createWander({ from: 0, until: undefined, legMs: 1000 });
    centre.apply(0, at(9, 107));
    expect(centre.apply(1000, at(9, 107))).toEqual(at(10.5, 107));
    const far = createWander({ from: 0, until: undefined, legMs: 1000 });
    expect(far.apply(0, at(89.9, 107))).toEqual(at(89.9, 107));
    expect(far.apply(1000, at(89.95, 107))).toEqual(at(89.95, 107));
  });

  it('keeps fixes on Earth', () => {
    expect(onEarth(at(95, 181))).toEqual(at(90, -179));
    expect(onEarth(at(-91, -181))).toEqual(at(-90, 179));
    expect(onEarth(at(9, 107))).toEqual(at(9, 107));
  });
});

describe('a wandering Brownian walk', () => {
  const intervalMs = 2000;
  const legMs = WANDER_LEG_FIXES * intervalMs;

  it('is outside the box by the margin while away, back on its own walk after, and unchanged before', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 8 }),
        fc.double({ min: 0.0001, max: 0.01, noNaN: true }),
        fc.double({ min: 8.1, max: 9.9, noNaN: true }),
        fc.double({ min: 106.1, max: 107.9, noNaN: true }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 6, max: 40 }),
        (seed, sigma, latitude, longitude, fromFix, awayFixes) => {
          const model = () =>
            createMovementModel({ sigma, start: at(latitude, longitude), startTs: 0, random: createRandom(seed) });
          const plain = model();
          const wandering = model();
          const from = fromFix * intervalMs + 700;
          const until = from + awayFixes * intervalMs;
          const wander = createWander({ from, until, legMs });
          let firstOutside: number | undefined;
          for (let ts = intervalMs; ts < until + legMs + 20 * intervalMs; ts += intervalMs) {
            const own = plain.next(ts);
            const fix = wander.apply(ts, wandering.next(ts));
            const outside = degreesOutside(fix.latitude, fix.longitude, OPERATIONAL_BOX);
            if (outside > 0 && firstOutside === undefined) firstOutside = ts;
            const phase = wanderPhase({ from, until, legMs }, ts);
            if (phase === 'pending' || phase === 'over') expect(fix).toEqual(own);
            if (phase === 'away') expect(outside).toBeGreaterThanOrEqual(WANDER_MARGIN_DEG - 1e-9);
          }
          // Out within the way out: at the latest at its last fix, which lies at or after from + leg − interval.
          expect(firstOutside).toBeLessThanOrEqual(from + legMs);
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});
