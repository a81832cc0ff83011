/**
 * Embedded stream layer: materializes the processor's output topics in this process.
 *
 * Each instance consumes every partition of both topics from the beginning with its own throw-away consumer
 * group (nothing is committed), so any API instance answers for every device. State is bounded per device
 * (`windowsPerDevice`). Readiness turns green once the consumer has reached the end offsets it saw at
 * start-up, or when no record has arrived for `idleCaughtUpMs` after the first one (transaction markers at the
 * end of a partition are never delivered), or for `startupIdleMs` when none arrived at all.
 * A failing consumer is logged, counted and restarted with capped backoff; the process never crashes on it.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, type MessagesStream, MessagesStreamModes } from '@platformatic/kafka';
import type { KafkaConnection } from '../bus/kafka-admin.js';
import { backoffDelay } from '../core/backoff.js';
import { decodeLatestRecord, decodeWindowRecord } from '../core/output-records.js';
import { toDeviceLatest, toWindowAggregate } from '../core/results.js';
import { TOPICS } from '../core/topics.js';
import { AppError, UnavailableError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { MetricSample } from '../observability/metrics.js';
import { createMaterializedView } from './materialized-view.js';
import type { StreamChange, StreamChangeListener, StreamLayer } from './stream-layer.js';

export interface EmbeddedStreamLayerOptions {
  kafka: KafkaConnection;
  logger: Logger;
  /** @default TOPICS.DEVICE_WINAGG_STATUS_PER2S */
  windowsTopic?: string;
  /** @default TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE */
  latestTopic?: string;
  /** @default 1000 (the largest `limit` the API accepts) */
  windowsPerDevice?: number;
  /** @default 1000 */
  idleCaughtUpMs?: number;
  /** Idle time before the first record that still counts as caught up (group join included). @default 15000 */
  startupIdleMs?: number;
}

type Buffers = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

export function createEmbeddedStreamLayer(options: EmbeddedStreamLayerOptions): StreamLayer {
  const windowsTopic = options.windowsTopic ?? TOPICS.DEVICE_WINAGG_STATUS_PER2S;
  const latestTopic = options.latestTopic ?? TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE;
  const idleCaughtUpMs = options.idleCaughtUpMs ?? 1000;
  const startupIdleMs = options.startupIdleMs ?? 15_000;
  const { logger } = options;
  const view = createMaterializedView({ windowsPerDevice: options.windowsPerDevice ?? 1000 });
  const listeners = new Set<StreamChangeListener>();
  const counters = { records: 0, invalid: 0, restarts: 0 };

  let consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  let stream: Buffers | undefined;
  let stopped = true;
  let caughtUp = false;
  let lastError: string | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let attempt = 0;
  // Per "topic/partition": the offset to reach before the view counts as complete.
  let targets = new Map<string, bigint>();

  function emit(change: StreamChange | undefined) {
    if (!change) return;
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (err) {
        logger.error({ err }, 'stream_listener_failed');
      }
    }
  }

  function markCaughtUp(reason: string) {
    if (caughtUp) return;
    caughtUp = true;
    clearTimeout(idleTimer);
    logger.info({ reason, ...view.size() }, 'stream_layer_caught_up');
  }

  function armIdle(ms: number) {
    if (caughtUp) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => markCaughtUp('idle'), ms);
    idleTimer.unref();
  }

  function handle(message: { topic: string; partition: number; offset: bigint; key: Buffer; value: Buffer }) {
    counters.records++;
    let reason: string | undefined;
    if (message.topic === windowsTopic) {
      const decoded = decodeWindowRecord(message.key, message.value);
      if (decoded.ok) {
        const row = decoded.record && toWindowAggregate(decoded.deviceId, decoded.record);
        emit(view.applyWindow(decoded.deviceId, decoded.windowStart, row));
      } else {
        reason = decoded.reason;
      }
    } else {
      const decoded = decodeLatestRecord(message.key, message.value);
      if (decoded.ok) {
        emit(view.applyLatest(decoded.deviceId, decoded.record && toDeviceLatest(decoded.deviceId, decoded.record)));
      } else {
        reason = decoded.reason;
      }
    }
    if (reason !== undefined) {
      counters.invalid++;
      // Sampled: a topic full of bad records must not flood the log.
      if (counters.invalid <= 10 || counters.invalid % 1000 === 0) {
        const { topic, partition } = message;
        logger.warn(
          { topic, partition, offset: String(message.offset), reason, invalid: counters.invalid },
          'stream_record_invalid',
        );
      }
    }
    if (!caughtUp) {
      const key = `${message.topic}/${message.partition}`;
      const target = targets.get(key);
      if (target !== undefined && message.offset + 1n >= target) targets.delete(key);
      if (targets.size === 0) markCaughtUp('end_offsets');
      else armIdle(idleCaughtUpMs);
    }
  }

  async function connect() {
    const c = new Consumer({
      clientId: `${options.kafka.clientId}-stream-layer`,
      groupId: `${options.kafka.clientId}-stream-layer-${randomUUID()}`,
      bootstrapBrokers: options.kafka.brokers,
      maxWaitTime: 100,
      connectTimeout: 5000,
      requestTimeout: 10_000,
    });
    consumer = c;
    if (!caughtUp) {
      const topics = [windowsTopic, latestTopic];
      const [starts, ends] = await Promise.all([
        c.listOffsets({ topics, timestamp: -2n }),
        c.listOffsets({ topics, timestamp: -1n }),
      ]);
      targets = new Map();
      for (const [topic, offsets] of ends) {
        offsets.forEach((end, partition) => {
          // A partition emptied by retention has start = end: nothing to wait for.
          if (end > (starts.get(topic)?.[partition] ?? 0n)) targets.set(`${topic}/${partition}`, end);
        });
      }
    }
    const s = (await c.consume({
      topics: [windowsTopic, latestTopic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    })) as Buffers;
    stream = s;
    attempt = 0;
    lastError = undefined;
    if (targets.size === 0) markCaughtUp('empty_topics');
    else armIdle(startupIdleMs);
    s.on('data', handle);
    s.on('error', (err: unknown) => void restart(err));
  }

  async function closeConsumer() {
    const s = stream;
    const c = consumer;
    stream = undefined;
    consumer = undefined;
    // Closing a consumer whose broker is gone can reject; the instance is discarded either way.
    await s?.close().catch(() => undefined);
    await Promise.resolve(c?.close(true)).catch(() => undefined);
  }

  async function restart(err: unknown) {
    if (stopped) return;
    lastError = 'Kafka consumer of the stream layer failed';
    counters.restarts++;
    logger.warn({ err, attempt }, 'stream_layer_consumer_failed');
    await closeConsumer();
    scheduleConnect();
  }

  function scheduleConnect() {
    if (stopped) return;
    // The first connection at once, then capped backoff while it keeps failing.
    const delay = attempt === 0 ? 0 : backoffDelay(attempt, { initialMs: 250, maxMs: 30_000 });
    attempt++;
    retryTimer = setTimeout(() => {
      connect().catch((err: unknown) => void restart(err));
    }, delay);
    retryTimer.unref();
  }

  return {
    name: 'stream-layer',
    engine: 'embedded',
    async start() {
      stopped = false;
      // Not awaited: a missing topic or an absent broker must not block the HTTP server; readiness reports it.
      scheduleConnect();
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(idleTimer);
      await closeConsumer();
      listeners.clear();
    },
    async listWindows({ deviceId, limit }) {
      return view.listWindows(deviceId, limit);
    },
    async listLatest() {
      return view.listLatest();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async check() {
      if (stopped) throw new AppError('UNAVAILABLE', 'stream layer is not running');
      if (lastError && !stream) throw new UnavailableError('kafka', lastError);
      if (!caughtUp) throw new AppError('UNAVAILABLE', 'stream layer is still reading its topics');
    },
    metrics(): MetricSample[] {
      const size = view.size();
      return [
        {
          name: 'stream_layer_records_total',
          help: 'Output-topic records applied by the embedded stream layer',
          type: 'counter',
          value: counters.records,
        },
        {
          name: 'stream_layer_records_invalid_total',
          help: 'Output-topic records skipped because they could not be decoded',
          type: 'counter',
          value: counters.invalid,
        },
        {
          name: 'stream_layer_consumer_restarts_total',
          help: 'Restarts of the stream-layer consumer after a failure',
          type: 'counter',
          value: counters.restarts,
        },
        {
          name: 'stream_layer_devices',
          help: 'Devices held in memory by the stream layer',
          type: 'gauge',
          value: size.devices,
        },
        {
          name: 'stream_layer_windows',
          help: '2-second windows held in memory by the stream layer',
          type: 'gauge',
          value: size.windows,
        },
        {
          name: 'stream_layer_caught_up',
          help: '1 once the stream layer has read its topics up to the start-up end offsets',
          type: 'gauge',
          value: caughtUp ? 1 : 0,
        },
      ];
    },
  };
}
