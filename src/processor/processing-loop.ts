/**
 * The processor's loop: fetch the owned partitions, merge and process them (`task.ts`), flush on time, and
 * rebuild all state from the checkpoints whenever the assignment changes or a step fails.
 *
 * The next fetch is started before the current records are processed, so processing never waits for a round
 * trip; positions only move when a response is enqueued, so it asks for exactly what comes next.
 */
import type { Admin, Consumer } from '@platformatic/kafka';
import { describePartitions } from '../bus/kafka-admin.js';
import type { WallClock } from '../clock.js';
import { Backoff } from '../core/backoff.js';
import type { Side } from '../core/topology.js';
import type { Logger } from '../observability/logger.js';
import type { OutputBuffer } from './emitter.js';
import { type FetchedPartition, fetchPartitions, type PartitionPosition, partitionBounds } from './fetcher.js';
import type { FlushPipeline } from './flush-pipeline.js';
import type { GroupMembership, MemberIdentity } from './group-membership.js';
import { type ProcessorSettings, type ProcessorTopics, SIDES, sourceTopic } from './processor-options.js';
import { restorePartitions } from './restore.js';
import type { PipelineTask } from './task.js';
import type { TaskSet } from './task-set.js';

export interface ProcessingLoopOptions {
  membership: GroupMembership;
  pipeline: FlushPipeline;
  output: OutputBuffer;
  fetcher: Consumer;
  admin: Admin;
  tasks: TaskSet;
  topics: ProcessorTopics;
  groupId: string;
  settings: ProcessorSettings;
  idleWaitMs: number;
  clock: WallClock;
  log: Logger;
  /** A task for `partition`, given the source topics' partition count. */
  newTask: (partition: number, partitionCount: number) => PipelineTask;
  /** Partitions assumed before the first rebuild reads the real count. */
  partitionCount: number;
  onRestoreSkipped: () => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ProcessingLoop {
  readonly #o: ProcessingLoopOptions;
  #generation = -1;
  #running = false;
  #loop: Promise<void> | undefined;
  #prefetch: Promise<FetchedPartition[]> | null = null;
  #partitionCount: number;
  /** True once the current assignment is restored. */
  ready = false;
  /** The membership the owned partitions were assigned in (set by each rebuild). */
  member: MemberIdentity = { generationId: -1, memberId: '', coordinatorId: -1 };
  /** The last step's failure, cleared by the next successful step. */
  lastError: unknown;

  constructor(options: ProcessingLoopOptions) {
    this.#o = options;
    this.#partitionCount = options.partitionCount;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    this.#running = true;
    this.#o.pipeline.scheduleFromNow();
    this.#loop = this.#run();
  }

  /** Stops the loop and writes what it buffered (outputs and checkpoints). */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    this.#dropPrefetch();
    await this.#o.pipeline.settle();
    try {
      if (this.ready) await this.#o.pipeline.flush();
    } catch (err) {
      this.#o.log.warn({ err }, 'final_flush_failed');
    }
    this.#o.tasks.retire();
    this.ready = false;
  }

  async #run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
    while (this.#running) {
      try {
        await this.#step();
        // Steps succeed between failing flushes too: the backoff only resets once outputs get through.
        if (this.#o.pipeline.error === undefined) backoff.reset();
        this.lastError = undefined;
      } catch (err) {
        if (!this.#running) break;
        this.lastError = err;
        const delay = backoff.next();
        this.#o.log.error({ err, retryInMs: delay }, 'processor_step_failed');
        await sleep(delay);
        // State may be half-updated relative to what was flushed: rebuild it from the checkpoints.
        this.#generation = -1;
        this.#dropPrefetch();
      }
    }
  }

  /** Drops all state and rebuilds it for the current assignment from checkpoints and the per-device topic. */
  async #rebuild(): Promise<void> {
    const { membership, pipeline, tasks, output, topics, log } = this.#o;
    if (tasks.size > 0) {
      await pipeline.beforeRebuild().catch((err: unknown) => log.warn({ err }, 'flush_before_rebalance_failed'));
    }
    tasks.retire();
    output.clear();
    // Read together, with no await between: the assignment and the membership it was given in.
    const member = membership.membership();
    const targetGeneration = member.generationId;
    const partitions = membership.assignedPartitions();
    if (partitions.length > 0) {
      const counts = await describePartitions(this.#o.admin, [topics.location]);
      this.#partitionCount = counts.get(topics.location) ?? this.#partitionCount;
    }
    const restored = await restorePartitions(partitions, {
      fetcher: this.#o.fetcher,
      admin: this.#o.admin,
      // The longest another instance's transaction stays open, plus a margin for the broker's abort.
      stableWaitMs: this.#o.settings.transactionTimeoutMs + 5000,
      topics,
      groupId: this.#o.groupId,
      limits: this.#o.settings.restoreLimits,
      log,
      newTask: (partition) => this.#o.newTask(partition, this.#partitionCount),
      onSkipped: this.#o.onRestoreSkipped,
    });
    tasks.replace(restored.tasks);
    pipeline.clearFailure();
    this.#generation = targetGeneration;
    this.member = member;
    this.ready = true;
    log.info({ partitions, restored: restored.fromCheckpoint }, 'partitions_assigned');
  }

  /** Where each owned partition is to be fetched next (sides whose queue is full wait). */
  #fetchPositions(): PartitionPosition[] {
    const positions: PartitionPosition[] = [];
    for (const task of this.#o.tasks.values()) {
      for (const side of SIDES) {
        if (task.queued(side) >= this.#o.settings.maxQueued) continue;
        positions.push({
          topic: sourceTopic(this.#o.topics, side),
          partition: task.partition,
          offset: task.position[side],
        });
      }
    }
    return positions;
  }

  #dropPrefetch(): void {
    // Its records belong to the previous assignment or to state being rebuilt; only its failure is absorbed.
    this.#prefetch?.catch(() => undefined);
    this.#prefetch = null;
  }

  async #step(): Promise<void> {
    const { membership, pipeline, tasks, output, fetcher, topics, settings, clock, log } = this.#o;
    if (membership.generationId !== this.#generation) {
      this.#dropPrefetch();
      await this.#rebuild();
    }
    if (tasks.size === 0) {
      await sleep(settings.limits.maxWaitMs);
      return;
    }
    const fetched = await (this.#prefetch ?? fetchPartitions(fetcher, this.#fetchPositions(), settings.limits));
    this.#prefetch = null;
    if (membership.generationId !== this.#generation) return;
    for (const f of fetched) {
      const task = tasks.get(f.partition);
      if (!task) continue;
      const side: Side = f.topic === topics.location ? 'location' : 'status';
      if (f.errorCode === 1) {
        // OFFSET_OUT_OF_RANGE: the log was truncated by retention; continue from its start.
        const { start } = await partitionBounds(fetcher, f.topic, f.partition);
        log.warn(
          { topic: f.topic, partition: f.partition, from: task.position[side], to: start },
          'offset_out_of_range',
        );
        task.position[side] = start;
        continue;
      }
      if (f.errorCode !== 0) throw new Error(`fetch ${f.topic}/${f.partition} failed with error ${f.errorCode}`);
      task.enqueue(side, f.records, f.nextOffset, f.highWatermark, clock.now());
    }
    const prefetch = fetchPartitions(fetcher, this.#fetchPositions(), settings.limits);
    // Awaited at the next step; until then a failure must not count as an unhandled rejection (which would end
    // the process) while this step awaits a flush.
    prefetch.catch(() => undefined);
    this.#prefetch = prefetch;
    const now = clock.now();
    for (const task of tasks.values()) {
      task.drive({ now, idleWaitMs: this.#o.idleWaitMs, lagWaitMs: settings.lagWaitMs });
    }
    const due = pipeline.due(now);
    // A failed flush surfaces at once: processing on would only add outputs that the rebuild replays anyway.
    if (pipeline.failed && pipeline.inFlight) await pipeline.awaitInFlight();
    // While a flush is in flight, outputs keep accumulating (up to a hard bound) rather than processing waiting
    // for the broker: the next flush then carries more, and flush size follows the broker's pace.
    const { maxPending } = settings;
    if ((due || output.size >= maxPending) && (!pipeline.inFlight || output.size >= maxPending * 4)) {
      await pipeline.start(due);
    }
  }
}
