import { describe, expect, it } from 'vitest';
import { distanceFromReference, geoDistance, isInGeofence } from './geo.js';

describe('geoDistance', () => {
  it('matches ksqlDB for the worked example', () => {
    expect(distanceFromReference(9.5, 107.5)).toBe(78.11700792544114);
  });

  it('is zero at the reference point and symmetric', () => {
    expect(geoDistance(9, 107, 9, 107)).toBe(0);
    expect(Math.abs(geoDistance(8, 106, 10, 108) - geoDistance(10, 108, 8, 106))).toBeLessThan(1e-9);
  });

  it('gives about 111.2 km per degree of latitude', () => {
    expect(geoDistance(9, 107, 10, 107)).toBeCloseTo(111.19492664455873, 9);
  });
});

describe('isInGeofence', () => {
  it('includes the bounds and excludes anything just outside', () => {
    for (const [lat, lon] of [
      [8, 106],
      [10, 108],
      [8, 108],
      [10, 106],
    ] as const) {
      expect(isInGeofence(lat, lon)).toBe(true);
    }
    for (const [lat, lon] of [
      [7.999999, 107],
      [10.000001, 107],
      [9, 105.999999],
      [9, 108.000001],
    ] as const) {
      expect(isInGeofence(lat, lon)).toBe(false);
    }
  });

  it('treats a null coordinate as outside (null BETWEEN is false)', () => {
    expect(isInGeofence(null, 107)).toBe(false);
  });
});
