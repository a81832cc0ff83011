/**
 * One simulation run: per-device schedules of location fixes and status readings, driven by an injected
 * clock, feeding a bounded sender.
 *
 * Each device has its own location and status schedule with a phase spread over the interval, so devices do
 * not fire in the same millisecond. All schedules share one timer through a min-heap (thousands of devices
 * cost one timer, not thousands). A tick's `event_ts` is its scheduled time, so a device's Δt between fixes
 * is exactly its interval and a seed reproduces every value. A tick that comes more than `maxLagMs` late
 * (event loop stalled) is skipped and counted instead of being fired in a burst, and the walk's next step
 * then spans the longer gap. A tick the sender has no room for (backpressure) still advances the device's
 * models (the device keeps moving) but its event is not published; it is counted as skipped. So does a tick of
 * a device while the script has it silent (`scenario.ts`), counted apart.
 */

import type { Clock, TimerHandle } from '../clock.js';
import type { BatchingSender } from './batching-sender.js';
import { createDevices, nextLocationEvent, nextStatusEvent, type SimulatedDevice } from './devices.js';
import { isSilentAt, type ScenarioSchedule, scheduleScenario } from './scenario.js';
import type { SimulationConfig } from './simulation-config.js';

export interface RunTopics {
  location: string;
  status: string;
}

export interface KindCounters {
  /** Events handed to the sender. */
  generated: number;
  /** Ticks skipped because the sender's queue was full. */
  skippedBackpressure: number;
  /** Ticks skipped because the scheduler fell more than `maxLagMs` behind. */
  skippedLate: number;
  /** Ticks not published because the script had their device silent. */
  skippedSilent: number;
}

export interface SimulationRunOptions {
  config: SimulationConfig;
  clock: Clock;
  sender: Pick<BatchingSender, 'offer'>;
  topics: RunTopics;
  /** @default 1000 */
  maxLagMs?: number;
  /** Most ticks handled before yielding to the event loop. @default 2000 */
  maxTicksPerWake?: number;
  /** Called once when the duration or event budget is used up. */
  onFinished?: () => void;
}

export interface SimulationRun {
  readonly startedAt: number;
  /** The script in absolute time: which devices are silent or wander, and when. */
  readonly schedule: ScenarioSchedule;
  /** True once the duration or event budget is used up, or after `halt`. */
  readonly finished: boolean;
  /** Stops scheduling; events already handed to the sender are not affected. */
  halt(): void;
  counters(): { location: KindCounters; status: KindCounters };
}

interface Tick {
  due: number;
  device: number;
  kind: 0 | 1; // 0 = location, 1 = status
  interval: number;
}

/** A binary min-heap on (due, device, kind); the ordering keeps firing deterministic. */
function before(a: Tick, b: Tick): boolean {
  if (a.due !== b.due) return a.due < b.due;
  if (a.device !== b.device) return a.device < b.device;
  return a.kind < b.kind;
}

function siftDown(heap: Tick[], i: number): void {
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < n && before(heap[l]!, heap[m]!)) m = l;
    if (r < n && before(heap[r]!, heap[m]!)) m = r;
    if (m === i) return;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
}

/** Phase of device `i` of `n` within `interval`: spread evenly, shifted by `shift` of a slot. */
export function phaseOf(i: number, n: number, interval: number, shift: number): number {
  return Math.floor(((i + shift) / n) * interval);
}

/** Starts a run at once (the first ticks fire within one interval). */
export function startSimulationRun(options: SimulationRunOptions): SimulationRun {
  const { config, clock, sender, topics } = options;
  const maxLagMs = options.maxLagMs ?? 1000;
  const maxTicksPerWake = options.maxTicksPerWake ?? 2000;
  const startedAt = clock.now();
  const endAt = config.durationMs === undefined ? Number.POSITIVE_INFINITY : startedAt + config.durationMs;
  const maxEvents = config.maxEvents ?? Number.POSITIVE_INFINITY;
  const schedule = scheduleScenario(config, startedAt);
  const devices: SimulatedDevice[] = createDevices(config, startedAt, schedule);
  const counters = {
    location: { generated: 0, skippedBackpressure: 0, skippedLate: 0, skippedSilent: 0 },
    status: { generated: 0, skippedBackpressure: 0, skippedLate: 0, skippedSilent: 0 },
  };

  const n = devices.length;
  const heap: Tick[] = [];
  for (let i = 0; i < n; i++) {
    const loc = config.locationIntervalMs;
    const st = config.statusIntervalMs;
    heap.push({ due: startedAt + phaseOf(i, n, loc, 0.5), device: i, kind: 0, interval: loc });
    heap.push({ due: startedAt + phaseOf(i, n, st, 0.25), device: i, kind: 1, interval: st });
  }
  for (let i = Math.floor(heap.length / 2) - 1; i >= 0; i--) siftDown(heap, i);

  let timer: TimerHandle | undefined;
  let finished = false;

  const finish = () => {
    if (finished) return;
    finished = true;
    if (timer) clock.clearTimeout(timer);
    timer = undefined;
    options.onFinished?.();
  };

  function fire(tick: Tick): void {
    const device = devices[tick.device]!;
    const kindCounters = tick.kind === 0 ? counters.location : counters.status;
    const event = tick.kind === 0 ? nextLocationEvent(device, tick.due) : nextStatusEvent(device, tick.due);
    if (device.silent && isSilentAt(device.silent, tick.due)) {
      kindCounters.skippedSilent++;
      return;
    }
    const accepted = sender.offer({
      topic: tick.kind === 0 ? topics.location : topics.status,
      key: device.id,
      value: JSON.stringify(event),
      timestamp: tick.due,
    });
    if (accepted) kindCounters.generated++;
    else kindCounters.skippedBackpressure++;
  }

  function wake(): void {
    timer = undefined;
    if (finished) return;
    const now = clock.now();
    let handled = 0;
    while (heap.length > 0 && heap[0]!.due <= now) {
      const tick = heap[0]!;
      if (tick.due >= endAt) break;
      if (handled >= maxTicksPerWake) {
        timer = clock.setTimeout(wake, 0);
        return;
      }
      const lag = now - tick.due;
      if (lag > maxLagMs) {
        const skip = Math.ceil((lag - maxLagMs) / tick.interval);
        (tick.kind === 0 ? counters.location : counters.status).skippedLate += skip;
        tick.due += skip * tick.interval;
        siftDown(heap, 0);
        continue;
      }
      fire(tick);
      handled++;
      tick.due += tick.interval;
      siftDown(heap, 0);
      if (counters.location.generated + counters.status.generated >= maxEvents) {
        finish();
        return;
      }
    }
    const next = heap[0];
    if (!next || next.due >= endAt) {
      // Finish at the end of the duration, not at the last tick, so the reported elapsed time is the duration.
      const remaining = endAt - clock.now();
      if (remaining > 0 && Number.isFinite(remaining)) timer = clock.setTimeout(finish, remaining);
      else finish();
      return;
    }
    timer = clock.setTimeout(wake, Math.max(0, next.due - clock.now()));
  }

  wake();

  return {
    startedAt,
    schedule,
    get finished() {
      return finished;
    },
    halt() {
      if (finished) return;
      finished = true;
      if (timer) clock.clearTimeout(timer);
      timer = undefined;
    },
    counters: () => ({ location: { ...counters.location }, status: { ...counters.status } }),
  };
}
