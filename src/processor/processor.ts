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
 *   re-read from its output topic.
 * - Exactly-once (the default): each flush with checkpoints commits outputs, checkpoints and source offsets in
 *   one transaction (`output-producer.ts`), with the group generation the partitions were assigned in, so a
 *   member of an older generation is fenced; read_committed consumers never see a duplicate or an aborted
 *   output. At-least-once (`guarantee`): outputs between the last checkpoint and a crash are written again with
 *   the same keys and values, so keyed consumers end in the same state, but JOIN_EVENTS may repeat rows.
 * - Malformed source records are skipped, counted and written to the dead-letter topic with the reason in the
 *   `reason` header; processing never stops on bad input. Broker errors are logged and retried with backoff.
 */
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import { DEFAULT_RETENTION_MS } from '../bus/topic-configs.js';
import { systemClock } from '../clock.js';
import { PartitionTopology } from '../core/topology.js';
import { AppError } from '../errors.js';
import type { MetricSample } from '../observability/metrics.js';
import { OutputBuffer } from './emitter.js';
import { FlushPipeline } from './flush-pipeline.js';
import { GroupMembership } from './group-membership.js';
import { OutputThread } from './output-thread.js';
import { ProcessingLoop } from './processing-loop.js';
import { processorMetricSamples } from './processor-metrics.js';
import {
  type ProcessorStats,
  processorSettings,
  SIDES,
  type StreamProcessor,
  type StreamProcessorOptions,
  sourceTopic,
} from './processor-options.js';
import { ensureProcessorTopics } from './processor-topics.js';
import { PartitionTask } from './task.js';
import { TaskSet } from './task-set.js';

export type { ProcessorStats, ProcessorTopics, StreamProcessor, StreamProcessorOptions } from './processor-options.js';

/** Assembles the parts: membership, fetch-and-process loop, flush pipeline, output thread, readiness, metrics. */
export function createStreamProcessor(options: StreamProcessorOptions): StreamProcessor {
  const { topics, logger, groupId } = options;
  const clock = options.clock ?? systemClock;
  const log = logger.child({ component: 'processor', groupId });
  const settings = processorSettings(options);
  const output = new OutputBuffer(options.emitMode, topics);
  const base = { clientId: options.clientId, bootstrapBrokers: options.brokers };
  const admin = new Admin({ ...base, clientId: `${options.clientId}-processor-admin` });
  // Outputs are written on their own thread (`output-thread.ts`).
  const writer = new OutputThread({
    brokers: options.brokers,
    clientId: options.clientId,
    ...(options.writeTimeoutMs === undefined ? {} : { writeTimeoutMs: options.writeTimeoutMs }),
    ...(settings.guarantee === 'exactly-once'
      ? {
          transactional: {
            // Stable with static membership, so a restarted instance's InitProducerId aborts what its previous
            // run left open at once; otherwise unique per run (fencing is by group generation, KIP-447), and
            // what a crashed run left open is aborted by the broker after the transaction timeout.
            transactionalId: `${groupId}-${options.groupInstanceId ?? randomUUID()}`,
            timeoutMs: settings.transactionTimeoutMs,
          },
        }
      : {}),
  });
  // Data goes through a client that never joins the group (see `group-membership.ts`).
  const fetcher = new Consumer({
    ...base,
    clientId: `${options.clientId}-processor-fetch`,
    groupId: `${groupId}-fetch`,
    // Restores read checkpoints and per-device rows that were written in transactions: committed ones only.
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  });
  const tasks = new TaskSet();
  let misroutedSeen = 0;
  let capEvictions = 0;
  let restoreSkipped = 0;

  const membership = new GroupMembership({
    brokers: options.brokers,
    clientId: options.clientId,
    groupId,
    ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
    topics,
    settings,
    ...(options.monitorIntervalMs ? { monitorIntervalMs: options.monitorIntervalMs } : {}),
    admin,
    log,
    active: () => loop.running,
  });
  const pipeline = new FlushPipeline({
    output,
    writer,
    tasks,
    topics,
    groupId,
    clock,
    flushIntervalMs: options.flushIntervalMs,
    offsets:
      settings.guarantee === 'exactly-once'
        ? {
            guarantee: 'exactly-once',
            transactionCommit: (covered) => ({
              groupId,
              ...loop.member,
              offsets: covered.flatMap(({ partition, high }) =>
                SIDES.map((side) => ({ topic: sourceTopic(topics, side), partition, next: high[side] })),
              ),
            }),
          }
        : { guarantee: 'at-least-once', commit: (covered) => membership.commit(covered) },
    log,
  });

  const newTask = (partition: number, partitionCount: number) =>
    new PartitionTask({
      partition,
      partitionCount,
      maxFutureMs: settings.maxFutureMs,
      maxAgeMs: settings.maxEventAgeMs,
      topology: new PartitionTopology(
        {
          ...settings.topology,
          onDeviceEvicted: (deviceId, reason) => {
            if (reason !== 'cap') return;
            capEvictions++;
            // Sampled: once the cap bites, every new device evicts one.
            if (capEvictions === 1 || capEvictions % 10_000 === 0) {
              log.warn(
                { partition, deviceId, maxDevices: settings.topology.maxDevices, capEvictions },
                'device_cap_reached: the per-device table forgot its least recently seen device (PROCESSOR_MAX_DEVICES)',
              );
            }
          },
        },
        output.forPartition(partition),
      ),
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
        output.deadLetter(sourceTopic(topics, side), side, p, record, reason);
        log.warn({ side, partition: p, offset: record.offset, reason }, 'record_dead_lettered');
      },
    });

  const loop: ProcessingLoop = new ProcessingLoop({
    membership,
    pipeline,
    output,
    fetcher,
    admin,
    tasks,
    topics,
    groupId,
    settings,
    idleWaitMs: options.idleWaitMs,
    clock,
    log,
    newTask,
    partitionCount: options.partitions ?? 3,
    onRestoreSkipped: () => {
      restoreSkipped++;
    },
  });

  const stats = (): ProcessorStats => ({
    ...tasks.counters(),
    flushes: pipeline.flushes,
    flushFailures: pipeline.failures,
    pendingOutputs: pipeline.pending,
  });

  return {
    name: 'stream-processor',
    async start() {
      if (options.createTopics !== false) {
        await ensureProcessorTopics(admin, topics, {
          partitions: options.partitions ?? 3,
          replicas: options.replicas ?? 1,
          retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
        });
      }
      await membership.join();
      loop.start();
    },
    async stop() {
      await loop.stop();
      await membership.stop();
      await Promise.allSettled([fetcher.close(true), admin.close(), writer.close()]);
    },
    readiness: {
      name: 'processor',
      async check() {
        const error = loop.lastError ?? pipeline.error;
        if (!loop.ready || error !== undefined) {
          throw new AppError('UNAVAILABLE', 'the stream processor is not consuming or not writing its outputs', {
            retryable: true,
            details: { dependency: 'processor' },
          });
        }
        const { observation, unhealthyForMs } = membership.health();
        if (observation && unhealthyForMs > 0) {
          throw new AppError(
            'UNAVAILABLE',
            `the stream processor's consumer group is ${observation.state.toLowerCase()} (for ${Math.round(unhealthyForMs / 1000)} s)`,
            { retryable: true, details: { dependency: 'processor' } },
          );
        }
      },
    },
    assignedPartitions: () => tasks.partitions(),
    stats,
    metrics(): MetricSample[] {
      return processorMetricSamples(stats(), {
        restoreSkipped,
        groupLag: membership.lag() ?? 0,
        groupRejoins: membership.rejoins,
        partitions: tasks.size,
        ...tasks.stateSize(),
      });
    },
  };
}
