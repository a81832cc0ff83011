/**
 * The app's one time source: wall-clock time (`WallClock`, all the processor needs) and timers (`Clock`, the
 * simulators' scheduler) behind interfaces, so tests pass a manual clock instead of sleeping.
 */

export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

export interface WallClock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface Clock extends WallClock {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The one sanctioned wrapper of `Date.now` and Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in due-time order (ties in creation order). */
  advance(ms: number): void;
  /** Timers not yet fired. */
  pending(): number;
}

/** A clock for tests: time moves only when `advance` is called. */
export function createManualClock(startMs = 0): ManualClock {
  let now = startMs;
  let nextId = 1;
  const timers = new Map<number, { due: number; callback: () => void }>();
  return {
    now: () => now,
    setTimeout(callback, delayMs) {
      const id = nextId++;
      timers.set(id, { due: now + Math.max(0, delayMs), callback });
      return { id };
    },
    clearTimeout(handle) {
      if (typeof handle === 'object' && handle !== null && 'id' in handle) timers.delete(handle.id as number);
    },
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let nextTimer: [number, { due: number; callback: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].due <= target && (!nextTimer || entry[1].due < nextTimer[1].due)) nextTimer = entry;
        }
        if (!nextTimer) break;
        timers.delete(nextTimer[0]);
        now = Math.max(now, nextTimer[1].due);
        nextTimer[1].callback();
      }
      now = target;
    },
    pending: () => timers.size,
  };
}
