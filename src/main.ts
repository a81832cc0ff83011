/**
 * The process entry: the only place that reads `process.env`, installs signal handlers and exits.
 *
 * Settings come from the environment; variables it lacks are read from `.local/infra.env` (written by
 * `npm run infra:up`) when that file exists, then from the defaults in `config.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { createApi } from './api/app.js';
import { createApplication } from './app.js';
import { type Config, loadConfig } from './config.js';
import { isAppError } from './errors.js';
import { createLogger } from './observability/logger.js';

function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const entries: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (match?.[1] && match[2] !== undefined) entries[match[1]] = match[2];
  }
  return entries;
}

async function main(): Promise<void> {
  const envFile = process.env['INFRA_ENV_FILE'] ?? new URL('../.local/infra.env', import.meta.url).pathname;
  let config: Config;
  try {
    // An empty variable counts as unset (as in loadConfig), so it does not hide the env file's value.
    const fromEnv = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== ''));
    config = loadConfig({ ...readEnvFile(envFile), ...fromEnv });
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.LOG_LEVEL });
  const application = createApplication(config, logger);

  // Serve first: /health answers and /ready names what is missing while the app waits for its dependencies.
  const api = createApi(application.services);
  const server = serve({ fetch: api.fetch, hostname: config.HOST, port: config.PORT }, (info) =>
    logger.info({ host: info.address, port: info.port, engine: config.ENGINE }, 'http_listening'),
  );
  const starting = new AbortController();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutdown_started');
    starting.abort();
    // Closing Kafka clients while they still join a group can make the client library emit "Client is
    // closed" on a stream nobody listens to yet. During shutdown that is expected: log it, do not crash.
    process.on('uncaughtException', (err) => logger.warn({ err }, 'error_during_shutdown'));
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown_timed_out');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    // Stop accepting first, then let open requests finish while the components drain.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if ('closeIdleConnections' in server) server.closeIdleConnections();
    await application.stop();
    if ('closeAllConnections' in server) server.closeAllConnections();
    await closed;
    logger.info({}, 'shutdown_finished');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await application.start(starting.signal);
    logger.info({ engine: config.ENGINE }, 'pipeline_started');
  } catch (err) {
    if (stopping) return;
    logger.fatal({ err, code: isAppError(err) ? err.code : undefined }, 'start_failed');
    await application.stop();
    process.exit(1);
  }
}

void main();
