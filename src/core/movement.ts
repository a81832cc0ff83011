/**
 * The movement model: a true Brownian motion (random walk) per device.
 *
 * Each fix adds independent Gaussian displacements N(0, σ²·Δt) to latitude and longitude, where Δt is the
 * number of seconds since the device's previous fix. State carries over from fix to fix (the original
 * implementation restarted every draw from the centre, which is i.i.d. noise, not a walk). Optionally the walk
 * reflects off the edges of a box, which keeps it inside while preserving the Brownian increments elsewhere.
 */
import type { Random } from './random.js';

export interface Position {
  latitude: number;
  longitude: number;
}

/** An axis-aligned box in decimal degrees. */
export interface GeoBox {
  minLatitude: number;
  maxLatitude: number;
  minLongitude: number;
  maxLongitude: number;
}

/** The specification's starting point (latitude 9, longitude 107). */
export const SPEC_START: Position = { latitude: 9, longitude: 107 };

/** The operational box of the specification's geofence (JOIN_EVENTS keeps lat 8–10, lon 106–108). */
export const OPERATIONAL_BOX: GeoBox = { minLatitude: 8, maxLatitude: 10, minLongitude: 106, maxLongitude: 108 };

/**
 * Default σ in degrees per √second. With it a fix moves about 0.0014° (≈ 157 m) per axis every 2 s, about
 * 0.06° (≈ 6.7 km) per hour and 0.29° (≈ 33 km) per day; over the first 24 h about 0.017 % of fixes fall
 * outside the operational box (`expectedFractionOutside`, checked by Monte Carlo in movement.test.ts).
 */
export const DEFAULT_SIGMA = 0.001;

export type Boundary = 'none' | 'reflect';

export interface MovementOptions {
  /** Diffusion scale in degrees per √second. @default DEFAULT_SIGMA */
  sigma: number;
  /** Where the walk starts. @default SPEC_START */
  start?: Position;
  /** When the walk starts, epoch ms: the first fix's Δt is measured from here. */
  startTs: number;
  /** `reflect` mirrors steps that would leave `box` back inside it. @default 'none' */
  boundary?: Boundary;
  /** The box used by `boundary: 'reflect'`. @default OPERATIONAL_BOX */
  box?: GeoBox;
  random: Random;
}

export interface MovementModel {
  /** Advances the walk to `ts` (epoch ms, not before the previous fix) and returns the new position. */
  next(ts: number): Position;
  /** The current position, without advancing. */
  readonly position: Position;
}

/** Folds `x` back into [lo, hi] as a reflecting barrier does (works for steps longer than the interval). */
export function reflect(x: number, lo: number, hi: number): number {
  const width = hi - lo;
  let offset = (x - lo) % (2 * width);
  if (offset < 0) offset += 2 * width;
  return offset <= width ? lo + offset : hi - (offset - width);
}

export function createMovementModel(options: MovementOptions): MovementModel {
  const { sigma, random, boundary = 'none', box = OPERATIONAL_BOX } = options;
  const start = options.start ?? SPEC_START;
  let latitude = start.latitude;
  let longitude = start.longitude;
  let lastTs = options.startTs;
  return {
    next(ts) {
      const dtSeconds = Math.max(0, ts - lastTs) / 1000;
      lastTs = Math.max(lastTs, ts);
      const scale = sigma * Math.sqrt(dtSeconds);
      latitude += scale * random.gaussian();
      longitude += scale * random.gaussian();
      if (boundary === 'reflect') {
        latitude = reflect(latitude, box.minLatitude, box.maxLatitude);
        longitude = reflect(longitude, box.minLongitude, box.maxLongitude);
      }
      return { latitude, longitude };
    },
    get position() {
      return { latitude, longitude };
    },
  };
}

/** Upper tail of the standard normal, Q(x) = P(Z > x), via a rational erfc approximation (|error| < 1.2e-7). */
export function normalTail(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * Expected fraction of fixes outside a square box of half-width `halfWidth` degrees centred on the start,
 * for an unbounded walk observed uniformly over `durationS` seconds: the time average of
 * 1 − (1 − 2·Q(h / (σ√t)))², the two axes being independent.
 */
export function expectedFractionOutside(options: { sigma: number; durationS: number; halfWidth?: number }): number {
  const { sigma, durationS, halfWidth = 1 } = options;
  const steps = 20_000;
  let sum = 0;
  for (let i = 0; i < steps; i++) {
    const t = ((i + 0.5) / steps) * durationS;
    const pAxis = 2 * normalTail(halfWidth / (sigma * Math.sqrt(t)));
    sum += 1 - (1 - pAxis) ** 2;
  }
  return sum / steps;
}
