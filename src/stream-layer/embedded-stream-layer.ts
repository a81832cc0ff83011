/**
 * Embedded stream layer: materializes the processor's output topics in this process.
 *
 * It follows every partition of both topics (`bus/topic-follower.ts`: a throw-away consumer group, nothing
 * committed), so any API instance answers for every device. The per-device table is compacted (bounded by the
 * device count) and read whole. Of the per2s changelog it reads only the last `windowsHorizonMs` of record time
 * per partition, which covers the `windowsPerDevice` windows it keeps per device (2 s each), so start-up does not
 * grow with the topic's history: every window whose newest revision lies inside the horizon is served exactly as
 * a full replay would serve it (its newest revision comes last in offset order, and is read). State is bounded
 * per device (`windowsPerDevice`) and in devices: one idle beyond `deviceIdleHorizonMs` of the view's event time is
 * forgotten, and at most `maxDevices` are held (`materialized-view.ts`); listeners see a forgotten device as a
 * deletion. Readiness turns green once the follower has caught up with the end offsets it
 * saw at start-up. A failing consumer is logged, counted and restarted with capped backoff; the process never crashes.
 */
import type { KafkaConnection } from '../bus/kafka-admin.js';
import { createTopicFollower, type FollowedRecord } from '../bus/topic-follower.js';
import { decodeLatestRecord, decodeWindowRecord } from '../core/output-records.js';
import { toDeviceLatest, toWindowAggregate } from '../core/results.js';
import { TOPICS } from '../core/topics.js';
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
  /** A device with no row for this long (event time of the rows read) is forgotten. @default Infinity */
  deviceIdleHorizonMs?: number;
  /** Most devices held; the least recently seen go. @default Infinity */
  maxDevices?: number;
  /**
   * Record time of the windows topic read at start-up, back from each partition's newest record; 0 replays the
   * whole topic. Keep it at least `windowsPerDevice` × 2 s. @default 2_400_000 (1000 windows + 400 s)
   */
  windowsHorizonMs?: number;
  /** @default 1000 */
  idleCaughtUpMs?: number;
  /** Idle time before the first record that still counts as caught up (group join included). @default 15000 */
  startupIdleMs?: number;
}

export function createEmbeddedStreamLayer(options: EmbeddedStreamLayerOptions): StreamLayer {
  const windowsTopic = options.windowsTopic ?? TOPICS.DEVICE_WINAGG_STATUS_PER2S;
  const latestTopic = options.latestTopic ?? TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE;
  const idleCaughtUpMs = options.idleCaughtUpMs ?? 1000;
  const startupIdleMs = options.startupIdleMs ?? 15_000;
  const { logger } = options;
  const listeners = new Set<StreamChangeListener>();
  const counters = { records: 0, invalid: 0 };
  let capEvictions = 0;
  const view = createMaterializedView({
    windowsPerDevice: options.windowsPerDevice ?? 1000,
    ...(options.deviceIdleHorizonMs === undefined ? {} : { deviceIdleHorizonMs: options.deviceIdleHorizonMs }),
    ...(options.maxDevices === undefined ? {} : { maxDevices: options.maxDevices }),
    onEvict(deviceId, reason) {
      if (reason === 'cap') {
        capEvictions++;
        // Sampled: once the cap bites, every new device evicts one.
        if (capEvictions === 1 || capEvictions % 10_000 === 0) {
          logger.warn(
            { deviceId, maxDevices: options.maxDevices, capEvictions },
            'stream_device_cap_reached: the stream layer forgot its least recently seen device (STREAM_MAX_DEVICES)',
          );
        }
      }
      emit({ kind: 'latest', deviceId, row: null });
    },
  });

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

  function handle(message: FollowedRecord) {
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
  }

  const follower = createTopicFollower({
    kafka: options.kafka,
    name: 'stream-layer',
    label: 'stream layer',
    topics: [windowsTopic, latestTopic],
    horizonsMs: { [windowsTopic]: options.windowsHorizonMs ?? 2_400_000 },
    logger,
    onRecord: handle,
    idleCaughtUpMs,
    startupIdleMs,
  });

  return {
    name: 'stream-layer',
    engine: 'embedded',
    async start() {
      follower.start();
    },
    async stop() {
      await follower.stop();
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
      follower.check();
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
          value: follower.restarts(),
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
        ...(['idle', 'cap'] as const).map(
          (reason): MetricSample => ({
            name: 'stream_layer_devices_evicted_total',
            help:
              'Devices the stream layer forgot: idle beyond STREAM_DEVICE_IDLE_HORIZON_MS, or the least recently ' +
              'seen beyond STREAM_MAX_DEVICES',
            type: 'counter',
            value: view.evictions()[reason],
            labels: { reason },
          }),
        ),
        {
          name: 'stream_layer_caught_up',
          help: '1 once the stream layer has read its topics up to the start-up end offsets',
          type: 'gauge',
          value: follower.caughtUp() ? 1 : 0,
        },
      ];
    },
  };
}
