/**
 * Builds the application's simulator controller from the configuration. Tests call it with `topics` so their
 * runs write to unique topics.
 */
import type { KafkaConnection } from '../bus/kafka-admin.js';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { RunTopics } from './simulation-run.js';
import {
  createSimulatorController,
  type SimulatorController,
  type SimulatorControllerOptions,
} from './simulator-controller.js';

export function createSimulatorFromConfig(
  config: Config,
  kafka: KafkaConnection,
  logger: Logger,
  overrides: { topics?: RunTopics } & Partial<SimulatorControllerOptions> = {},
): SimulatorController {
  return createSimulatorController({
    kafka,
    logger,
    defaults: {
      deviceCount: config.SIMULATOR_DEVICE_COUNT,
      locationIntervalMs: config.SIMULATOR_LOCATION_INTERVAL_MS,
      statusIntervalMs: config.SIMULATOR_STATUS_INTERVAL_MS,
      sigma: config.SIMULATOR_SIGMA,
    },
    limits: {
      maxDevices: config.SIMULATOR_MAX_DEVICES,
      maxEventsPerSecond: config.SIMULATOR_MAX_EVENTS_PER_SECOND,
      maxDurationMs: config.SIMULATOR_MAX_DURATION_MS,
      maxEvents: config.SIMULATOR_MAX_EVENTS,
    },
    producer: {
      batchSize: config.SIMULATOR_BATCH_SIZE,
      lingerMs: config.SIMULATOR_LINGER_MS,
      capacity: config.SIMULATOR_BUFFER_EVENTS,
      compression: config.SIMULATOR_COMPRESSION,
    },
    stopTimeoutMs: config.SIMULATOR_STOP_TIMEOUT_MS,
    ...overrides,
  });
}
