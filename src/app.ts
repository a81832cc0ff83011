/**
 * Wires the application: creates the connections and components from the configuration, starts them in
 * dependency order and stops them in reverse. Nothing here reads the environment or installs signal handlers
 * (that is `main.ts`), so tests build the same application with their own configuration.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { alertRulesFromConfig, createAlertComponentFromConfig } from './alerts/alert-component-from-config.js';
import { createSseHeartbeat } from './api/sse.js';
import { createAdmin, ensureTopics, type KafkaConnection, pingKafka, type TopicSpec } from './bus/kafka-admin.js';
import { streamTopicConfigs, tableTopicConfigs } from './bus/topic-configs.js';
import type { Config } from './config.js';
import { Backoff } from './core/backoff.js';
import { SOURCE_TOPICS, TOPICS } from './core/topics.js';
import { isAppError, UnavailableError } from './errors.js';
import type { Component } from './lifecycle.js';
import { createAlertFeed } from './live/alert-feed.js';
import { createBroadcaster } from './live/broadcaster.js';
import { openFileLimit, sseClientCap } from './live/file-limits.js';
import type { Logger } from './observability/logger.js';
import { createStreamProcessorFromConfig } from './processor/processor-from-config.js';
import type { Services } from './services.js';
import { createSimulatorFromConfig } from './simulators/simulator-from-config.js';
import { createDatabase, pingDatabase } from './sink/database.js';
import { migrate } from './sink/migrate.js';
import { createWarehouseSinkFromConfig } from './sink/warehouse-sink-from-config.js';
import { createStreamLayerFromConfig } from './stream-layer/stream-layer-from-config.js';
import { createWarehouseReader } from './warehouse-reader/warehouse-reader.js';

export interface Application {
  services: Services;
  /** Waits for Kafka and PostgreSQL (until `signal` aborts), prepares topics and tables, starts the components. */
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

/** The pipeline topics with the partition counts and retention (`bus/topic-configs.ts`) the configuration asks for. */
export function pipelineTopics(config: Config): TopicSpec[] {
  const base = { partitions: config.KAFKA_TOPIC_PARTITIONS, replicas: config.KAFKA_REPLICATION_FACTOR };
  const stream = { ...base, configs: streamTopicConfigs(config.KAFKA_RETENTION_MS) };
  return [
    ...SOURCE_TOPICS.map((name) => ({ name, ...stream })),
    { name: TOPICS.DEAD_LETTERS, ...stream },
    // The alert component's: created here too, since it runs beside ksqlDB, where nothing else creates them.
    { name: TOPICS.DEVICE_ALERTS, ...stream },
    { name: config.ALERT_STATE_TOPIC, ...base, configs: tableTopicConfigs() },
  ];
}

export function createApplication(config: Config, logger: Logger): Application {
  const kafka: KafkaConnection = { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID };
  const sql = createDatabase({
    url: config.DATABASE_URL,
    poolMax: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
  });
  // The API's reads have a pool of their own, bounded server-side as well: a slow read can then neither hold up the
  // sink's writes nor outlast its request.
  const readerSql = createDatabase({
    url: config.DATABASE_URL,
    poolMax: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS,
    applicationName: 'telemetry-pipeline-api',
  });
  const admin = createAdmin(kafka);
  const streamLayer = createStreamLayerFromConfig(config, kafka, logger);
  const fileLimit = openFileLimit();
  const maxClients = sseClientCap(config.SSE_MAX_CLIENTS, fileLimit);
  if (maxClients < config.SSE_MAX_CLIENTS) {
    logger.warn({ configured: config.SSE_MAX_CLIENTS, maxClients, fileLimit }, 'sse_max_clients_lowered_to_file_limit');
  }
  const broadcaster = createBroadcaster({
    historySize: config.SSE_HISTORY_SIZE,
    maxClients,
    maxPerAddress: config.SSE_MAX_CLIENTS_PER_ADDRESS,
    deviceIdleHorizonMs:
      config.STREAM_DEVICE_IDLE_HORIZON_MS === 0 ? Number.POSITIVE_INFINITY : config.STREAM_DEVICE_IDLE_HORIZON_MS,
    maxDevices: config.STREAM_MAX_DEVICES,
    onDeviceCapReached: (deviceId, capEvictions) => {
      // Sampled: once the cap bites, every new device evicts one.
      if (capEvictions === 1 || capEvictions % 10_000 === 0) {
        logger.warn(
          { deviceId, maxDevices: config.STREAM_MAX_DEVICES, capEvictions },
          'sse_device_cap_reached: the SSE snapshots forgot their least recently changed device (STREAM_MAX_DEVICES)',
        );
      }
    },
  });
  streamLayer.onChange((change) => broadcaster.publish(change));
  const alertFeed = createAlertFeed({
    kafka,
    topic: TOPICS.DEVICE_ALERTS,
    logger: logger.child({ component: 'alert-feed' }),
  });
  alertFeed.onChange((alert) => broadcaster.publish({ kind: 'alert', deviceId: alert.device_id, row: alert }));
  const simulator = createSimulatorFromConfig(config, kafka, logger);
  const services: Services = {
    config,
    logger,
    sql,
    kafka,
    admin,
    simulator,
    streamLayer,
    broadcaster,
    alerts: alertFeed,
    alertRules: alertRulesFromConfig(config),
    warehouse: createWarehouseReader({ sql: readerSql, queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS }),
    metrics: [streamLayer, broadcaster, simulator, alertFeed],
    readiness: [
      { name: 'kafka', check: () => pingKafka(admin) },
      { name: 'postgresql', check: () => pingDatabase(sql) },
      { name: 'engine', check: () => streamLayer.check() },
      { name: 'alert-feed', check: () => alertFeed.check() },
    ],
  };
  /**
   * Layers, started in this order and stopped in reverse; the components of one layer do not depend on each other,
   * so they stop side by side (a shutdown waits for the slowest of a layer, not for the sum).
   */
  const writers: Component[] = [];
  const engines: Component[] = [];
  // The embedded engine writes the warehouse itself; with ksqlDB, Kafka Connect does (connect/).
  if (config.ENGINE === 'embedded' && config.SINK_ENABLED) {
    const sink = createWarehouseSinkFromConfig(config, { sql, kafka, logger });
    services.metrics.push(sink.metrics);
    services.readiness.push(sink.readiness);
    writers.push(sink);
  }
  // The embedded engine: the ksqlDB statements of ksql/ as a Kafka consumer/producer (docs/processor.md).
  if (config.ENGINE === 'embedded') {
    const processor = createStreamProcessorFromConfig(config, kafka, logger);
    services.metrics.push(processor);
    services.readiness.push(processor.readiness);
    engines.push(processor);
  }
  // Alerts read the source topics, so they run beside either engine (docs/alerts.md).
  if (config.ALERTS_ENABLED) {
    const alerts = createAlertComponentFromConfig(config, kafka, logger);
    services.metrics.push(alerts);
    services.readiness.push(alerts.readiness);
    engines.push(alerts);
  }
  const layers: Component[][] = [
    writers,
    engines,
    // The stream layer reads the engine's outputs; the API serves it. Heartbeats keep idle SSE connections open.
    [streamLayer, alertFeed, createSseHeartbeat({ broadcaster, intervalMs: config.SSE_HEARTBEAT_MS })],
    // Last, so that a running simulation is flushed before the engines and the sink stop.
    [{ name: 'simulator', start: async () => {}, stop: () => services.simulator.close() }],
  ];
  const started: Component[][] = [];

  /**
   * Kafka or PostgreSQL may come up after the app (or be restarted): wait for both with capped backoff while
   * `/health` already answers and `/ready` names what is missing, then create the topics and migrate (both
   * idempotent). Only a non-retryable error (e.g. topics with unequal partition counts) ends the wait.
   */
  async function waitForDependencies(signal?: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000 });
    for (let attempt = 1; ; attempt++) {
      try {
        await pingKafka(admin);
        await pingDatabase(sql);
        if (config.KAFKA_CREATE_TOPICS) {
          const created = await ensureTopics(admin, pipelineTopics(config));
          if (created.length > 0) logger.info({ topics: created }, 'topics_created');
        }
        // Both engines need the warehouse tables (the Connect sinks do not create them); serialized across instances.
        if (config.DATABASE_MIGRATE) await migrate(sql, { logger });
        return;
      } catch (err) {
        if ((isAppError(err) && !err.retryable && !(err instanceof UnavailableError)) || signal?.aborted) throw err;
        const dependency = err instanceof UnavailableError ? err.dependency : undefined;
        const delayMs = backoff.next();
        logger.warn({ err, dependency, attempt, retryInMs: delayMs }, 'start_waiting_for_dependencies');
        await sleep(delayMs, undefined, signal ? { signal } : {}).catch(() => undefined);
        if (signal?.aborted) throw err;
      }
    }
  }

  return {
    services,
    async start(signal?: AbortSignal) {
      await waitForDependencies(signal);
      for (const layer of layers) {
        const up: Component[] = [];
        started.push(up);
        for (const component of layer) {
          await component.start();
          up.push(component);
          logger.info({ component: component.name }, 'component_started');
        }
      }
      if (config.SIMULATOR_AUTOSTART) simulator.startRun({});
    },
    async stop() {
      for (const layer of started.reverse()) {
        await Promise.all(
          layer.map(async (component) => {
            try {
              await component.stop();
              logger.info({ component: component.name }, 'component_stopped');
            } catch (err) {
              logger.error({ component: component.name, err }, 'component_stop_failed');
            }
          }),
        );
      }
      await admin.close().catch((err: unknown) => logger.warn({ err }, 'kafka_admin_close_failed'));
      await Promise.all([sql.end({ timeout: 5 }), readerSql.end({ timeout: 5 })]);
    },
  };
}
