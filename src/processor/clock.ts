/** The processor's only view of wall time: flush intervals and the merge's idle wait. Tests pass their own. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
