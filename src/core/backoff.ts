/**
 * The one capped exponential backoff of the app: every retry loop (start-up waits, the processor's steps, the
 * sink's writes, the simulators' sends, both stream layers' consumers, the compose init, the local
 * infrastructure) takes its delays from here. Pure: the caller sleeps.
 *
 * Attempt `n` (from 0) has the ceiling `min(maxMs, initialMs × 2^n)`. With `jitter: 'equal'` the delay is drawn
 * from [ceiling / 2, ceiling], so instances that failed together do not retry in step; `'none'` gives the
 * ceiling itself (for loops whose timing tests rely on).
 */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** @default 'equal' */
  jitter?: 'equal' | 'none';
  /** @default Math.random */
  random?: () => number;
}

/** The delay before retry `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  if (options.jitter === 'none') return ceiling;
  const random = options.random ?? Math.random;
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** A retry loop's position: `next()` gives the delay before the next attempt and counts it; `reset()` on success. */
export class Backoff {
  readonly #options: BackoffOptions;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    this.#options = options;
  }

  next(): number {
    return backoffDelay(this.#attempt++, this.#options);
  }

  reset(): void {
    this.#attempt = 0;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }
}
