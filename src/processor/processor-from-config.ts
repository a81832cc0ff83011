/** The embedded processor as the application runs it: real topic names and the PROCESSOR_* settings. */
import type { KafkaConnection } from '../bus/kafka-admin.js';
import type { Config } from '../config.js';
import { TOPICS } from '../core/topics.js';
import type { Logger } from '../observability/logger.js';
import { createStreamProcessor, type StreamProcessor } from './processor.js';

export function createStreamProcessorFromConfig(
  config: Config,
  kafka: KafkaConnection,
  logger: Logger,
): StreamProcessor {
  return createStreamProcessor({
    brokers: kafka.brokers,
    clientId: kafka.clientId,
    groupId: config.PROCESSOR_GROUP_ID,
    topics: {
      location: TOPICS.DEVICE_LOCATION,
      status: TOPICS.DEVICE_STATUS,
      joinEvents: TOPICS.JOIN_EVENTS,
      per2s: TOPICS.DEVICE_WINAGG_STATUS_PER2S,
      perDevice: TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE,
      deadLetters: TOPICS.DEAD_LETTERS,
      checkpoints: config.PROCESSOR_CHECKPOINT_TOPIC,
    },
    logger,
    graceMs: config.PROCESSOR_GRACE_MS,
    emitMode: config.PROCESSOR_EMIT_MODE,
    flushIntervalMs: config.PROCESSOR_FLUSH_INTERVAL_MS,
    guarantee: config.PROCESSOR_GUARANTEE,
    transactionTimeoutMs: config.PROCESSOR_TRANSACTION_TIMEOUT_MS,
    idleWaitMs: config.PROCESSOR_IDLE_WAIT_MS,
    maxFutureMs: config.PROCESSOR_MAX_FUTURE_MS,
    maxEventAgeMs:
      config.PROCESSOR_MAX_EVENT_AGE_MS === 0 ? Number.POSITIVE_INFINITY : config.PROCESSOR_MAX_EVENT_AGE_MS,
    deviceIdleHorizonMs:
      config.PROCESSOR_DEVICE_IDLE_HORIZON_MS === 0
        ? Number.POSITIVE_INFINITY
        : config.PROCESSOR_DEVICE_IDLE_HORIZON_MS,
    maxDevicesPerPartition: config.PROCESSOR_MAX_DEVICES,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replicas: config.KAFKA_REPLICATION_FACTOR,
    retentionMs: config.KAFKA_RETENTION_MS,
    createTopics: config.KAFKA_CREATE_TOPICS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    ...(config.KAFKA_GROUP_INSTANCE_ID ? { groupInstanceId: `${config.KAFKA_GROUP_INSTANCE_ID}-processor` } : {}),
  });
}
