import { describe, expect, it } from 'vitest';
import {
  createMovementModel,
  DEFAULT_SIGMA,
  expectedFractionOutside,
  normalTail,
  OPERATIONAL_BOX,
  reflect,
  SPEC_START,
} from './movement.js';
import { createRandom } from './random.js';

function walk(options: { seed: string; sigma: number; steps: number; dtMs: (i: number) => number }) {
  const model = createMovementModel({ sigma: options.sigma, startTs: 0, random: createRandom(options.seed) });
  const ts: number[] = [0];
  const lat: number[] = [SPEC_START.latitude];
  const lon: number[] = [SPEC_START.longitude];
  let t = 0;
  for (let i = 0; i < options.steps; i++) {
    t += options.dtMs(i);
    const p = model.next(t);
    ts.push(t);
    lat.push(p.latitude);
    lon.push(p.longitude);
  }
  return { ts, lat, lon };
}

const diff = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]!);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: number[]) => {
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
};
function lag1(xs: number[]) {
  const m = mean(xs);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    den += (xs[i]! - m) ** 2;
    if (i > 0) num += (xs[i]! - m) * (xs[i - 1]! - m);
  }
  return num / den;
}

describe('movement model (Brownian motion)', () => {
  const sigma = DEFAULT_SIGMA;
  const n = 20_000;

  it('has increments with mean 0 and variance σ²Δt for a fixed Δt of 2 s', () => {
    const { lat, lon } = walk({ seed: 'increments', sigma, steps: n, dtMs: () => 2000 });
    const expectedVar = sigma * sigma * 2;
    for (const axis of [lat, lon]) {
      const inc = diff(axis);
      // Mean: 4 standard errors. Variance: chi-square with n−1 df, sd of s²/σ² is √(2/(n−1)).
      expect(Math.abs(mean(inc))).toBeLessThan(4 * Math.sqrt(expectedVar / n));
      expect(Math.abs(variance(inc) / expectedVar - 1)).toBeLessThan(4 * Math.sqrt(2 / (n - 1)));
    }
  });

  it('scales the increments with √Δt when fixes are irregular', () => {
    const gaps = [100, 500, 2000, 7000];
    const { ts, lat } = walk({ seed: 'irregular', sigma, steps: n, dtMs: (i) => gaps[i % gaps.length]! });
    const inc = diff(lat);
    const standardized = inc.map((d, i) => d / Math.sqrt((ts[i + 1]! - ts[i]!) / 1000));
    expect(Math.abs(variance(standardized) / (sigma * sigma) - 1)).toBeLessThan(4 * Math.sqrt(2 / (n - 1)));
    for (const gap of gaps) {
      const sub = inc.filter((_, i) => ts[i + 1]! - ts[i]! === gap);
      const expected = sigma * sigma * (gap / 1000);
      expect(Math.abs(variance(sub) / expected - 1)).toBeLessThan(4 * Math.sqrt(2 / (sub.length - 1)));
    }
  });

  it('is a walk: positions have lag-1 autocorrelation near 1, increments near 0', () => {
    const { lat, lon } = walk({ seed: 'autocorrelation', sigma, steps: n, dtMs: () => 2000 });
    for (const axis of [lat, lon]) {
      expect(lag1(axis)).toBeGreaterThan(0.99);
      expect(Math.abs(lag1(diff(axis)))).toBeLessThan(4 / Math.sqrt(n));
    }
  });

  it('spreads with variance σ²t across devices (it does not restart from the centre)', () => {
    const devices = 2000;
    const steps = 100;
    const finals: number[] = [];
    for (let d = 0; d < devices; d++) {
      const { lat } = walk({ seed: `spread-${d}`, sigma, steps, dtMs: () => 2000 });
      finals.push(lat[steps]! - SPEC_START.latitude);
    }
    const expected = sigma * sigma * steps * 2;
    expect(Math.abs(variance(finals) / expected - 1)).toBeLessThan(4 * Math.sqrt(2 / (devices - 1)));
  });

  it('gives identical positions for the same seed and fix times', () => {
    const a = walk({ seed: 'replay', sigma, steps: 50, dtMs: () => 2000 });
    const b = walk({ seed: 'replay', sigma, steps: 50, dtMs: () => 2000 });
    expect(a).toEqual(b);
  });

  it('keeps a reflecting walk inside the box', () => {
    const model = createMovementModel({
      sigma: 0.05,
      startTs: 0,
      random: createRandom('reflect'),
      boundary: 'reflect',
    });
    let outside = 0;
    for (let i = 1; i <= 5000; i++) {
      const p = model.next(i * 2000);
      if (
        p.latitude < OPERATIONAL_BOX.minLatitude ||
        p.latitude > OPERATIONAL_BOX.maxLatitude ||
        p.longitude < OPERATIONAL_BOX.minLongitude ||
        p.longitude > OPERATIONAL_BOX.maxLongitude
      )
        outside++;
    }
    expect(outside).toBe(0);
    expect(reflect(10.3, 8, 10)).toBeCloseTo(9.7, 12);
    expect(reflect(7.5, 8, 10)).toBeCloseTo(8.5, 12);
    expect(reflect(12.5, 8, 10)).toBeCloseTo(8.5, 12);
  });
});

describe('expected fraction of fixes outside the operational box', () => {
  it('computes the normal tail accurately', () => {
    expect(normalTail(0)).toBeCloseTo(0.5, 6);
    expect(normalTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalTail(-1)).toBeCloseTo(0.841345, 6);
  });

  it('matches a Monte Carlo of many devices over a day at a large σ', () => {
    const sigma = 0.003;
    const day = 86_400;
    const devices = 1000;
    const stepS = 60;
    let outside = 0;
    let total = 0;
    for (let d = 0; d < devices; d++) {
      const model = createMovementModel({ sigma, startTs: 0, random: createRandom(`mc-${d}`) });
      for (let t = stepS; t <= day; t += stepS) {
        const p = model.next(t * 1000);
        total++;
        if (Math.abs(p.latitude - 9) > 1 || Math.abs(p.longitude - 107) > 1) outside++;
      }
    }
    const predicted = expectedFractionOutside({ sigma, durationS: day });
    expect(predicted).toBeGreaterThan(0.19);
    // Fixes of one device are strongly correlated, so the error is per device: ≈ 0.3/√1000 ≈ 0.01.
    expect(Math.abs(outside / total - predicted)).toBeLessThan(0.04);
  });

  it('keeps the default σ mostly inside over a day (the documented 0.017 %)', () => {
    const fraction = expectedFractionOutside({ sigma: DEFAULT_SIGMA, durationS: 86_400 });
    expect(fraction).toBeGreaterThan(1.5e-4);
    expect(fraction).toBeLessThan(1.9e-4);
  });
});
