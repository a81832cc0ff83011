import { describe, expect, it } from 'vitest';
import { createRandom, streamSeed } from './random.js';

describe('createRandom', () => {
  it('repeats the same sequence for the same seed and differs for another seed', () => {
    const a = createRandom(42);
    const b = createRandom('42');
    const c = createRandom(43);
    const seqA = Array.from({ length: 20 }, () => a.next());
    const seqB = Array.from({ length: 20 }, () => b.next());
    const seqC = Array.from({ length: 20 }, () => c.next());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    const r = createRandom('uniform');
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      if (u < 0 || u >= 1) outside++;
      sum += u;
      sumSq += u * u;
    }
    expect(outside).toBe(0);
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    // 4 standard errors: sd of a uniform is 1/√12.
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it('draws standard normals with mean 0, variance 1 and the right tail mass', () => {
    const r = createRandom('gauss');
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    let beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.gaussian();
      sum += z;
      sumSq += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    // Var of the sample variance of N(0,1) is 2/n.
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    const p = 0.0455003;
    expect(Math.abs(beyond2 / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
  });

  it('gives every device and model its own stream', () => {
    expect(streamSeed(7, 'dev-1', 'movement')).toBe('7:dev-1:movement');
    const a = createRandom(streamSeed(7, 'dev-1', 'movement')).next();
    const b = createRandom(streamSeed(7, 'dev-2', 'movement')).next();
    const c = createRandom(streamSeed(7, 'dev-1', 'sensors')).next();
    expect(new Set([a, b, c]).size).toBe(3);
  });
});
