/**
 * Restart checkpoints, one per (group, source partition), in a compacted topic.
 *
 * A checkpoint is written only after every output up to `high` is acknowledged by the broker. It says: replay
 * each side from `low` with these stream times, silently up to `high`, then carry on normally. Any checkpoint
 * ever written is a valid restart point, so a stale one written by a previous owner during a rebalance costs a
 * longer replay, never a wrong result (the replay reproduces the same outputs; keyed outputs are idempotent).
 */
import type { Side } from '../core/topology.js';
import type { PipelineTask } from './task.js';

export interface Checkpoint {
  version: 1;
  partition: number;
  low: Record<Side, number>;
  high: Record<Side, number>;
  /** Stream times before the first replayed record; null when none was seen yet. */
  joinStreamTime: number | null;
  aggStreamTime: number | null;
  /** Aggregation stream time at the checkpoint. */
  closedAtAggStreamTime: number | null;
  /**
   * Offsets at or above `low` that the future rule refused (`task.ts`): a replay refuses them again rather than
   * ask the clock, which has moved on. Absent in checkpoints written before the rule existed.
   */
  futureRefused?: Record<Side, number[]>;
}

export function checkpointKey(groupId: string, locationTopic: string, partition: number): string {
  return `${groupId}/${locationTopic}/${partition}`;
}

const finiteOrNull = (n: number): number | null => (Number.isFinite(n) ? n : null);
export const streamTimeOrNull = finiteOrNull;
export const streamTimeFromJson = (n: number | null): number => (n === null ? Number.NEGATIVE_INFINITY : n);

export function encodeCheckpoint(c: Checkpoint): Buffer {
  return Buffer.from(JSON.stringify(c));
}

/** Parses a checkpoint value; returns undefined for anything that is not a version-1 checkpoint. */
export function decodeCheckpoint(raw: Buffer | null): Checkpoint | undefined {
  if (!raw) return undefined;
  try {
    const c = JSON.parse(raw.toString('utf8')) as Checkpoint;
    const sides = (v: unknown) =>
      typeof v === 'object' &&
      v !== null &&
      Number.isSafeInteger((v as Record<Side, number>).location) &&
      Number.isSafeInteger((v as Record<Side, number>).status);
    if (c.version !== 1 || !sides(c.low) || !sides(c.high)) return undefined;
    const offsets = (v: unknown) => Array.isArray(v) && v.every((o) => Number.isSafeInteger(o));
    if (c.futureRefused !== undefined && !(offsets(c.futureRefused?.location) && offsets(c.futureRefused?.status))) {
      return undefined;
    }
    return c;
  } catch {
    // A foreign or corrupt record in the checkpoint topic must not stop a restart: it is ignored.
    return undefined;
  }
}

/**
 * Takes a partition's checkpoint now (call it only once the outputs it covers are on their way): prunes the
 * topology's state, finds the replay point, and keeps the future-refused offsets a replay will need.
 */
export function takeCheckpoint(task: PipelineTask): Checkpoint {
  const topology = task.topology;
  topology.prune();
  const point = topology.replayPoint();
  const low = { location: point.location ?? task.processed.location, status: point.status ?? task.processed.status };
  return {
    version: 1,
    partition: task.partition,
    low,
    high: { ...task.processed },
    joinStreamTime: streamTimeOrNull(point.joinStreamTime),
    aggStreamTime: streamTimeOrNull(point.aggStreamTime),
    closedAtAggStreamTime: streamTimeOrNull(topology.aggStreamTime),
    futureRefused: task.refusalsFrom(low),
  };
}

/** Seeds a task from its checkpoint: positioned at the low-water offsets, replaying silently up to `high`. */
export function resumeFrom(task: PipelineTask, checkpoint: Checkpoint): void {
  task.seek(checkpoint.low);
  task.resumeAt = { ...checkpoint.high };
  task.replayFutureRefused = {
    location: new Set(checkpoint.futureRefused?.location ?? []),
    status: new Set(checkpoint.futureRefused?.status ?? []),
  };
  task.topology.beginReplay({
    joinStreamTime: streamTimeFromJson(checkpoint.joinStreamTime),
    aggStreamTime: streamTimeFromJson(checkpoint.aggStreamTime),
    closedAtAggStreamTime: streamTimeFromJson(checkpoint.closedAtAggStreamTime),
    resumeAt: checkpoint.high,
  });
}
