/**
 * Rebuilding the processor's state for an assignment: each partition's task starts from its checkpoint (replaying
 * silently from the low-water offsets, `checkpoint.ts`) with the per-device table re-read from its output
 * partition, or from the start of the source partitions when it has none.
 */
import type { Consumer } from '@platformatic/kafka';
import { decodeLatestRecord } from '../core/output-records.js';
import type { Logger } from '../observability/logger.js';
import { type Checkpoint, checkpointKey, decodeCheckpoint, resumeFrom } from './checkpoint.js';
import { type FetchLimits, partitionBounds, readWholePartition } from './fetcher.js';
import type { ProcessorTopics } from './processor-options.js';
import type { PipelineTask } from './task.js';

export interface RestoreOptions {
  fetcher: Consumer;
  topics: ProcessorTopics;
  groupId: string;
  limits: FetchLimits;
  log: Logger;
  newTask: (partition: number) => PipelineTask;
  /** Called for each per-device record that does not decode (it is skipped). */
  onSkipped: () => void;
}

export interface Restored {
  tasks: Map<number, PipelineTask>;
  /** The partitions that resumed from a checkpoint. */
  fromCheckpoint: number[];
}

export async function restorePartitions(partitions: number[], options: RestoreOptions): Promise<Restored> {
  const { fetcher, topics, groupId, limits, log } = options;
  const saved = new Map<string, Checkpoint>();
  if (partitions.length > 0) {
    for (const r of await readWholePartition(fetcher, topics.checkpoints, 0, limits)) {
      const checkpoint = r.key ? decodeCheckpoint(r.value) : undefined;
      if (checkpoint && r.key) saved.set(r.key.toString(), checkpoint);
    }
  }
  const tasks = new Map<number, PipelineTask>();
  const fromCheckpoint: number[] = [];
  for (const partition of partitions) {
    const task = options.newTask(partition);
    const checkpoint = saved.get(checkpointKey(groupId, topics.location, partition));
    if (checkpoint) {
      resumeFrom(task, checkpoint);
      fromCheckpoint.push(partition);
      for (const r of await readWholePartition(fetcher, topics.perDevice, partition, limits)) {
        const decoded = decodeLatestRecord(r.key, r.value);
        if (decoded.ok && decoded.record !== null) {
          task.topology.restoreDevice(decoded.deviceId, r.timestamp, decoded.record);
        } else if (decoded.ok) {
          task.topology.forgetDevice(decoded.deviceId);
        } else {
          // A record the processor did not write (or a corrupt one) must not stop the restore: it is skipped.
          options.onSkipped();
          log.warn({ partition, offset: r.offset, reason: decoded.reason }, 'restore_record_skipped');
        }
      }
    } else {
      const [location, status] = await Promise.all(
        [topics.location, topics.status].map((t) => partitionBounds(fetcher, t, partition)),
      );
      task.seek({ location: location?.start ?? 0, status: status?.start ?? 0 });
    }
    tasks.set(partition, task);
  }
  return { tasks, fromCheckpoint };
}
