import { describe, expect, it } from 'vitest';
import { appendTrail, type TrailPoint, trailOpacity } from './trail.js';

const fix = (at: number, latitude = 9): TrailPoint => ({ latitude, longitude: 107, at });

describe('the fading trail', () => {
  it('keeps fixes in time order and ignores repeats and older fixes', () => {
    const trail: TrailPoint[] = [];
    appendTrail(trail, fix(1000));
    appendTrail(trail, fix(3000));
    appendTrail(trail, fix(3000, 9.1)); // the same update again
    appendTrail(trail, fix(2000)); // older: the latest state never goes back
    expect(trail.map((p) => p.at)).toEqual([1000, 3000]);
  });

  it('is bounded by count and by age relative to the newest fix', () => {
    const limits = { maxPoints: 3, maxAgeMs: 10_000 };
    const trail: TrailPoint[] = [];
    for (let t = 0; t <= 8000; t += 2000) appendTrail(trail, fix(t), limits);
    expect(trail.map((p) => p.at)).toEqual([4000, 6000, 8000]);
    appendTrail(trail, fix(30_000), limits);
    expect(trail.map((p) => p.at)).toEqual([30_000]);
  });

  it('fades linearly from opaque to invisible over its age limit', () => {
    expect(trailOpacity(0, 120_000)).toBe(1);
    expect(trailOpacity(60_000, 120_000)).toBeCloseTo(0.5, 9);
    expect(trailOpacity(200_000, 120_000)).toBe(0);
    expect(trailOpacity(-5, 120_000)).toBe(1);
  });
});
