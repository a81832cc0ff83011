/**
 * The embedded warehouse sink as the application configures it (SINK_* settings, default topics).
 */
import type { KafkaConnection } from '../bus/kafka-admin.js';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { Sql } from './database.js';
import { createWarehouseSink, type WarehouseSink } from './warehouse-sink.js';

export function createWarehouseSinkFromConfig(
  config: Config,
  deps: { sql: Sql; kafka: KafkaConnection; logger: Logger },
): WarehouseSink {
  return createWarehouseSink({
    sql: deps.sql,
    kafka: deps.kafka,
    logger: deps.logger.child({ component: 'warehouse-sink' }),
    groupId: config.SINK_GROUP_ID,
    batchSize: config.SINK_BATCH_SIZE,
    flushIntervalMs: config.SINK_FLUSH_INTERVAL_MS,
    retryInitialDelayMs: config.SINK_RETRY_INITIAL_MS,
    retryMaxDelayMs: config.SINK_RETRY_MAX_MS,
    highWaterMark: config.SINK_BUFFER_RECORDS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    ...(config.KAFKA_GROUP_INSTANCE_ID ? { groupInstanceId: `${config.KAFKA_GROUP_INSTANCE_ID}-sink` } : {}),
  });
}
