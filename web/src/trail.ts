/**
 * A device's recent positions for the fading trail behind its marker: bounded by count and by age, so memory
 * stays flat however long the page runs. Pure functions, no DOM.
 */

export interface TrailPoint {
  latitude: number;
  longitude: number;
  /** event_ts of the fix, epoch ms. */
  at: number;
}

export interface TrailLimits {
  maxPoints: number;
  maxAgeMs: number;
}

export const DEFAULT_TRAIL: TrailLimits = { maxPoints: 60, maxAgeMs: 120_000 };

/**
 * Appends a fix to a trail (in place) unless it repeats the last one or is older than it (the latest state never
 * goes back), then drops what is beyond the limits relative to the newest fix.
 */
export function appendTrail(trail: TrailPoint[], point: TrailPoint, limits: TrailLimits = DEFAULT_TRAIL): TrailPoint[] {
  const last = trail[trail.length - 1];
  if (last && point.at <= last.at) return trail;
  trail.push(point);
  const oldest = point.at - limits.maxAgeMs;
  let drop = Math.max(0, trail.length - limits.maxPoints);
  while (drop < trail.length && (trail[drop] as TrailPoint).at < oldest) drop++;
  if (drop > 0) trail.splice(0, drop);
  return trail;
}

/** Opacity of a trail segment whose newer end is `ageMs` old: 1 when new, fading linearly to 0 at `maxAgeMs`. */
export function trailOpacity(ageMs: number, maxAgeMs: number = DEFAULT_TRAIL.maxAgeMs): number {
  if (!(maxAgeMs > 0)) return 0;
  return Math.min(1, Math.max(0, 1 - ageMs / maxAgeMs));
}
