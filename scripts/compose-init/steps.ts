/**
 * The steps of the compose init, each idempotent so that every `docker compose up` can run them again:
 * source topics, ksqlDB statements, database migrations, Kafka Connect sinks.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAdmin, ensureTopics, type KafkaConnection } from '../../src/bus/kafka-admin.js';
import { SOURCE_TOPICS } from '../../src/core/topics.js';
import { isAppError } from '../../src/errors.js';
import type { Logger } from '../../src/observability/logger.js';
import { createDatabase } from '../../src/sink/database.js';
import { migrate } from '../../src/sink/migrate.js';
import { type ConnectAdmin, type ConnectorConfig, ConnectRequestError, parseConnectorFile } from './connect-admin.js';
import { isAlreadyExistsError, planStatements, type Statement, type StatementFile } from './ksql-statements.js';
import { type KsqlAdmin, KsqlRequestError } from './ksqldb-admin.js';
import { retry } from './retry.js';

/** The `.sql` files directly in `dir` (not `tests/`), in apply order. */
export async function readKsqlFiles(dir: string): Promise<StatementFile[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.sql'))
    .map((e) => e.name)
    .sort();
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })));
}

/** The connector configs directly in `dir` (`*.json`), by file name. */
export async function readConnectorFiles(dir: string): Promise<ConnectorConfig[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => e.name)
    .sort();
  return Promise.all(names.map(async (name) => parseConnectorFile(name, await readFile(join(dir, name), 'utf8'))));
}

export interface WaitOptions {
  timeoutMs: number;
  logger: Logger;
  /** First backoff delay (doubling up to 5 s); tests shorten it. */
  initialDelayMs?: number;
}

function logRetry(logger: Logger, step: string) {
  return ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: unknown }) =>
    logger.warn({ step, attempt, delayMs, error: (error as Error)?.message ?? String(error) }, 'init_step_retrying');
}

/**
 * Creates the source topics (`device_location`, `device_status` by default) with equal partition counts, or
 * checks that existing ones have the expected count.
 */
export async function createSourceTopics(
  kafka: KafkaConnection,
  topics: { partitions: number; replicas: number; names?: readonly string[] },
  wait: WaitOptions,
): Promise<string[]> {
  const admin = createAdmin(kafka, 'compose-init');
  try {
    return await retry(
      'create source topics',
      () =>
        ensureTopics(
          admin,
          (topics.names ?? SOURCE_TOPICS).map((name) => ({
            name,
            partitions: topics.partitions,
            replicas: topics.replicas,
          })),
        ),
      {
        timeoutMs: wait.timeoutMs,
        initialDelayMs: wait.initialDelayMs,
        // A partition-count mismatch will not heal by waiting.
        isRetryable: (err) => !(isAppError(err) && err.code === 'TOPIC_MISMATCH'),
        onRetry: logRetry(wait.logger, 'topics'),
      },
    );
  } finally {
    await admin.close().catch(() => undefined);
  }
}

const ksqlRetryable = (err: unknown) => !(err instanceof KsqlRequestError) || err.retryable;

/**
 * Applies the statements ksqlDB does not have yet, one request per statement, each waiting for the previous
 * command (`commandSequenceNumber`) so a CREATE ... AS SELECT always sees the stream it reads.
 */
export async function applyKsql(
  admin: KsqlAdmin,
  statements: Statement[],
  baseProperties: Record<string, string>,
  wait: WaitOptions,
): Promise<{ applied: string[]; skipped: string[] }> {
  const info = await retry('wait for ksqlDB', () => admin.info(), {
    timeoutMs: wait.timeoutMs,
    initialDelayMs: wait.initialDelayMs,
    onRetry: logRetry(wait.logger, 'ksqldb'),
  });
  wait.logger.info({ version: info.version }, 'ksqldb_reachable');
  // A retry re-reads what exists and plans again, so a statement that succeeded before a lost answer is skipped.
  return retry(
    'apply ksql statements',
    async () => {
      const plan = planStatements(statements, await admin.listObjects(), baseProperties);
      const applied: string[] = [];
      const skipped: string[] = [];
      let seq: number | undefined;
      for (const step of plan) {
        const label = `${step.statement.file}: ${step.reason}`;
        if (step.action === 'skip') {
          skipped.push(label);
          continue;
        }
        try {
          const result = await admin.execute(step.statement.text, step.properties, seq);
          seq = result.commandSequenceNumber ?? seq;
          applied.push(label);
          wait.logger.info({ file: step.statement.file, reason: step.reason }, 'ksql_statement_applied');
        } catch (err) {
          // Another init (or a user) created it between our listing and our statement.
          if (err instanceof KsqlRequestError && !err.retryable && isAlreadyExistsError(err.message)) {
            skipped.push(`${label} (created concurrently)`);
            continue;
          }
          throw err;
        }
      }
      return { applied, skipped };
    },
    {
      timeoutMs: wait.timeoutMs,
      initialDelayMs: wait.initialDelayMs,
      isRetryable: ksqlRetryable,
      onRetry: logRetry(wait.logger, 'ksql'),
    },
  );
}

/** Persistent queries in state ERROR mean the pipeline is not running; the init fails so the user sees it. */
export async function checkQueries(admin: KsqlAdmin, logger: Logger): Promise<void> {
  const queries = await admin.listQueries();
  logger.info({ queries: queries.map((q) => `${q.id}:${q.state}`) }, 'ksql_queries');
  const failed = queries.filter((q) => q.state === 'ERROR');
  if (failed.length > 0) {
    throw new Error(`ksqlDB queries in state ERROR: ${failed.map((q) => q.id).join(', ')}`);
  }
}

const PG_RETRYABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P03', // cannot_connect_now: the server is starting up
]);

export async function runMigrations(
  databaseUrl: string,
  dir: string,
  wait: WaitOptions,
  /** Target schema; defaults to the connection's current schema (`public`). Tests pass their own. */
  schema?: string,
): Promise<{ applied: string[]; schema: string }> {
  const sql = createDatabase({ url: databaseUrl, poolMax: 1, applicationName: 'telemetry-pipeline-init' });
  try {
    return await retry(
      'run database migrations',
      () => migrate(sql, { dir, logger: wait.logger, ...(schema ? { schema } : {}) }),
      {
        timeoutMs: wait.timeoutMs,
        initialDelayMs: wait.initialDelayMs,
        isRetryable: (err) => PG_RETRYABLE.has(String((err as { code?: unknown })?.code)),
        onRetry: logRetry(wait.logger, 'migrations'),
      },
    );
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const connectRetryable = (err: unknown) => !(err instanceof ConnectRequestError) || err.retryable;

/** Waits until the worker has every connector class the configs name, then creates or updates each one. */
export async function registerConnectors(
  admin: ConnectAdmin,
  connectors: ConnectorConfig[],
  wait: WaitOptions,
): Promise<{ created: string[]; updated: string[] }> {
  const needed = [...new Set(connectors.map((c) => c.config['connector.class']!))];
  await retry(
    'wait for Kafka Connect and its plugins',
    async () => {
      const plugins = new Set(await admin.plugins());
      const missing = needed.filter((cls) => !plugins.has(cls));
      if (missing.length > 0)
        throw new Error(`connector classes not on the worker's plugin path: ${missing.join(', ')}`);
    },
    {
      timeoutMs: wait.timeoutMs,
      initialDelayMs: wait.initialDelayMs,
      isRetryable: connectRetryable,
      onRetry: logRetry(wait.logger, 'connect'),
    },
  );
  const created: string[] = [];
  const updated: string[] = [];
  for (const connector of connectors) {
    const result = await retry(`register connector ${connector.name}`, () => admin.put(connector), {
      timeoutMs: wait.timeoutMs,
      initialDelayMs: wait.initialDelayMs,
      isRetryable: connectRetryable,
      onRetry: logRetry(wait.logger, 'connect'),
    });
    (result.created ? created : updated).push(connector.name);
  }
  return { created, updated };
}
