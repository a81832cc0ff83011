/**
 * The partitions this processor owns now, and the counters of the ones it owned before: a rebalance or a rebuild
 * replaces the tasks, and their counts must not vanish from the metrics with them.
 */
import type { PipelineTask } from './task.js';

export interface TaskCounters {
  recordsIn: number;
  joinRows: number;
  deadLetters: number;
  lateRowsDropped: number;
  misrouted: number;
  /** Devices the per-device tables forgot, by reason. */
  devicesEvictedIdle: number;
  devicesEvictedCap: number;
}

const noCounts = (): TaskCounters => ({
  recordsIn: 0,
  joinRows: 0,
  deadLetters: 0,
  lateRowsDropped: 0,
  misrouted: 0,
  devicesEvictedIdle: 0,
  devicesEvictedCap: 0,
});

export class TaskSet {
  #tasks = new Map<number, PipelineTask>();
  readonly #retired: TaskCounters = noCounts();

  get size(): number {
    return this.#tasks.size;
  }

  get(partition: number): PipelineTask | undefined {
    return this.#tasks.get(partition);
  }

  values(): IterableIterator<PipelineTask> {
    return this.#tasks.values();
  }

  partitions(): number[] {
    return [...this.#tasks.keys()].sort((a, b) => a - b);
  }

  /** Keeps the current tasks' counts and drops the tasks. */
  retire(): void {
    const { lag: _lag, ...now } = this.counters();
    Object.assign(this.#retired, now);
    this.#tasks = new Map();
  }

  replace(tasks: Map<number, PipelineTask>): void {
    this.#tasks = tasks;
  }

  /** Counts since start, retired tasks included; `lag` is the current tasks' only. */
  counters(): TaskCounters & { lag: number } {
    const c = { ...this.#retired, lag: 0 };
    for (const task of this.#tasks.values()) {
      c.recordsIn += task.topology.counters.recordsProcessed;
      c.joinRows += task.topology.counters.joinRows;
      c.deadLetters += task.deadLettered;
      c.lateRowsDropped += task.topology.counters.lateRowsDropped;
      c.misrouted += task.misrouted;
      c.devicesEvictedIdle += task.topology.deviceEvictions.idle;
      c.devicesEvictedCap += task.topology.deviceEvictions.cap;
      c.lag += task.lag();
    }
    return c;
  }

  stateSize(): { joinRecords: number; windows: number; devices: number } {
    let joinRecords = 0;
    let windows = 0;
    let devices = 0;
    for (const task of this.#tasks.values()) {
      const size = task.topology.stateSize;
      joinRecords += size.joinRecords;
      windows += size.windows;
      devices += size.devices;
    }
    return { joinRecords, windows, devices };
  }
}
