/**
 * The one-shot init of the Docker Compose deployment (service `init` in docker-compose.yml), so that
 * `docker compose up -d` needs no manual step:
 *
 *   1. topics      create `device_location` and `device_status` with equal partition counts;
 *   2. ksql        apply the `ksql/*.sql` statements in file-name order through ksqlDB's REST API, skipping
 *                  the streams and tables that already exist;
 *   3. migrations  apply the database migrations (`migrations/`), which create the warehouse tables;
 *   4. connectors  wait for Kafka Connect and create or update the `connect/*.json` sinks.
 *
 * Every step is idempotent; the service runs on every `up` and exits 0 when the pipeline is in place.
 * In the image it runs compiled (`node dist-init/scripts/compose-init.js`); locally `tsx scripts/compose-init.ts`.
 * Settings: the app's variables (`KAFKA_BROKERS`, `KSQLDB_URL`, `DATABASE_URL`, ...) plus the ones below.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { loadConfig } from '../src/config.js';
import { createLogger, type Logger } from '../src/observability/logger.js';
import { createConnectAdmin } from './compose-init/connect-admin.js';
import { parseStatementFiles } from './compose-init/ksql-statements.js';
import { createKsqlAdmin } from './compose-init/ksqldb-admin.js';
import {
  applyKsql,
  checkQueries,
  createSourceTopics,
  readConnectorFiles,
  readKsqlFiles,
  registerConnectors,
  runMigrations,
} from './compose-init/steps.js';

/** The repository root: the nearest folder above this file holding package.json (works for tsx and compiled). */
function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

export const INIT_STEPS = ['topics', 'ksql', 'migrations', 'connectors'] as const;

const root = findProjectRoot();

/** Settings of the init step only; the shared ones come from the app's `loadConfig`. */
export const InitSettingsSchema = z.object({
  CONNECT_URL: z.url().default('http://127.0.0.1:8083').describe('Kafka Connect REST endpoint'),
  KSQL_DIR: z.string().default(join(root, 'ksql')).describe('Folder of the ksqlDB statement files'),
  CONNECT_DIR: z.string().default(join(root, 'connect')).describe('Folder of the connector configs'),
  MIGRATIONS_DIR: z.string().default(join(root, 'migrations')).describe('Folder of the SQL migrations'),
  INIT_STEPS: z
    .string()
    .default(INIT_STEPS.join(','))
    .transform((v) => v.split(',').map((s) => s.trim()))
    .pipe(z.array(z.enum(INIT_STEPS)).min(1))
    .describe('Steps to run, comma-separated'),
  INIT_TIMEOUT_MS: z.coerce.number().int().min(1000).default(300_000).describe('Wait bound per dependency'),
  KSQL_AUTO_OFFSET_RESET: z
    .enum(['earliest', 'latest'])
    .default('earliest')
    .describe('auto.offset.reset sent with every statement, so queries also process data produced before them'),
});
export type InitSettings = z.output<typeof InitSettingsSchema>;

export function loadInitSettings(env: Record<string, string | undefined>): InitSettings {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = InitSettingsSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`);
    throw new Error(`invalid init settings:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export async function runComposeInit(env: Record<string, string | undefined>, logger: Logger): Promise<void> {
  const config = loadConfig(env);
  const settings = loadInitSettings(env);
  const wait = { timeoutMs: settings.INIT_TIMEOUT_MS, logger };
  const steps = new Set(settings.INIT_STEPS);

  if (steps.has('topics')) {
    const created = await createSourceTopics(
      { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID },
      { partitions: config.KAFKA_TOPIC_PARTITIONS, replicas: config.KAFKA_REPLICATION_FACTOR },
      wait,
    );
    logger.info({ created, partitions: config.KAFKA_TOPIC_PARTITIONS }, 'init_topics_done');
  }

  if (steps.has('ksql')) {
    // Parse everything before touching ksqlDB: a bad file fails the init without applying half of ksql/.
    const statements = parseStatementFiles(await readKsqlFiles(settings.KSQL_DIR));
    const admin = createKsqlAdmin({ url: config.KSQLDB_URL });
    const result = await applyKsql(admin, statements, { 'auto.offset.reset': settings.KSQL_AUTO_OFFSET_RESET }, wait);
    logger.info(result, 'init_ksql_done');
    await checkQueries(admin, logger);
  }

  if (steps.has('migrations')) {
    const result = await runMigrations(config.DATABASE_URL, settings.MIGRATIONS_DIR, wait);
    logger.info(result, 'init_migrations_done');
  }

  if (steps.has('connectors')) {
    const connectors = await readConnectorFiles(settings.CONNECT_DIR);
    const result = await registerConnectors(createConnectAdmin({ url: settings.CONNECT_URL }), connectors, wait);
    logger.info(result, 'init_connectors_done');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'info' });
  runComposeInit(process.env, logger).then(
    () => {
      logger.info({}, 'init_finished');
      logger.flush();
    },
    (err: unknown) => {
      logger.fatal({ err }, 'init_failed');
      logger.flush();
      process.exitCode = 1;
    },
  );
}
