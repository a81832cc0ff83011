/**
 * Wires the application: creates the connections and components from the configuration, starts them in
 * dependency order and stops them in reverse. Nothing here reads the environment or installs signal handlers
 * (that is `main.ts`), so tests build the same application with their own configuration.
 */
import type { Admin } from '@platformatic/kafka';
import { createAdmin, ensureTopics, type KafkaConnection, pingKafka } from './bus/kafka-admin.js';
import type { Config } from './config.js';
import { SOURCE_TOPICS, TOPICS } from './core/topics.js';
import type { Logger } from './observability/logger.js';
import { createDatabase, pingDatabase, type Sql } from './sink/database.js';

/** Anything long-lived: started once, stopped once, in the order the application gives. */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A named readiness probe; resolves when the dependency works, throws an `AppError` otherwise. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

/** What the HTTP layer and the components receive; nothing in `api/` imports a connection itself. */
export interface Services {
  config: Config;
  logger: Logger;
  sql: Sql;
  kafka: KafkaConnection;
  admin: Admin;
  readiness: ReadinessCheck[];
}

export interface Application {
  services: Services;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The pipeline topics with the partition counts the configuration asks for. */
export function pipelineTopics(config: Config) {
  const base = { partitions: config.KAFKA_TOPIC_PARTITIONS, replicas: config.KAFKA_REPLICATION_FACTOR };
  return [...SOURCE_TOPICS.map((name) => ({ name, ...base })), { name: TOPICS.DEAD_LETTERS, ...base }];
}

export function createApplication(config: Config, logger: Logger): Application {
  const kafka: KafkaConnection = { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID };
  const sql = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX });
  const admin = createAdmin(kafka);
  const services: Services = {
    config,
    logger,
    sql,
    kafka,
    admin,
    readiness: [
      { name: 'kafka', check: () => pingKafka(admin) },
      { name: 'postgresql', check: () => pingDatabase(sql) },
    ],
  };
  const components: Component[] = [];
  const started: Component[] = [];

  return {
    services,
    async start() {
      if (config.KAFKA_CREATE_TOPICS) {
        const created = await ensureTopics(admin, pipelineTopics(config));
        if (created.length > 0) logger.info({ topics: created }, 'topics_created');
      }
      for (const component of components) {
        await component.start();
        started.push(component);
        logger.info({ component: component.name }, 'component_started');
      }
    },
    async stop() {
      for (const component of started.reverse()) {
        try {
          await component.stop();
          logger.info({ component: component.name }, 'component_stopped');
        } catch (err) {
          logger.error({ component: component.name, err }, 'component_stop_failed');
        }
      }
      await admin.close().catch((err: unknown) => logger.warn({ err }, 'kafka_admin_close_failed'));
      await sql.end({ timeout: 5 });
    },
  };
}
