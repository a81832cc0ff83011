import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from the first delay up to the cap', () => {
    const options = { initialMs: 100, maxMs: 1000, jitter: 'none' as const };
    expect([0, 1, 2, 3, 4, 60].map((n) => backoffDelay(n, options))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('draws from the upper half of the ceiling with equal jitter', () => {
    const at = (random: number) => backoffDelay(2, { initialMs: 100, maxMs: 1000, random: () => random });
    expect(at(0)).toBe(200);
    expect(at(1)).toBe(400);
    expect(at(0.5)).toBe(300);
  });
});

describe('Backoff', () => {
  it('counts attempts and starts over after a reset', () => {
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 'none' });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([250, 500, 1000]);
    expect(backoff.attempts).toBe(3);
    backoff.reset();
    expect(backoff.next()).toBe(250);
  });
});
