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
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, type MessagesStream, MessagesStreamModes } from '@platformatic/kafka';
import type { Component, ReadinessCheck } from '../app.js';
import type { KafkaConnection } from '../bus/kafka-admin.js';
import { TOPICS } from '../core/topics.js';
import { AppError, UnavailableError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsSource } from '../observability/metrics.js';
import type { Sql } from './database.js';
import { createDeadLetterPublisher, type RawMessage, type Rejected } from './dead-letters.js';
import { createRetrySleeper, isRecordRefusal, isRetryableDatabaseError } from './retry.js';
import { type DeviceRow, decodeDeviceRow, decodeWindowRow, RecordRejectedError, type WindowRow } from './rows.js';
import { type SinkStats, sinkMetricSamples } from './sink-metrics.js';

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
  rejected: Rejected[];
  /** The last record per topic-partition: what the offset commit covers. */
  last: Map<string, RawMessage>;
  size: number;
}

const emptyBatch = (): Batch => ({ windows: [], devices: [], rejected: [], last: new Map(), size: 0 });

export interface WarehouseSinkOptions {
  sql: Sql;
  kafka: KafkaConnection;
  logger: Logger;
  groupId: string;
  /** Schema holding the tables; unqualified (search path) when absent. */
  schema?: string;
  topics?: { windows: string; devices: string };
  deadLetterTopic?: string;
  /** Most records per database transaction. */
  batchSize?: number;
  /** How long a partial batch waits for more records. */
  flushIntervalMs?: number;
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Records the consumer may buffer while the sink is paused. */
  highWaterMark?: number;
  lagIntervalMs?: number;
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
  };
  const deadLetterTopic = options.deadLetterTopic ?? TOPICS.DEAD_LETTERS;
  const batchSize = options.batchSize ?? 5000;
  const flushIntervalMs = options.flushIntervalMs ?? 100;
  const writer = createWarehouseWriter(options.sql, { schema: options.schema });
  const closeTimeoutMs = 3000;
  const sleeper = createRetrySleeper({
    initialMs: options.retryInitialDelayMs ?? 100,
    maxMs: options.retryMaxDelayMs ?? 5000,
  });

  const stats: SinkStats = {
    state: 'stopped',
    rowsWritten: { windows: 0, devices: 0 },
    recordsConsumed: 0,
    recordsCommitted: 0,
    batches: 0,
    retries: 0,
    deadLettered: 0,
    offsetCommitFailures: 0,
    consumerLag: 0,
  };
  let lastError: unknown;
  let consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  const deadLetters = createDeadLetterPublisher({ kafka: options.kafka, topic: deadLetterTopic });
  let pending = emptyBatch();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let stopping = false;
  let subscribing: Promise<void> | undefined;
  let committing: Promise<void> = Promise.resolve();

  /** Subscribes to the output topics, retrying with backoff while they do not exist or Kafka is down. */
  async function subscribe(c: Consumer<Buffer, Buffer, Buffer, Buffer>): Promise<void> {
    for (let attempt = 0; !stopping; attempt++) {
      try {
        const s = await c.consume({
          topics: [topics.windows, topics.devices],
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: MessagesStreamModes.EARLIEST,
          autocommit: false,
        });
        if (stopping) {
          await s.close();
          return;
        }
        stream = s;
        s.on('data', onMessage);
        s.on('error', (err: unknown) => logger.error({ err }, 'sink_consumer_failed'));
        s.on('close', () => {
          if (stopping || stream !== s) return;
          // The client gave up on this stream (e.g. a fatal group error): subscribe again. Nothing it
          // delivered after the last offset commit is lost; it comes again.
          logger.warn({}, 'sink_stream_closed');
          stream = undefined;
          stats.state = 'starting';
          subscribing = subscribe(c);
        });
        c.startLagMonitoring({ topics: [topics.windows, topics.devices] }, options.lagIntervalMs ?? 5000);
        stats.state = 'running';
        lastError = undefined;
        logger.info({ topics, groupId: options.groupId }, 'sink_started');
        return;
      } catch (err) {
        lastError = err;
        if (attempt === 0) logger.warn({ err, topics }, 'sink_subscribe_failed');
        await sleeper.sleep(attempt);
      }
    }
  }

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
      } else {
        pending.devices.push({ message, row: decodeDeviceRow(message.key, message.value, position) });
      }
    } catch (err) {
      const reason = err instanceof RecordRejectedError ? err.message : `undecodable: ${String(err)}`;
      pending.rejected.push({ message, reason });
    }
    if (pending.size >= batchSize) {
      if (flushing !== undefined) stream?.pause();
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
      if (stream?.isPaused()) stream.resume();
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
      );
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
        if (stats.state !== 'retrying') {
          stats.state = 'retrying';
          logger.error({ err, transient: isRetryableDatabaseError(err) }, 'sink_write_failed');
        }
        await sleeper.sleep(attempt);
      }
    }
    if (stats.state === 'retrying') logger.info({ retries: stats.retries }, 'sink_write_recovered');
    stats.state = 'running';
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

  const readiness: ReadinessCheck = {
    name: 'sink',
    async check() {
      if (stats.state === 'stopped') throw new AppError('TLM_NOT_READY', 'the warehouse sink is not running');
      if (stats.state === 'starting') {
        const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
        throw new AppError('TLM_NOT_READY', `the warehouse sink is subscribing to its topics${reason}`);
      }
      if (stats.state === 'retrying') {
        const reason = lastError instanceof Error ? lastError.message : String(lastError);
        throw new UnavailableError('postgresql', `the warehouse sink cannot write to PostgreSQL: ${reason}`, lastError);
      }
    },
  };

  const metrics: MetricsSource = { metrics: () => sinkMetricSamples(stats) };

  return {
    name: 'warehouse-sink',
    readiness,
    metrics,
    stats: () => structuredClone(stats),
    async start() {
      stopping = false;
      stats.state = 'starting';
      consumer = new Consumer({
        clientId: `${options.kafka.clientId}-sink`,
        bootstrapBrokers: options.kafka.brokers,
        groupId: options.groupId,
        maxWaitTime: 500,
        highWaterMark: options.highWaterMark ?? 2048,
      });
      consumer.on('consumer:lag', (lag: Map<string, bigint[]>) => {
        let total = 0n;
        for (const partitions of lag.values()) for (const l of partitions) if (l > 0n) total += l;
        stats.consumerLag = Number(total);
      });
      consumer.on('consumer:lag:error', (err: unknown) => logger.debug({ err }, 'sink_lag_failed'));
      // In the background: the processor creates the output topics when it starts, which may be later.
      subscribing = subscribe(consumer);
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      sleeper.wake();
      // A subscription still joining the group is not awaited here: it can take a whole rebalance. Closing the
      // consumer below ends it, and it is awaited after that.
      await flushing;
      await committing;
      consumer?.stopLagMonitoring();
      await stream?.close().catch((err: unknown) => logger.warn({ err }, 'sink_stream_close_failed'));
      // Forced: leave the group at once, so partitions move to another instance without a session timeout.
      // A consumer still joining the group (behind a crashed member's session) may not answer the close, nor
      // its pending subscription end: neither may hold the shutdown longer than `closeTimeoutMs`.
      const closing = consumer;
      const closed = new Promise<void>((resolve) => {
        if (!closing) return resolve();
        closing.close(true, (err) => {
          if (err) logger.warn({ err }, 'sink_consumer_close_failed');
          resolve();
        });
      });
      const subscribed = subscribing?.catch((err: unknown) => logger.debug({ err }, 'sink_subscribe_ended'));
      const bounded = await Promise.race([
        Promise.all([closed, subscribed]).then(() => true),
        sleep(closeTimeoutMs, false, { ref: false }),
      ]);
      if (!bounded) logger.warn({ closeTimeoutMs }, 'sink_consumer_close_timed_out');
      await stream?.close().catch(() => undefined); // a stream the ended subscription opened meanwhile
      await deadLetters.close().catch((err: unknown) => logger.warn({ err }, 'sink_producer_close_failed'));
      pending = emptyBatch();
      stats.state = 'stopped';
    },
  };
}
