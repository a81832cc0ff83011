/**
 * The embedded stream processor: the specification's ksqlDB statements (`ksql/`) as a Kafka consumer/producer.
 *
 * Guarantees and assumptions:
 * - Sources are keyed by device id and have equal partition counts; partition `p` of both topics is owned by
 *   one instance (`copartitionedAssigner`), and several instances share partitions through the consumer group.
 * - Within a partition the two topics are merged in event-time order with a bounded wait (`task.ts`), so
 *   results do not depend on delivery interleaving as long as both sides arrive within the wait.
 * - Outputs are flushed every `flushIntervalMs`; after the broker acknowledges them a checkpoint per partition
 *   is written (`checkpoint.ts`). On start and on every rebalance, state is rebuilt by replaying from the
 *   checkpoint's low-water offsets (silently up to where the checkpoint ended) and the per-device table is
 *   re-read from its output topic. Outputs between the last checkpoint and a crash are written again with the
 *   same keys and values, so keyed consumers (the sink, the live view) end in the same state: at-least-once
 *   delivery, exactly-once final state. JOIN_EVENTS, a stream, may then contain duplicate rows.
 * - Malformed source records are skipped, counted and written to the dead-letter topic with the reason in the
 *   `reason` header; processing never stops on bad input. Broker errors are logged and retried with backoff.
 */
import { Admin, Consumer } from '@platformatic/kafka';
import { createGroupMonitor, type GroupObservation } from '../bus/group-health.js';
import { describePartitions, ensureTopics } from '../bus/kafka-admin.js';
import { Backoff } from '../core/backoff.js';
import { decodeLatestRecord } from '../core/output-records.js';
import type { Side } from '../core/topology.js';
import { AppError } from '../errors.js';
import type { Component, ReadinessCheck } from '../lifecycle.js';
import type { Logger } from '../observability/logger.js';
import type { MetricSample, MetricsSource } from '../observability/metrics.js';
import { copartitionedAssigner } from './assigner.js';
import {
  type Checkpoint,
  checkpointKey,
  decodeCheckpoint,
  encodeCheckpoint,
  streamTimeFromJson,
  streamTimeOrNull,
} from './checkpoint.js';
import { type Clock, systemClock } from './clock.js';
import { type EmitMode, flushSize, OutputBuffer } from './emitter.js';
import {
  type FetchedPartition,
  type FetchLimits,
  fetchPartitions,
  type PartitionPosition,
  partitionBounds,
  readWholePartition,
} from './fetcher.js';
import { OutputThread } from './output-thread.js';
import type { PlainRecord } from './packed-outputs.js';
import { PartitionTask } from './task.js';

export interface ProcessorTopics {
  location: string;
  status: string;
  joinEvents: string;
  per2s: string;
  perDevice: string;
  deadLetters: string;
  checkpoints: string;
}

export interface StreamProcessorOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: ProcessorTopics;
  logger: Logger;
  /** Window grace; the join keeps records for grace + 2 s. */
  graceMs: number;
  /** Overrides `graceMs + 2000` for the join (ksqlDB-exact runs pass 24 h). */
  joinRetentionMs?: number;
  emitMode: EmitMode;
  flushIntervalMs: number;
  /** How long the merge waits for an idle side before running ahead on the other. */
  idleWaitMs: number;
  /** @default 30_000 — wait for a side whose broker log is known to hold more records. */
  lagWaitMs?: number;
  /** Partitions for topics this processor creates when the sources do not exist yet. @default 3 */
  partitions?: number;
  replicas?: number;
  createTopics?: boolean;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Static group membership: a restarted instance with the same id takes its partitions back at once. */
  groupInstanceId?: string;
  /** How often the group's lag and state are read from the broker. @default 5000 */
  monitorIntervalMs?: number;
  /** A group stuck outside a stable generation this long is joined afresh. @default 2 × session + 5 s */
  stallAfterMs?: number;
  fetch?: Partial<FetchLimits>;
  /**
   * Records with an event time further ahead of the wall clock are dead-lettered (`core/admission.ts`): one such
   * record would advance stream time and close every window of its partition early. Keep it below `graceMs`.
   * @default 30_000
   */
  maxFutureMs?: number;
  /**
   * Records with an event time further behind their partition's stream time are dead-lettered
   * (`core/admission.ts`). `Infinity` turns the rule off. @default 86_400_000
   */
  maxEventAgeMs?: number;
  /** Stop fetching a partition while this many of its records wait in memory. @default 20_000 */
  maxQueuedPerPartition?: number;
  /** A flush not acknowledged by then fails, and the processor rebuilds and retries. @default 30_000 */
  writeTimeoutMs?: number;
  /** Flush early once this many output records are buffered. @default 20_000 */
  maxPendingOutputs?: number;
  clock?: Clock;
}

export interface StreamProcessor extends Component, MetricsSource {
  readonly readiness: ReadinessCheck;
  /** Partitions currently owned. */
  assignedPartitions(): number[];
  /** Counters since start (also exposed as metrics). */
  stats(): ProcessorStats;
}

export interface ProcessorStats {
  /** Output records buffered, not yet written. */
  pendingOutputs: number;
  recordsIn: number;
  joinRows: number;
  deadLetters: number;
  lateRowsDropped: number;
  /** Source records on another partition than Kafka's default partitioner gives their key (still processed). */
  misrouted: number;
  lag: number;
  flushes: number;
  /** Flushes that failed (the processor then rebuilt its state from the checkpoints). */
  flushFailures: number;
}

const SIDES: Side[] = ['location', 'status'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createStreamProcessor(options: StreamProcessorOptions): StreamProcessor {
  const { topics, logger, groupId } = options;
  const clock = options.clock ?? systemClock;
  const log = logger.child({ component: 'processor', groupId });
  const limits: FetchLimits = {
    maxWaitMs: 100,
    maxBytes: 16 * 1024 * 1024,
    // Per-partition fetch size (compressed bytes). Small fetches keep each step's records few enough to die young
    // (1 MiB fetched ~35,000 records per partition at once and the processor spent a third of its time in GC);
    // the next fetch is in flight while a step processes, so small fetches cost no waiting. 64 and 192 KiB
    // measured alike in `npm run bench:processor`; 64 KiB holds less memory.
    partitionMaxBytes: 64 * 1024,
    ...options.fetch,
  };
  /** Restores read whole partitions: larger fetches, fewer round trips. */
  const restoreLimits: FetchLimits = { ...limits, partitionMaxBytes: Math.max(limits.partitionMaxBytes, 1024 * 1024) };
  const topologyOptions = {
    windowGraceMs: options.graceMs,
    joinRetentionMs: options.joinRetentionMs ?? options.graceMs + 2000,
  };
  const maxQueued = options.maxQueuedPerPartition ?? 20_000;
  const maxPending = options.maxPendingOutputs ?? 20_000;
  const lagWaitMs = options.lagWaitMs ?? 30_000;
  const maxFutureMs = options.maxFutureMs ?? 30_000;
  const maxEventAgeMs = options.maxEventAgeMs ?? 86_400_000;
  const output = new OutputBuffer(options.emitMode, topics);
  const base = { clientId: options.clientId, bootstrapBrokers: options.brokers };
  const admin = new Admin({ ...base, clientId: `${options.clientId}-processor-admin` });
  // Outputs are written on their own thread (`output-thread.ts`).
  const writer = new OutputThread({
    brokers: options.brokers,
    clientId: options.clientId,
    ...(options.writeTimeoutMs === undefined ? {} : { writeTimeoutMs: options.writeTimeoutMs }),
  });
  const consumer = new Consumer({
    ...base,
    clientId: `${options.clientId}-processor`,
    groupId,
    ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 1000,
    rebalanceTimeout: options.sessionTimeoutMs ?? 10_000,
    // A JoinGroup waits up to the rebalance timeout for the other members: the request must outlast it.
    requestTimeout: Math.max(30_000, (options.sessionTimeoutMs ?? 10_000) + 10_000),
  });
  // Data goes through a second client that never joins the group: the group member's connection carries
  // JoinGroup requests that block for a whole rebalance, and fetches queued behind them would stall.
  const fetcher = new Consumer({
    ...base,
    clientId: `${options.clientId}-processor-fetch`,
    groupId: `${groupId}-fetch`,
  });

  const groupMonitor = createGroupMonitor({
    admin,
    groupId,
    topics: [topics.location, topics.status],
    memberId: () => consumer.memberId,
    stallAfterMs: options.stallAfterMs ?? 2 * (options.sessionTimeoutMs ?? 10_000) + 5000,
    ...(options.monitorIntervalMs ? { intervalMs: options.monitorIntervalMs } : {}),
    active: () => running,
    onStalled: rejoinGroup,
    onError: (err) => log.debug({ err }, 'processor_group_observe_failed'),
  });
  let groupRejoins = 0;

  let tasks = new Map<number, PartitionTask>();
  let generation = -1;
  let running = false;
  let ready = false;
  let loop: Promise<void> | undefined;
  let nextFlushAt = 0;
  let lastError: unknown;
  const retired = { recordsIn: 0, joinRows: 0, deadLetters: 0, lateRowsDropped: 0, misrouted: 0 };
  let misroutedSeen = 0;
  /** Per-device records skipped at restore because they do not decode. */
  let restoreSkipped = 0;
  /** Partitions of the source topics, read at every rebuild (`reset`). */
  let partitionCount = options.partitions ?? 3;
  let flushes = 0;
  let flushFailures = 0;
  /** Set while the latest flush failed: outputs are not getting through even if the loop itself runs. */
  let flushError: unknown;
  let flushing: Promise<void> | null = null;
  let flushFailed = false;
  let inflightOutputs = 0;

  const newTask = (partition: number) =>
    new PartitionTask({
      partition,
      partitionCount,
      maxFutureMs,
      maxAgeMs: maxEventAgeMs,
      topology: topologyOptions,
      output: output.forPartition(partition),
      onMisrouted: (side, p, record, expected) => {
        misroutedSeen++;
        // Sampled: a producer with another partitioner misroutes about half of everything it writes.
        if (misroutedSeen === 1 || misroutedSeen % 10_000 === 0) {
          log.warn(
            { side, partition: p, expected, offset: record.offset, misrouted: misroutedSeen },
            'record_misrouted: its producer partitions keys unlike the Java client (murmur2 & 0x7fffffff)',
          );
        }
      },
      deadLetter: (side, p, record, reason) => {
        output.deadLetter(side === 'location' ? topics.location : topics.status, side, p, record, reason);
        log.warn({ side, partition: p, offset: record.offset, reason }, 'record_dead_lettered');
      },
    });

  async function createTopics(): Promise<void> {
    const sources = await describePartitions(admin, [topics.location, topics.status]);
    const counts = new Set(sources.values());
    if (counts.size > 1) {
      throw new AppError(
        'TLM_TOPIC_MISMATCH',
        `${topics.location} and ${topics.status} have different partition counts`,
        {
          details: Object.fromEntries(sources),
        },
      );
    }
    const partitions = [...counts][0] ?? options.partitions ?? 3;
    const replicas = options.replicas ?? 1;
    const spec = (name: string, configs?: Record<string, string>) => ({
      name,
      partitions,
      replicas,
      ...(configs ? { configs } : {}),
    });
    await ensureTopics(admin, [
      spec(topics.location),
      spec(topics.status),
      spec(topics.joinEvents),
      spec(topics.per2s),
      spec(topics.perDevice, { 'cleanup.policy': 'compact' }),
      spec(topics.deadLetters),
      {
        name: topics.checkpoints,
        partitions: 1,
        replicas,
        configs: { 'cleanup.policy': 'compact', 'segment.ms': '600000' },
      },
    ]);
  }

  function checkpointOf(task: PartitionTask): PlainRecord {
    const topology = task.topology;
    topology.prune();
    const point = topology.replayPoint();
    const low = { location: point.location ?? task.processed.location, status: point.status ?? task.processed.status };
    const checkpoint: Checkpoint = {
      version: 1,
      partition: task.partition,
      low,
      high: { ...task.processed },
      joinStreamTime: streamTimeOrNull(point.joinStreamTime),
      aggStreamTime: streamTimeOrNull(point.aggStreamTime),
      closedAtAggStreamTime: streamTimeOrNull(topology.aggStreamTime),
      futureRefused: task.refusalsFrom(low),
    };
    return {
      topic: topics.checkpoints,
      partition: 0,
      key: Buffer.from(checkpointKey(groupId, topics.location, task.partition)),
      value: encodeCheckpoint(checkpoint),
    };
  }

  /**
   * Writes buffered outputs, then (once they are acknowledged) the checkpoints that cover them. Checkpoints
   * (which prune state and scan it for the replay point) are written at the flush interval, not at the early
   * flushes that bound buffered outputs; a restart then replays a little more, with the same final state.
   */
  async function flush(withCheckpoints = true): Promise<void> {
    const outputs = output.drain();
    // After a failed flush some outputs were lost: no checkpoint may claim them until state is rebuilt.
    const checkpointed =
      flushFailed || !withCheckpoints ? [] : [...tasks.values()].filter((t) => !t.topology.replaying);
    const checkpoints = checkpointed.map(checkpointOf);
    // What the checkpoints cover, taken now: processing goes on while they are written.
    const covered = checkpointed.map((t) => ({ partition: t.partition, high: { ...t.processed } }));
    if (withCheckpoints) nextFlushAt = clock.now() + options.flushIntervalMs;
    inflightOutputs = flushSize(outputs);
    try {
      if (flushSize(outputs) > 0) await writer.write(outputs);
      if (checkpoints.length > 0) {
        await writer.write({ records: checkpoints });
        await commitSourceOffsets(covered);
      }
      flushes++;
      flushError = undefined;
    } catch (err) {
      flushFailed = true;
      flushFailures++;
      flushError = err;
      throw err;
    } finally {
      inflightOutputs = 0;
    }
  }

  /**
   * Commits what the checkpoints cover to the consumer group, so that the group's lag as the broker (and every
   * standard tool) sees it is the processor's. Restarts read the checkpoints, not these offsets; a commit refused
   * after a rebalance (another generation) is harmless and only logged.
   */
  async function commitSourceOffsets(covered: { partition: number; high: Record<Side, number> }[]): Promise<void> {
    const offsets = covered.flatMap(({ partition, high }) =>
      SIDES.map((side) => ({
        topic: side === 'location' ? topics.location : topics.status,
        partition,
        offset: BigInt(high[side]),
        leaderEpoch: -1,
      })),
    );
    await consumer.commit({ offsets }).catch((err: unknown) => log.debug({ err }, 'source_offset_commit_failed'));
  }

  /**
   * Starts a flush in the background so that processing goes on while the broker acknowledges; at most one is
   * in flight, and its failure surfaces at the next call (the loop then rebuilds state from the checkpoints).
   */
  async function startFlush(withCheckpoints: boolean): Promise<void> {
    if (flushing) await flushing;
    const started = flush(withCheckpoints);
    flushing = started;
    started.then(
      () => {
        if (flushing === started) flushing = null;
      },
      () => undefined,
    );
  }

  async function settleFlush(): Promise<void> {
    const pending = flushing;
    flushing = null;
    if (pending) await pending.catch((err: unknown) => log.warn({ err }, 'flush_failed'));
  }

  function retire(): void {
    for (const task of tasks.values()) {
      retired.recordsIn += task.topology.counters.recordsProcessed;
      retired.joinRows += task.topology.counters.joinRows;
      retired.deadLetters += task.deadLettered;
      retired.lateRowsDropped += task.topology.counters.lateRowsDropped;
      retired.misrouted += task.misrouted;
    }
  }

  /** Drops all state and rebuilds it for the current assignment from checkpoints and the per-device topic. */
  async function reset(): Promise<void> {
    const targetGeneration = consumer.generationId;
    await settleFlush();
    if (tasks.size > 0) await flush().catch((err: unknown) => log.warn({ err }, 'flush_before_rebalance_failed'));
    retire();
    tasks = new Map();
    output.clear();
    const assignment = consumer.assignments ?? [];
    const partitionsOf = (topic: string) => assignment.find((a) => a.topic === topic)?.partitions ?? [];
    const partitions = partitionsOf(topics.location).filter((p) => partitionsOf(topics.status).includes(p));
    if (partitions.length > 0) {
      partitionCount = (await describePartitions(admin, [topics.location])).get(topics.location) ?? partitionCount;
    }
    const saved = new Map<string, Checkpoint>();
    if (partitions.length > 0) {
      for (const r of await readWholePartition(fetcher, topics.checkpoints, 0, restoreLimits)) {
        const c = r.key ? decodeCheckpoint(r.value) : undefined;
        if (c && r.key) saved.set(r.key.toString(), c);
      }
    }
    const next = new Map<number, PartitionTask>();
    for (const partition of partitions) {
      const task = newTask(partition);
      const checkpoint = saved.get(checkpointKey(groupId, topics.location, partition));
      if (checkpoint) {
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
        for (const r of await readWholePartition(fetcher, topics.perDevice, partition, restoreLimits)) {
          const decoded = decodeLatestRecord(r.key, r.value);
          if (decoded.ok && decoded.record !== null) {
            task.topology.restoreDevice(decoded.deviceId, r.timestamp, decoded.record);
          } else if (decoded.ok) {
            task.topology.forgetDevice(decoded.deviceId);
          } else {
            // A record the processor did not write (or a corrupt one) must not stop the restore: it is skipped.
            restoreSkipped++;
            log.warn({ partition, offset: r.offset, reason: decoded.reason }, 'restore_record_skipped');
          }
        }
      } else {
        const [location, status] = await Promise.all(
          [topics.location, topics.status].map((t) => partitionBounds(fetcher, t, partition)),
        );
        task.seek({ location: location?.start ?? 0, status: status?.start ?? 0 });
      }
      next.set(partition, task);
    }
    tasks = next;
    flushFailed = false;
    generation = targetGeneration;
    ready = true;
    log.info(
      { partitions, restored: partitions.filter((p) => saved.has(checkpointKey(groupId, topics.location, p))) },
      'partitions_assigned',
    );
  }

  /** Where each owned partition is to be fetched next (sides whose queue is full wait). */
  function fetchPositions(): PartitionPosition[] {
    const positions: PartitionPosition[] = [];
    for (const task of tasks.values()) {
      for (const side of SIDES) {
        if (task.queued(side) >= maxQueued) continue;
        positions.push({
          topic: side === 'location' ? topics.location : topics.status,
          partition: task.partition,
          offset: task.position[side],
        });
      }
    }
    return positions;
  }

  /**
   * The next fetch, started before the current records are processed so that processing never waits for a
   * round trip. Positions only move when a response is enqueued, so it asks for exactly what comes next.
   */
  let prefetch: Promise<FetchedPartition[]> | null = null;

  function dropPrefetch(): void {
    // Its records belong to the previous assignment or to state being rebuilt; only its failure is absorbed.
    prefetch?.catch(() => undefined);
    prefetch = null;
  }

  async function step(): Promise<void> {
    if (consumer.generationId !== generation) {
      dropPrefetch();
      await reset();
    }
    if (tasks.size === 0) {
      await sleep(limits.maxWaitMs);
      return;
    }
    const fetched = await (prefetch ?? fetchPartitions(fetcher, fetchPositions(), limits));
    prefetch = null;
    if (consumer.generationId !== generation) return;
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
    prefetch = fetchPartitions(fetcher, fetchPositions(), limits);
    // Awaited at the next step; until then a failure must not count as an unhandled rejection (which would end
    // the process) while this step awaits a flush.
    prefetch.catch(() => undefined);
    const now = clock.now();
    for (const task of tasks.values()) task.drive({ now, idleWaitMs: options.idleWaitMs, lagWaitMs });
    const due = now >= nextFlushAt;
    // A failed flush surfaces at once: processing on would only add outputs that the rebuild replays anyway.
    if (flushFailed && flushing) await flushing;
    // While a flush is in flight, outputs keep accumulating (up to a hard bound) rather than processing waiting
    // for the broker: the next flush then carries more, and flush size follows the broker's pace.
    if ((due || output.size >= maxPending) && (!flushing || output.size >= maxPending * 4)) await startFlush(due);
  }

  const joinOptions = () => ({
    partitionAssigner: copartitionedAssigner,
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 1000,
    rebalanceTimeout: options.sessionTimeoutMs ?? 10_000,
  });

  /** The group has stayed outside a stable generation with this member: leave it and join afresh. */
  async function rejoinGroup(observation: GroupObservation, unhealthyForMs: number): Promise<void> {
    groupRejoins++;
    log.error(
      { state: observation.state, members: observation.members.length, unhealthyForMs },
      'processor_group_stalled_rejoining',
    );
    const leave = consumer.leaveGroup as (force?: boolean) => Promise<void>;
    await leave.call(consumer, true).catch((err: unknown) => log.warn({ err }, 'leave_group_failed'));
    await consumer.joinGroup(joinOptions());
  }

  async function run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
    while (running) {
      try {
        await step();
        // Steps succeed between failing flushes too: the backoff only resets once outputs get through.
        if (flushError === undefined) backoff.reset();
        lastError = undefined;
      } catch (err) {
        if (!running) break;
        lastError = err;
        const delay = backoff.next();
        log.error({ err, retryInMs: delay }, 'processor_step_failed');
        await sleep(delay);
        // State may be half-updated relative to what was flushed: rebuild it from the checkpoints.
        generation = -1;
        dropPrefetch();
      }
    }
  }

  const stats = (): ProcessorStats => {
    const s = { ...retired, lag: 0, flushes, flushFailures, pendingOutputs: output.size + inflightOutputs };
    for (const task of tasks.values()) {
      s.recordsIn += task.topology.counters.recordsProcessed;
      s.joinRows += task.topology.counters.joinRows;
      s.deadLetters += task.deadLettered;
      s.lateRowsDropped += task.topology.counters.lateRowsDropped;
      s.misrouted += task.misrouted;
      s.lag += task.lag();
    }
    return s;
  };

  return {
    name: 'stream-processor',
    async start() {
      if (options.createTopics !== false) await createTopics();
      consumer.topics.trackAll(topics.location, topics.status);
      await consumer.joinGroup(joinOptions());
      running = true;
      groupMonitor.start();
      nextFlushAt = clock.now() + options.flushIntervalMs;
      loop = run();
    },
    async stop() {
      running = false;
      await groupMonitor.stop();
      await loop;
      dropPrefetch();
      await settleFlush();
      try {
        if (ready) await flush();
      } catch (err) {
        log.warn({ err }, 'final_flush_failed');
      }
      // leaveGroup() first: it also stops the membership, so an in-flight heartbeat cannot rejoin the group after
      // close (observed with @platformatic/kafka 1.35 when closing a member while the group rebalances).
      const leave = consumer.leaveGroup as (force?: boolean) => Promise<void>;
      await leave.call(consumer, true).catch((err: unknown) => log.warn({ err }, 'leave_group_failed'));
      await Promise.allSettled([consumer.close(true), fetcher.close(true), admin.close(), writer.close()]);
      retire();
      tasks = new Map();
      ready = false;
    },
    readiness: {
      name: 'processor',
      async check() {
        const error = lastError ?? flushError;
        if (!ready || error !== undefined) {
          throw new AppError('TLM_NOT_READY', 'the stream processor is not consuming or not writing its outputs', {
            retryable: true,
            details: { dependency: 'processor' },
          });
        }
        const { observation, unhealthyForMs } = groupMonitor.health();
        if (observation && unhealthyForMs > 0) {
          throw new AppError(
            'TLM_NOT_READY',
            `the stream processor's consumer group is ${observation.state.toLowerCase()} (for ${Math.round(unhealthyForMs / 1000)} s)`,
            { retryable: true, details: { dependency: 'processor' } },
          );
        }
      },
    },
    assignedPartitions: () => [...tasks.keys()].sort((a, b) => a - b),
    stats,
    metrics(): MetricSample[] {
      const s = stats();
      let joinRecords = 0;
      let windows = 0;
      for (const task of tasks.values()) {
        joinRecords += task.topology.stateSize.joinRecords;
        windows += task.topology.stateSize.windows;
      }
      const counter = (name: string, help: string, value: number): MetricSample => ({
        name,
        help,
        type: 'counter',
        value,
      });
      const gauge = (name: string, help: string, value: number): MetricSample => ({ name, help, type: 'gauge', value });
      return [
        counter('processor_records_in_total', 'Source records processed (replays excluded)', s.recordsIn),
        counter('processor_join_rows_total', 'JOIN_EVENTS rows produced', s.joinRows),
        counter(
          'processor_records_dead_lettered_total',
          'Malformed source records sent to the dead-letter topic',
          s.deadLetters,
        ),
        counter(
          'processor_rows_late_total',
          'Joined rows dropped because their window was past the grace',
          s.lateRowsDropped,
        ),
        counter(
          'processor_records_misrouted_total',
          "Source records on another partition than Kafka's default partitioner gives their key: their producer " +
            'partitions unlike the Java client, and the device may be split across partitions',
          s.misrouted,
        ),
        counter('processor_flushes_total', 'Output flushes acknowledged by the broker', s.flushes),
        counter(
          'processor_flush_failures_total',
          'Output flushes that failed or timed out (state was rebuilt from the checkpoints)',
          s.flushFailures,
        ),
        counter(
          'processor_restore_records_skipped_total',
          'Per-device output records that did not decode when state was restored (skipped)',
          restoreSkipped,
        ),
        gauge('processor_pending_outputs', 'Output records buffered or being written', s.pendingOutputs),
        gauge('processor_lag_records', 'Source records not processed yet (buffered plus on the broker)', s.lag),
        gauge(
          'processor_group_lag_records',
          "Source records after the processor group's committed offsets (high watermark minus committed, from the broker)",
          groupMonitor.lag() ?? 0,
        ),
        counter(
          'processor_group_rejoins_total',
          'Times the processor found its consumer group stuck outside a stable generation and joined it afresh',
          groupRejoins,
        ),
        gauge('processor_partitions_assigned', 'Source partition numbers owned by this instance', tasks.size),
        gauge('processor_state_join_records', 'Records held in the join state', joinRecords),
        gauge('processor_state_windows', 'Open 2-second windows held', windows),
      ];
    },
  };
}
