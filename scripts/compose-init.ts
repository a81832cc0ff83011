/**
 * The one-shot `init` service of the Docker Compose deployment: creates the pipeline topics and applies the
 * warehouse migrations with the app's own code (`ensureTopics` over `pipelineTopics`, `migrate`), then exits.
 *
 * The app does both at start-up as well (`KAFKA_CREATE_TOPICS`, `DATABASE_MIGRATE`), but in this deployment it
 * starts last: ksqlDB's source streams need their topics before `ksql-init` applies ksql/, and the Connect sinks
 * need the tables before they write. `docker compose up --wait` also needs every one-shot service to be awaited by
 * a long-running one, which the app does. The ksqlDB statements are applied by ksqlDB's own migrations tool
 * (`ksql-init`, docker/ksql-init/) and the connectors by `connect-init` (scripts/register-connectors.ts).
 *
 * Idempotent: existing topics are only checked (equal partition counts), applied migrations are skipped.
 * In the image it runs compiled (`node dist/init/scripts/compose-init.js`); locally `tsx scripts/compose-init.ts`.
 * Settings: the app's variables (`KAFKA_BROKERS`, `KAFKA_TOPIC_PARTITIONS`, `DATABASE_URL`, ...), `INIT_TIMEOUT_MS`
 * (the wait bound per step, default 300000) and `MIGRATIONS_DIR` (default: the migrator's own, `migrations/` of the
 * checkout; the image compiles this file to another depth, so compose sets it).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipelineTopics } from '../src/app.js';
import { createAdmin, ensureTopics, type KafkaConnection, type TopicSpec } from '../src/bus/kafka-admin.js';
import { loadConfig } from '../src/config.js';
import type { BackoffOptions } from '../src/core/backoff.js';
import { isAppError } from '../src/errors.js';
import { createLogger, type Logger } from '../src/observability/logger.js';
import { createDatabase } from '../src/sink/database.js';
import { migrate } from '../src/sink/migrate.js';
import { isRetryableDatabaseError } from '../src/sink/retry.js';
import { retry } from './compose-init/retry.js';

export interface StepOptions {
  timeoutMs: number;
  logger: Logger;
  /** Delays between attempts; tests shorten them. @default retry's default */
  backoff?: BackoffOptions;
}

const logRetry =
  (logger: Logger, step: string) =>
  ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: unknown }) =>
    logger.warn({ step, attempt, delayMs, err: error }, 'init_step_retrying');

/** Creates the missing topics and checks the partition counts of existing ones; returns the created names. */
export async function createTopics(kafka: KafkaConnection, topics: TopicSpec[], options: StepOptions) {
  const admin = createAdmin(kafka, 'compose-init');
  try {
    return await retry('create topics', () => ensureTopics(admin, topics), {
      timeoutMs: options.timeoutMs,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      // As the app's start-up wait: a non-retryable AppError (unequal partition counts) will not heal by waiting.
      isRetryable: (err) => !(isAppError(err) && !err.retryable),
      onRetry: logRetry(options.logger, 'topics'),
    });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Applies the pending migrations of `migrations/` (to `schema`, default the connection's current schema). */
export async function runMigrations(databaseUrl: string, options: StepOptions & { dir?: string; schema?: string }) {
  const sql = createDatabase({ url: databaseUrl, poolMax: 1, applicationName: 'telemetry-pipeline-init' });
  const { logger, dir, schema } = options;
  try {
    return await retry('run database migrations', () => migrate(sql, { logger, dir, schema }), {
      timeoutMs: options.timeoutMs,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      isRetryable: isRetryableDatabaseError,
      onRetry: logRetry(logger, 'migrations'),
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function runComposeInit(env: Record<string, string | undefined>, logger: Logger): Promise<void> {
  const config = loadConfig(env);
  const timeoutMs = Number(env['INIT_TIMEOUT_MS'] || 300_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1000) throw new Error('INIT_TIMEOUT_MS must be an integer ≥ 1000');
  const kafka = { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID };
  const created = await createTopics(kafka, pipelineTopics(config), { timeoutMs, logger });
  logger.info({ created, partitions: config.KAFKA_TOPIC_PARTITIONS }, 'init_topics_done');
  const dir = env['MIGRATIONS_DIR'] || undefined;
  const migrated = await runMigrations(config.DATABASE_URL, { timeoutMs, logger, dir });
  logger.info(migrated, 'init_migrations_done');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'info' });
  runComposeInit(process.env, logger).then(
    () => logger.flush(),
    (err: unknown) => {
      logger.fatal({ err }, 'init_failed');
      logger.flush();
      process.exitCode = 1;
    },
  );
}
