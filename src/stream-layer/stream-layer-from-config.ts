/**
 * Chooses the stream-layer adapter from `ENGINE`.
 */
import type { KafkaConnection } from '../bus/kafka-admin.js';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { createEmbeddedStreamLayer } from './embedded-stream-layer.js';
import { createKsqlDbStreamLayer } from './ksqldb-stream-layer.js';
import type { StreamLayer } from './stream-layer.js';

export function createStreamLayerFromConfig(config: Config, kafka: KafkaConnection, logger: Logger): StreamLayer {
  if (config.ENGINE === 'ksqldb') {
    return createKsqlDbStreamLayer({ url: config.KSQLDB_URL, logger, timeoutMs: config.KSQLDB_QUERY_TIMEOUT_MS });
  }
  return createEmbeddedStreamLayer({
    kafka,
    logger,
    windowsPerDevice: config.STREAM_WINDOWS_PER_DEVICE,
    deviceIdleHorizonMs:
      config.STREAM_DEVICE_IDLE_HORIZON_MS === 0 ? Number.POSITIVE_INFINITY : config.STREAM_DEVICE_IDLE_HORIZON_MS,
    maxDevices: config.STREAM_MAX_DEVICES,
    windowsHorizonMs: config.STREAM_WINDOWS_HORIZON_MS,
  });
}
