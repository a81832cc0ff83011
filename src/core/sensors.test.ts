import { describe, expect, it } from 'vitest';
import { createRandom } from './random.js';
import { createSensorModel, DEFAULT_SENSORS, readSensor, SENSOR_NAMES } from './sensors.js';

// Two-sided 99.9 % normal quantile, for binomial intervals p ± z·√(p(1−p)/n).
const z999 = 3.2905;
const n = 100_000;

describe('sensor model', () => {
  for (const name of SENSOR_NAMES) {
    const spec = DEFAULT_SENSORS[name];
    const width = spec.max - spec.min;

    it(`${name}: out-of-range fraction lies in the 99.9 % binomial interval of ${spec.anomalyRate}`, () => {
      const r = createRandom(`sensor-${name}`);
      let out = 0;
      let high = 0;
      let flaggedWrongly = 0;
      let maxDistance = 0;
      let minDistance = Number.POSITIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const { value, anomaly } = readSensor(spec, r);
        const outside = value < spec.min || value > spec.max;
        // Normal readings lie inside [min, max]; every anomaly lies outside.
        if (outside !== anomaly) flaggedWrongly++;
        if (outside) {
          out++;
          if (value > spec.max) high++;
          const distance = value > spec.max ? value - spec.max : spec.min - value;
          maxDistance = Math.max(maxDistance, distance);
          minDistance = Math.min(minDistance, distance);
        }
      }
      expect(flaggedWrongly).toBe(0);
      // Outside by more than 0 and at most deviation·(max − min) (plus float rounding).
      expect(minDistance).toBeGreaterThan(0);
      expect(maxDistance).toBeLessThanOrEqual(spec.deviation * width * (1 + 1e-12));
      expect(maxDistance).toBeGreaterThan(0.99 * spec.deviation * width);
      const p = spec.anomalyRate;
      expect(Math.abs(out / n - p)).toBeLessThan(z999 * Math.sqrt((p * (1 - p)) / n));
      // Both sides equally likely.
      expect(Math.abs(high / out - 0.5)).toBeLessThan(z999 * Math.sqrt(0.25 / out));
    });
  }

  it('spreads anomalies uniformly up to the deviation (mean distance deviation·width/2)', () => {
    const spec = { min: 0, max: 10, anomalyRate: 1, deviation: 0.2 };
    const r = createRandom('distance');
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const { value } = readSensor(spec, r);
      sum += value > spec.max ? value - spec.max : spec.min - value;
    }
    // Uniform(0, 2]: mean 1, sd 2/√12.
    expect(Math.abs(sum / n - 1)).toBeLessThan(4 * (2 / Math.sqrt(12) / Math.sqrt(n)));
  });

  it('draws normal readings uniformly inside the range when the anomaly rate is 0', () => {
    const spec = { min: 20, max: 30, anomalyRate: 0, deviation: 0.2 };
    const r = createRandom('normal');
    let sum = 0;
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const { value, anomaly } = readSensor(spec, r);
      if (anomaly || value < 20 || value > 30) bad++;
      sum += value;
    }
    expect(bad).toBe(0);
    expect(Math.abs(sum / n - 25)).toBeLessThan(4 * (10 / Math.sqrt(12) / Math.sqrt(n)));
  });

  it('produces the same readings for the same seed, with the fields of a status event', () => {
    const a = createSensorModel(DEFAULT_SENSORS, createRandom('replay'));
    const b = createSensorModel(DEFAULT_SENSORS, createRandom('replay'));
    const first = Array.from({ length: 10 }, () => a.next());
    expect(first).toEqual(Array.from({ length: 10 }, () => b.next()));
    expect(Object.keys(first[0]!)).toEqual(['sound', 'temperature', 'altitude']);
  });
});
