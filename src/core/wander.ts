/**
 * The wander manoeuvre of the simulators: an offset added to a device's Brownian walk that takes its fixes out of
 * the operational box and, when the wander is over, back onto the walk. It draws no random numbers, so a wandering
 * device's walk (and every other device) is the one the same seed gives without it.
 *
 * The offset points from the walk towards the nearest edge of the box, along one axis, chosen at the first fix of
 * the wander. It grows linearly over `legMs` (the way out) until the fix lies `marginDeg` beyond that edge. While
 * the device is away the offset only grows, by what keeps every fix at least `marginDeg` beyond the edge however
 * the walk moves. From `until` it shrinks linearly back to zero over `legMs` (the way back); from then on the
 * fixes are the walk's own again. Fixes are kept on Earth: latitude within ±90, longitude wrapped into ±180 (the
 * processor refuses anything else).
 */
import { type GeoBox, OPERATIONAL_BOX, type Position } from './movement.js';

/** How far beyond the box edge an away fix lies at least, in degrees (≈ 55 km). */
export const WANDER_MARGIN_DEG = 0.5;

/** The way out and the way back each take this many location intervals. */
export const WANDER_LEG_FIXES = 5;

export interface WanderPlan {
  /** Epoch ms when the way out starts. */
  from: number;
  /** Epoch ms when the way back starts; `undefined`: the device stays away. */
  until: number | undefined;
  /** Duration of the way out and of the way back, ms. */
  legMs: number;
  /** @default OPERATIONAL_BOX */
  box?: GeoBox;
  /** @default WANDER_MARGIN_DEG */
  marginDeg?: number;
}

export type WanderPhase = 'pending' | 'leaving' | 'away' | 'returning' | 'over';

/** The phase of a wander at `ts`: the way out is [from, from + legMs), the way back [until, until + legMs). */
export function wanderPhase(plan: Pick<WanderPlan, 'from' | 'until' | 'legMs'>, ts: number): WanderPhase {
  if (ts < plan.from) return 'pending';
  if (plan.until !== undefined && ts >= plan.until) return ts < plan.until + plan.legMs ? 'returning' : 'over';
  return ts < plan.from + plan.legMs ? 'leaving' : 'away';
}

export interface Wander {
  /** The fix reported at `ts` (not before the previous one) for the walk's own position `walk`. */
  apply(ts: number, walk: Position): Position;
}

interface Side {
  axis: keyof Position;
  /** +1: beyond the north or east edge; −1: beyond the south or west edge. */
  sign: 1 | -1;
  /** The coordinate an away fix reaches at least (at most, for sign −1). */
  target: number;
}

function sidesOf(box: GeoBox, margin: number): Side[] {
  return [
    { axis: 'latitude', sign: 1, target: box.maxLatitude + margin },
    { axis: 'latitude', sign: -1, target: box.minLatitude - margin },
    { axis: 'longitude', sign: 1, target: box.maxLongitude + margin },
    { axis: 'longitude', sign: -1, target: box.minLongitude - margin },
  ];
}

/** How far `position` must move along the side's direction to reach its target (negative: already beyond). */
function shortfall(side: Side, position: Position): number {
  return side.sign * (side.target - position[side.axis]);
}

/** Latitude clamped into ±90, longitude wrapped into ±180; coordinates already there are returned unchanged. */
export function onEarth(position: Position): Position {
  const latitude = Math.min(90, Math.max(-90, position.latitude));
  let longitude = position.longitude;
  if (longitude < -180 || longitude > 180) longitude = ((((longitude + 180) % 360) + 360) % 360) - 180;
  return { latitude, longitude };
}

export function createWander(plan: WanderPlan): Wander {
  const box = plan.box ?? OPERATIONAL_BOX;
  const margin = plan.marginDeg ?? WANDER_MARGIN_DEG;
  let side: Side | undefined;
  /** The full offset, in degrees along the side's direction (never negative). */
  let distance = 0;

  return {
    apply(ts, walk) {
      const phase = wanderPhase(plan, ts);
      if (phase === 'pending' || phase === 'over') return walk;
      if (!side) {
        const sides = sidesOf(box, margin);
        side = sides.reduce((best, s) => (shortfall(s, walk) < shortfall(best, walk) ? s : best), sides[0]!);
        distance = Math.max(0, shortfall(side, walk));
      }
      let fraction = 1;
      if (phase === 'leaving') fraction = (ts - plan.from) / plan.legMs;
      else if (phase === 'away') distance = Math.max(distance, shortfall(side, walk));
      else if (phase === 'returning') {
        // From where the way out had got to: all the way unless the wander ended before it was complete.
        const reached = Math.min(1, (plan.until! - plan.from) / plan.legMs);
        fraction = reached * (1 - (ts - plan.until!) / plan.legMs);
      }
      const moved = { ...walk, [side.axis]: walk[side.axis] + side.sign * distance * fraction };
      return onEarth(moved);
    },
  };
}
