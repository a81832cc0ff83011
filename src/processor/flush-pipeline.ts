/**
 * The processor's flushes: buffered outputs are written on the output thread, then the checkpoints that cover
 * them, then the source offsets they cover are committed to the group. At most one flush is in flight;
 * processing goes on meanwhile, and a failure surfaces at the next call (the loop then rebuilds state from the
 * checkpoints).
 *
 * - exactly-once: outputs, checkpoints and source offsets are one Kafka transaction, committed at each flush with
 *   checkpoints (early flushes only add to the open transaction). Read_committed consumers see all of it or none.
 * - at-least-once: the checkpoints are written once the broker acknowledged the outputs, and the offsets
 *   committed after them; a crash in between writes some outputs twice (same keys and values).
 *
 * Checkpoints (which prune state and scan it for the replay point) are written at the flush interval, not at the
 * early flushes that bound buffered outputs; a restart then replays a little more, with the same final state.
 * After a failed flush some outputs were lost: no checkpoint may claim them until state is rebuilt.
 */

import type { WallClock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import { checkpointKey, encodeCheckpoint, takeCheckpoint } from './checkpoint.js';
import { flushSize, type OutputBuffer } from './emitter.js';
import type { CoveredOffsets } from './group-membership.js';
import type { SourceOffsetsCommit } from './output-producer.js';
import type { OutputThread } from './output-thread.js';
import type { PlainRecord } from './packed-outputs.js';
import type { ProcessorTopics } from './processor-options.js';
import type { PipelineTask } from './task.js';
import type { TaskSet } from './task-set.js';

export interface FlushPipelineOptions {
  output: OutputBuffer;
  writer: OutputThread;
  /** The owned partitions, whose checkpoints a flush writes. */
  tasks: TaskSet;
  topics: ProcessorTopics;
  groupId: string;
  clock: WallClock;
  flushIntervalMs: number;
  /** How the source offsets the written checkpoints cover are committed (see the file's comment). */
  offsets: FlushOffsets;
  log: Logger;
}

export type FlushOffsets =
  | { guarantee: 'at-least-once'; commit: (covered: CoveredOffsets[]) => Promise<void> }
  | {
      guarantee: 'exactly-once';
      /** The transaction's offsets commit, with the membership the partitions were assigned in. */
      transactionCommit: (covered: CoveredOffsets[]) => SourceOffsetsCommit;
    };

export class FlushPipeline {
  readonly #options: FlushPipelineOptions;
  #flushing: Promise<void> | null = null;
  /** Set once a flush failed, until state is rebuilt: no checkpoint may claim what it lost. */
  #failed = false;
  /** The latest flush's failure, cleared by the next success: outputs are not getting through. */
  #error: unknown;
  #inflightOutputs = 0;
  #nextAt = 0;
  flushes = 0;
  failures = 0;

  constructor(options: FlushPipelineOptions) {
    this.#options = options;
  }

  /** True when the flush interval has passed (a flush with checkpoints is due). */
  due(now: number): boolean {
    return now >= this.#nextAt;
  }

  scheduleFromNow(): void {
    this.#nextAt = this.#options.clock.now() + this.#options.flushIntervalMs;
  }

  get inFlight(): boolean {
    return this.#flushing !== null;
  }

  get failed(): boolean {
    return this.#failed;
  }

  get error(): unknown {
    return this.#error;
  }

  /** Output records buffered or being written. */
  get pending(): number {
    return this.#options.output.size + this.#inflightOutputs;
  }

  /** State was rebuilt from the checkpoints: checkpoints may be written again. */
  clearFailure(): void {
    this.#failed = false;
  }

  /** Writes everything buffered now, then the owned partitions' checkpoints (unless `withCheckpoints` is false). */
  async flush(withCheckpoints = true): Promise<void> {
    const { output, writer, clock, flushIntervalMs, tasks } = this.#options;
    const outputs = output.drain();
    const checkpointed =
      this.#failed || !withCheckpoints ? [] : [...tasks.values()].filter((t) => !t.topology.replaying);
    const checkpoints = checkpointed.map((task) => this.#checkpointRecord(task));
    // What the checkpoints cover, taken now: processing goes on while they are written.
    const covered = checkpointed.map((t) => ({ partition: t.partition, high: { ...t.processed } }));
    if (withCheckpoints) this.#nextAt = clock.now() + flushIntervalMs;
    this.#inflightOutputs = flushSize(outputs);
    const { offsets } = this.#options;
    try {
      if (offsets.guarantee === 'exactly-once') {
        // One write: the outputs, and with checkpoints the commit of all of it with the offsets they cover.
        const commit = checkpoints.length > 0 ? offsets.transactionCommit(covered) : undefined;
        if (flushSize(outputs) > 0 || commit) {
          await writer.write({
            ...outputs,
            records: [...outputs.records, ...checkpoints],
            ...(commit ? { commit } : {}),
          });
        }
      } else {
        if (flushSize(outputs) > 0) await writer.write(outputs);
        if (checkpoints.length > 0) {
          await writer.write({ records: checkpoints });
          await offsets.commit(covered);
        }
      }
      this.flushes++;
      this.#error = undefined;
    } catch (err) {
      this.#failed = true;
      this.failures++;
      this.#error = err;
      throw err;
    } finally {
      this.#inflightOutputs = 0;
    }
  }

  /**
   * Before state is rebuilt (a rebalance, a failed step): exactly-once aborts the open transaction, whose outputs
   * the partitions' next owner replays from the last committed checkpoint; committing them could race with that
   * owner's restore. At-least-once writes what is buffered, with checkpoints.
   */
  async beforeRebuild(): Promise<void> {
    await this.settle();
    if (this.#options.offsets.guarantee === 'exactly-once') {
      this.#options.output.clear();
      await this.#options.writer.abort();
      return;
    }
    await this.flush();
  }

  /** Starts a flush in the background once the one in flight (if any) has settled. */
  async start(withCheckpoints: boolean): Promise<void> {
    if (this.#flushing !== null) await this.#flushing;
    const started = this.flush(withCheckpoints);
    this.#flushing = started;
    started.then(
      () => {
        if (this.#flushing === started) this.#flushing = null;
      },
      () => undefined,
    );
  }

  /** Waits for the flush in flight; a failure there surfaces (rejects) here. */
  async awaitInFlight(): Promise<void> {
    if (this.#flushing !== null) await this.#flushing;
  }

  /** Waits for the flush in flight, logging (not throwing) its failure. */
  async settle(): Promise<void> {
    const pending = this.#flushing;
    this.#flushing = null;
    if (pending !== null) await pending.catch((err: unknown) => this.#options.log.warn({ err }, 'flush_failed'));
  }

  #checkpointRecord(task: PipelineTask): PlainRecord {
    const { topics, groupId } = this.#options;
    return {
      topic: topics.checkpoints,
      partition: 0,
      key: Buffer.from(checkpointKey(groupId, topics.location, task.partition)),
      value: encodeCheckpoint(takeCheckpoint(task)),
    };
  }
}
