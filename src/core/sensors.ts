/**
 * The sensor model: each reading is uniform in its normal range [min, max], except that with probability
 * `anomalyRate` it is an anomaly that falls OUTSIDE the range by a random fraction u ∈ (0, deviation] of the
 * range width: `max + u·(max − min)` or `min − u·(max − min)`, both sides equally likely. (The original
 * implementation's anomalies never left the range.)
 */
import type { Random } from './random.js';

export interface SensorSpec {
  /** Lower end of the normal range. */
  min: number;
  /** Upper end of the normal range (greater than `min`). */
  max: number;
  /** Probability that a reading is an anomaly, in [0, 1]. */
  anomalyRate: number;
  /** Largest distance of an anomaly from the range, as a fraction of (max − min); greater than 0. */
  deviation: number;
}

export const SENSOR_NAMES = ['sound', 'temperature', 'altitude'] as const;
export type SensorName = (typeof SENSOR_NAMES)[number];
export type SensorSpecs = Record<SensorName, SensorSpec>;

/** The specification's parameters. */
export const DEFAULT_SENSORS: SensorSpecs = {
  sound: { min: 30, max: 50, anomalyRate: 0.25, deviation: 0.2 },
  temperature: { min: 20, max: 30, anomalyRate: 0.15, deviation: 0.2 },
  altitude: { min: 1000, max: 2000, anomalyRate: 0.1, deviation: 0.2 },
};

export interface Reading {
  value: number;
  anomaly: boolean;
}

/** Draws one reading. Consumes a fixed number of draws per branch, so equal seeds give equal sequences. */
export function readSensor(spec: SensorSpec, random: Random): Reading {
  const width = spec.max - spec.min;
  if (random.next() < spec.anomalyRate) {
    const high = random.next() < 0.5;
    // 1 − next() lies in (0, 1], so u lies in (0, deviation] and the reading is strictly outside the range.
    const u = spec.deviation * (1 - random.next());
    return { value: high ? spec.max + u * width : spec.min - u * width, anomaly: true };
  }
  return { value: spec.min + random.next() * width, anomaly: false };
}

export type StatusReading = Record<SensorName, number>;

export interface SensorModel {
  next(): StatusReading;
}

/** One device's sensors; draws in the fixed order sound, temperature, altitude. */
export function createSensorModel(specs: SensorSpecs, random: Random): SensorModel {
  return {
    next: () => ({
      sound: readSensor(specs.sound, random).value,
      temperature: readSensor(specs.temperature, random).value,
      altitude: readSensor(specs.altitude, random).value,
    }),
  };
}
