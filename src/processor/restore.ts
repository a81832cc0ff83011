/**
 * Rebuilding the processor's state for an assignment: each partition's task starts from its checkpoint (replaying
 * silently from the low-water offsets, `checkpoint.ts`) with the per-device table re-read from its output
 * partition, or from the start of the source partitions when it has none.
 */
import type { Admin, Consumer } from '@platformatic/kafka';
import { decodeLatestRecord } from '../core/output-records.js';
import type { Logger } from '../observability/logger.js';
import { type Checkpoint, checkpointKey, decodeCheckpoint, resumeFrom } from './checkpoint.js';
import { type FetchLimits, partitionBounds, readWholePartition } from './fetcher.js';
import type { ProcessorTopics } from './processor-options.js';
import type { PipelineTask } from './task.js';

export interface RestoreOptions {
  fetcher: Consumer;
  admin: Admin;
  /**
   * How long a restore waits for transactions still open on the partitions it reads (the longest a transaction
   * stays open: the transaction timeout), before it fails and is retried.
   */
  stableWaitMs: number;
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
  const readStable = async (topic: string, partition: number) => {
    await waitForStableEnd(options.admin, fetcher, topic, partition, options.stableWaitMs);
    return readWholePartition(fetcher, topic, partition, limits);
  };
  if (partitions.length > 0) {
    for (const r of await readStable(topics.checkpoints, 0)) {
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
      for (const r of await readStable(topics.perDevice, partition)) {
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until every transaction with records below the partition's current high watermark is decided, that is
 * until the last stable offset (a read_committed reader's end) has reached it. The previous owner's last
 * transaction may still be committing while this restore starts: reading only up to the last stable offset
 * then would miss its checkpoint, and replaying from an older one would write its outputs twice.
 */
export async function waitForStableEnd(
  admin: Admin,
  fetcher: Consumer,
  topic: string,
  partition: number,
  waitMs: number,
): Promise<void> {
  // The admin client lists offsets read_uncommitted: the high watermark.
  const [listed] = await admin.listOffsets({
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: -1n }] }],
  });
  const highWatermark = Number(listed?.partitions.find((p) => p.partitionIndex === partition)?.offset ?? 0n);
  const deadline = Date.now() + waitMs;
  for (;;) {
    // The fetcher reads read_committed: its end is the last stable offset.
    const { end } = await partitionBounds(fetcher, topic, partition);
    if (end >= highWatermark) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `${topic}/${partition}: a transaction is still open below offset ${highWatermark} after ${waitMs} ms (last stable offset ${end})`,
      );
    }
    await sleep(50);
  }
}
