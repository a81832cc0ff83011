/**
 * The embedded warehouse sink: consumes the processor's output topics and upserts them into PostgreSQL.
 *
 * Delivery: at-least-once with idempotent, guarded writes. Records are collected into a batch (up to
 * `batchSize`, or whatever arrived within `flushIntervalMs`), the consumer is paused, the batch is written in
 * one transaction, and only after the commit are the Kafka offsets committed. A crash between the two
 * redelivers the batch, which the guard in `warehouse-writer.ts` turns into a no-op.
 *
 * PostgreSQL unavailable: the batch is retried with capped exponential backoff while the consumer stays paused,
 * so memory is bounded by the batch plus the consumer's `highWaterMark`. Readiness names PostgreSQL while it
 * fails; the retry count is a metric. Nothing is committed until the batch is written, so nothing is lost.
 *
 * Records that cannot be decoded go to the dead-letter topic (with the reason in headers) before the offsets
 * that cover them are committed, and are counted.
 */

import type { KafkaConnection } from '../bus/kafka-admin.js';
import { TOPICS } from '../core/topics.js';
import { AppError, UnavailableError } from '../errors.js';
import type { Component, ReadinessCheck } from '../lifecycle.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsSource } from '../observability/metrics.js';
import type { Sql } from './database.js';
import { createDeadLetterPublisher, type RawMessage, type Rejected } from './dead-letters.js';
import { createRetrySleeper, isRecordRefusal, isRetryableDatabaseError } from './retry.js';
import {
  type AlertRow,
  type DeviceRow,
  decodeAlertRow,
  decodeDeviceRow,
  decodeWindowRow,
  RecordRejectedError,
  type WindowRow,
} from './rows.js';
import { createSinkConsumer } from './sink-consumer.js';
import { type SinkState, type SinkStats, sinkMetricSamples } from './sink-metrics.js';

export type { SinkState, SinkStats } from './sink-metrics.js';

import { createWarehouseWriter } from './warehouse-writer.js';

interface Entry<R> {
  message: RawMessage;
  row: R;
}
/** Records decoded on arrival, waiting for the next transaction. */
interface Batch {
  windows: Entry<WindowRow>[];
  devices: Entry<DeviceRow>[];
  alerts: Entry<AlertRow>[];
  rejected: Rejected[];
  /** The last record per topic-partition: what the offset commit covers. */
  last: Map<string, RawMessage>;
  size: number;
}

const emptyBatch = (): Batch => ({ windows: [], devices: [], alerts: [], rejected: [], last: new Map(), size: 0 });

export interface WarehouseSinkOptions {
  sql: Sql;
  kafka: KafkaConnection;
  logger: Logger;
  groupId: string;
  /** Schema holding the tables; unqualified (search path) when absent. */
  schema?: string;
  /** The output topics; `alerts` (device_alerts) is optional so that a sink can be run without it. */
  topics?: { windows: string; devices: string; alerts?: string };
  deadLetterTopic?: string;
  /** Most records per database transaction. */
  batchSize?: number;
  /** How long a partial batch waits for more records. */
  flushIntervalMs?: number;
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Records the consumer may buffer while the sink is paused. */
  highWaterMark?: number;
  /** Consumer group session timeout. @default 10_000 */
  sessionTimeoutMs?: number;
  /** Static group membership id (unique per instance): a restart takes over its partitions at once. */
  groupInstanceId?: string;
  /** How often the group's lag and state are read from the broker. @default 5000 */
  monitorIntervalMs?: number;
  /** A group stuck outside a stable generation this long is joined afresh. @default 2 × session + 5 s */
  stallAfterMs?: number;
  /** Fault injection for tests: runs after the database commit, before the offset commit. */
  beforeOffsetCommit?: (batch: { records: number }) => void | Promise<void>;
}

export interface WarehouseSink extends Component {
  readonly readiness: ReadinessCheck;
  readonly metrics: MetricsSource;
  stats(): SinkStats;
}

export function createWarehouseSink(options: WarehouseSinkOptions): WarehouseSink {
  const { logger } = options;
  const topics = options.topics ?? {
    windows: TOPICS.DEVICE_WINAGG_STATUS_PER2S,
    devices: TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE,
    alerts: TOPICS.DEVICE_ALERTS,
  };
  const deadLetterTopic = options.deadLetterTopic ?? TOPICS.DEAD_LETTERS;
  const batchSize = options.batchSize ?? 5000;
  const flushIntervalMs = options.flushIntervalMs ?? 100;
  const writer = createWarehouseWriter(options.sql, { schema: options.schema });
  const sleeper = createRetrySleeper({
    initialMs: options.retryInitialDelayMs ?? 100,
    maxMs: options.retryMaxDelayMs ?? 5000,
  });

  /** The counters; state, lag and rejoins are read from the membership (`currentStats`). */
  const stats: Omit<SinkStats, 'state' | 'consumerLag' | 'groupRejoins'> = {
    rowsWritten: { windows: 0, devices: 0, alerts: 0 },
    recordsConsumed: 0,
    recordsCommitted: 0,
    batches: 0,
    retries: 0,
    deadLettered: 0,
    offsetCommitFailures: 0,
  };
  let lastError: unknown;
  const deadLetters = createDeadLetterPublisher({ kafka: options.kafka, topic: deadLetterTopic });
  let pending = emptyBatch();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let stopping = false;
  let committing: Promise<void> = Promise.resolve();
  /** True while a batch's write fails and is being retried. */
  let retrying = false;
  const membership = createSinkConsumer({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: [topics.windows, topics.devices, ...(topics.alerts ? [topics.alerts] : [])],
    logger,
    onMessage,
    sleeper,
    highWaterMark: options.highWaterMark ?? 2048,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
    ...(options.monitorIntervalMs ? { monitorIntervalMs: options.monitorIntervalMs } : {}),
    ...(options.stallAfterMs ? { stallAfterMs: options.stallAfterMs } : {}),
  });

  /**
   * Decodes each record as it arrives, so decoding overlaps the previous batch's database write. While a
   * batch is being written the next one fills up to `batchSize`; then the stream is paused, which bounds
   * memory to two batches plus the consumer's buffer however long PostgreSQL stays away.
   */
  function onMessage(message: RawMessage): void {
    stats.recordsConsumed++;
    pending.size++;
    pending.last.set(`${message.topic}:${message.partition}`, message);
    const position = { kafka_partition: message.partition, kafka_offset: message.offset };
    try {
      if (message.topic === topics.windows) {
        pending.windows.push({ message, row: decodeWindowRow(message.key, message.value, position) });
      } else if (message.topic === topics.alerts) {
        pending.alerts.push({ message, row: decodeAlertRow(message.key, message.value, position) });
      } else {
        pending.devices.push({ message, row: decodeDeviceRow(message.key, message.value, position) });
      }
    } catch (err) {
      const reason = err instanceof RecordRejectedError ? err.message : `undecodable: ${String(err)}`;
      pending.rejected.push({ message, reason });
    }
    if (pending.size >= batchSize) {
      if (flushing !== undefined) membership.pause();
      requestFlush();
    } else {
      timer ??= setTimeout(requestFlush, flushIntervalMs);
    }
  }

  function requestFlush(): void {
    clearTimeout(timer);
    timer = undefined;
    if (flushing || stopping) return;
    flushing = flushLoop()
      .catch((err: unknown) => {
        if (!stopping) logger.error({ err }, 'sink_flush_failed');
      })
      .finally(() => {
        flushing = undefined;
      });
  }

  async function flushLoop(): Promise<void> {
    while (pending.size > 0 && !stopping) {
      const batch = pending;
      pending = emptyBatch();
      if (membership.isPaused()) membership.resume();
      await processBatch(batch);
    }
  }

  async function sendDeadLetters(rejected: Rejected[]): Promise<void> {
    await deadLetters.publish(rejected);
    stats.deadLettered += rejected.length;
    logger.warn(
      { count: rejected.length, reasons: rejected.slice(0, 3).map((r) => r.reason) },
      'sink_records_dead_lettered',
    );
  }

  /**
   * Writes the batch; if PostgreSQL refuses it for a reason retrying cannot fix (a constraint or data error,
   * i.e. a record our validation let through; see `isRecordRefusal`), writes the rows one by one and dead-letters the refused ones,
   * so one bad record neither blocks the partition nor takes good rows down with it.
   */
  async function writeRows(decoded: Batch): Promise<void> {
    try {
      const result = await writer.write(
        decoded.windows.map((e) => e.row),
        decoded.devices.map((e) => e.row),
        decoded.alerts.map((e) => e.row),
      );
      stats.rowsWritten.alerts += result.alertRows;
      stats.rowsWritten.windows += result.windowRows;
      stats.rowsWritten.devices += result.deviceRows;
      return;
    } catch (err) {
      if (!isRecordRefusal(err)) throw err;
      logger.error({ err }, 'sink_batch_refused');
    }
    const refused: Rejected[] = [];
    const one = async <R>(entries: Entry<R>[], write: (row: R) => Promise<void>) => {
      for (const entry of entries) {
        try {
          await write(entry.row);
        } catch (err) {
          if (!isRecordRefusal(err)) throw err;
          const code = (err as { code?: unknown }).code;
          refused.push({
            message: entry.message,
            reason: `PostgreSQL refused the row (${String(code)}): ${(err as Error).message}`,
          });
        }
      }
    };
    await one(decoded.windows, async (row) => {
      stats.rowsWritten.windows += (await writer.write([row], [])).windowRows;
    });
    await one(decoded.devices, async (row) => {
      stats.rowsWritten.devices += (await writer.write([], [row])).deviceRows;
    });
    await one(decoded.alerts, async (row) => {
      stats.rowsWritten.alerts += (await writer.write([], [], [row])).alertRows;
    });
    if (refused.length > 0) await sendDeadLetters(refused);
  }

  async function processBatch(decoded: Batch): Promise<void> {
    let deadLettersSent = decoded.rejected.length === 0;
    for (let attempt = 0; ; attempt++) {
      if (stopping) return; // not committed: the next owner of these partitions gets them again
      try {
        if (!deadLettersSent) {
          await sendDeadLetters(decoded.rejected);
          deadLettersSent = true;
        }
        await writeRows(decoded);
        stats.batches++;
        break;
      } catch (err) {
        stats.retries++;
        lastError = err;
        if (!retrying) {
          retrying = true;
          logger.error({ err, transient: isRetryableDatabaseError(err) }, 'sink_write_failed');
        }
        await sleeper.sleep(attempt);
      }
    }
    if (retrying) logger.info({ retries: stats.retries }, 'sink_write_recovered');
    retrying = false;
    lastError = undefined;
    await options.beforeOffsetCommit?.({ records: decoded.size });
    // The offset commit runs while the next batch is written; commits stay in batch order (one chain), and
    // each starts only after its own batch is in the database.
    const size = decoded.size;
    committing = committing
      .then(() => commitOffsets(decoded.last))
      .then(() => {
        stats.recordsCommitted += size;
      });
  }

  async function commitOffsets(last: Map<string, RawMessage>): Promise<void> {
    // A failed commit (e.g. the partition moved in a rebalance) is safe: the records come again and the
    // guarded upsert ignores them.
    const results = await Promise.allSettled([...last.values()].map((m) => m.commit()));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) {
      stats.offsetCommitFailures += failed.length;
      logger.warn(
        { failed: failed.length, err: (failed[0] as PromiseRejectedResult).reason },
        'sink_offset_commit_failed',
      );
    }
  }

  /** The sink's state: a failing database write first, then the group membership. */
  function state(): SinkState {
    if (retrying) return 'retrying';
    return membership.state();
  }

  function currentStats(): SinkStats {
    return {
      ...structuredClone(stats),
      state: state(),
      consumerLag: membership.lag() ?? 0,
      groupRejoins: membership.rejoins(),
    };
  }

  // Messages name the dependency and what is wrong, never a driver's or the broker's own error text.
  const readiness: ReadinessCheck = {
    name: 'sink',
    async check() {
      switch (state()) {
        case 'stopped':
          throw new AppError('UNAVAILABLE', 'the warehouse sink is not running');
        case 'starting':
          throw new AppError('UNAVAILABLE', 'the warehouse sink is subscribing to its topics and joining its group');
        case 'stalled':
          throw new AppError('UNAVAILABLE', 'the warehouse sink found its consumer group stuck and is rejoining');
        case 'retrying':
          throw new UnavailableError('postgresql', 'the warehouse sink cannot write to PostgreSQL', lastError);
        case 'running': {
          const { observation, unhealthyForMs } = membership.group();
          // Not yet stalled, but the broker sees no stable group with this member: say so rather than "ok".
          if (observation && unhealthyForMs > 0) {
            throw new AppError(
              'UNAVAILABLE',
              `the warehouse sink's consumer group is ${observation.state.toLowerCase()} (for ${Math.round(unhealthyForMs / 1000)} s)`,
            );
          }
          return;
        }
      }
    },
  };

  const metrics: MetricsSource = { metrics: () => sinkMetricSamples(currentStats()) };

  return {
    name: 'warehouse-sink',
    readiness,
    metrics,
    stats: currentStats,
    async start() {
      stopping = false;
      // In the background: the processor creates the output topics when it starts, which may be later.
      membership.start();
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      sleeper.wake();
      await flushing;
      await committing;
      await membership.stop();
      await deadLetters.close().catch((err: unknown) => logger.warn({ err }, 'sink_producer_close_failed'));
      pending = emptyBatch();
    },
  };
}
