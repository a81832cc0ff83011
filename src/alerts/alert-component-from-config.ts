/** The alert component as the application runs it: real topic names, the ALERT_* rules and settings. */
import type { KafkaConnection } from '../bus/kafka-admin.js';
import type { Config } from '../config.js';
import type { AlertRules } from '../core/alerts/alert-rules.js';
import { TOPICS } from '../core/topics.js';
import type { Logger } from '../observability/logger.js';
import { type AlertComponent, createAlertComponent } from './alert-component.js';

export function alertRulesFromConfig(config: Config): AlertRules {
  return {
    ranges: {
      sound: { min: config.ALERT_SOUND_MIN, max: config.ALERT_SOUND_MAX },
      temperature: { min: config.ALERT_TEMPERATURE_MIN, max: config.ALERT_TEMPERATURE_MAX },
      altitude: { min: config.ALERT_ALTITUDE_MIN, max: config.ALERT_ALTITUDE_MAX },
    },
    clearAfterMs: config.ALERT_CLEAR_AFTER_MS,
    inactiveAfterMs: config.ALERT_INACTIVE_AFTER_MS,
    criticalDeviation: config.ALERT_CRITICAL_DEVIATION,
    geofence: {
      minLatitude: config.ALERT_GEOFENCE_MIN_LATITUDE,
      maxLatitude: config.ALERT_GEOFENCE_MAX_LATITUDE,
      minLongitude: config.ALERT_GEOFENCE_MIN_LONGITUDE,
      maxLongitude: config.ALERT_GEOFENCE_MAX_LONGITUDE,
    },
  };
}

export function createAlertComponentFromConfig(config: Config, kafka: KafkaConnection, logger: Logger): AlertComponent {
  return createAlertComponent({
    brokers: kafka.brokers,
    clientId: kafka.clientId,
    groupId: config.ALERT_GROUP_ID,
    topics: {
      location: TOPICS.DEVICE_LOCATION,
      status: TOPICS.DEVICE_STATUS,
      alerts: TOPICS.DEVICE_ALERTS,
      state: config.ALERT_STATE_TOPIC,
    },
    rules: alertRulesFromConfig(config),
    logger,
    flushIntervalMs: config.ALERT_FLUSH_INTERVAL_MS,
    idleWaitMs: config.PROCESSOR_IDLE_WAIT_MS,
    latenessMs: config.ALERT_TIMER_LATENESS_MS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    ...(config.KAFKA_GROUP_INSTANCE_ID ? { groupInstanceId: `${config.KAFKA_GROUP_INSTANCE_ID}-alerts` } : {}),
    maxFutureMs: config.PROCESSOR_MAX_FUTURE_MS,
    maxEventAgeMs:
      config.PROCESSOR_MAX_EVENT_AGE_MS === 0 ? Number.POSITIVE_INFINITY : config.PROCESSOR_MAX_EVENT_AGE_MS,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replicas: config.KAFKA_REPLICATION_FACTOR,
    retentionMs: config.KAFKA_RETENTION_MS,
    createTopics: config.KAFKA_CREATE_TOPICS,
    deviceIdleHorizonMs:
      config.ALERT_DEVICE_IDLE_HORIZON_MS === 0 ? Number.POSITIVE_INFINITY : config.ALERT_DEVICE_IDLE_HORIZON_MS,
    maxDevicesPerPartition: config.ALERT_MAX_DEVICES,
  });
}
