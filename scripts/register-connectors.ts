/**
 * Registers the `connect/*.json` sink configs with Kafka Connect's REST API: `PUT /connectors/<name>/config`
 * creates a connector or updates it in place, so running it again (or after a config change) converges without a
 * delete. It runs as the one-shot `connect-init` service of docker-compose.yml and as `npm run connect:register`.
 *
 * It first waits until the worker lists every connector class the configs name (`GET /connector-plugins`), and
 * retries a request that Connect answers with 409 (a rebalance is in progress, its "try again" answer), with a
 * 5xx, or not at all; the delays come from `src/core/backoff.ts` through `./compose-init/retry.ts`. Any other
 * answer (400: an invalid config) fails at once with Connect's message.
 *
 * A file is either shape Connect's docs use: `{ "name": ..., "config": { ... } }` or a flat config with `name`
 * inside. Placeholders such as `${env:POSTGRES_PASSWORD}` are sent as they are; the worker resolves them with its
 * config provider, so no secret passes through here.
 *
 * Settings: CONNECT_URL (default http://127.0.0.1:8083), CONNECT_DIR (default connect/), CONNECT_WAIT_MS
 * (default 300000), LOG_LEVEL.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { BackoffOptions } from '../src/core/backoff.js';
import { createLogger, type Logger } from '../src/observability/logger.js';
import { retry } from './compose-init/retry.js';

export interface ConnectorConfig {
  name: string;
  config: Record<string, string>;
}

/** Parses one connector file; throws naming the file when it is not a usable connector config. */
export function parseConnectorFile(fileName: string, text: string): ConnectorConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${fileName}: not JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${fileName}: not an object`);
  const obj = raw as Record<string, unknown>;
  const nested = obj['config'];
  const config = (nested && typeof nested === 'object' ? nested : obj) as Record<string, unknown>;
  const name = obj['name'] ?? config['name'];
  if (typeof name !== 'string' || name === '') throw new Error(`${fileName}: no connector "name"`);
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'name') continue;
    if (value === null || typeof value === 'object') throw new Error(`${fileName}: "${key}" must be a scalar`);
    flat[key] = String(value);
  }
  if (!flat['connector.class']) throw new Error(`${fileName}: no "connector.class"`);
  return { name, config: flat };
}

/** The connector configs directly in `dir` (`*.json`), by file name. */
export async function readConnectorFiles(dir: string): Promise<ConnectorConfig[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => e.name)
    .sort();
  return Promise.all(names.map(async (name) => parseConnectorFile(name, await readFile(join(dir, name), 'utf8'))));
}

export class ConnectRequestError extends Error {
  override name = 'ConnectRequestError';
  constructor(
    message: string,
    /** HTTP status; 0 when Connect did not answer. */
    readonly status: number,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.status === 0 || this.status === 409 || this.status >= 500;
  }
}

async function request(base: string, method: string, path: string, body?: unknown) {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new ConnectRequestError(`Kafka Connect at ${base} did not answer: ${(err as Error).message}`, 0);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text.slice(0, 300);
    try {
      message = String((JSON.parse(text) as { message?: unknown }).message ?? message);
    } catch {
      // Not JSON (a proxy's error page): the raw text is the message.
    }
    throw new ConnectRequestError(
      `Kafka Connect ${method} ${path} answered ${response.status}: ${message}`,
      response.status,
    );
  }
  return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

export interface RegisterOptions {
  url: string;
  timeoutMs: number;
  logger: Logger;
  backoff?: BackoffOptions;
}

/** Waits for the worker and its plugins, then creates or updates each connector. */
export async function registerConnectors(
  connectors: ConnectorConfig[],
  options: RegisterOptions,
): Promise<{ created: string[]; updated: string[] }> {
  const base = options.url.replace(/\/+$/, '');
  const retryOptions = (step: string) => ({
    timeoutMs: options.timeoutMs,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    isRetryable: (err: unknown) => !(err instanceof ConnectRequestError) || err.retryable,
    onRetry: ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: unknown }) =>
      options.logger.warn({ step, attempt, delayMs, err: error }, 'connect_request_retrying'),
  });
  const needed = [...new Set(connectors.map((c) => c.config['connector.class']!))];
  await retry(
    'wait for Kafka Connect and its plugins',
    async () => {
      const { json } = await request(base, 'GET', '/connector-plugins');
      const plugins = new Set(Array.isArray(json) ? json.map((p: { class?: unknown }) => String(p.class)) : []);
      const missing = needed.filter((cls) => !plugins.has(cls));
      if (missing.length > 0)
        throw new Error(`connector classes not on the worker's plugin path: ${missing.join(', ')}`);
    },
    retryOptions('plugins'),
  );
  const created: string[] = [];
  const updated: string[] = [];
  for (const { name, config } of connectors) {
    const path = `/connectors/${encodeURIComponent(name)}/config`;
    // 201 when the connector was created, 200 when an existing one was updated.
    const { status } = await retry(
      `register connector ${name}`,
      () => request(base, 'PUT', path, { ...config, name }),
      retryOptions(name),
    );
    (status === 201 ? created : updated).push(name);
    options.logger.info({ connector: name, created: status === 201 }, 'connector_registered');
  }
  return { created, updated };
}

const SettingsSchema = z.object({
  CONNECT_URL: z.url().default('http://127.0.0.1:8083'),
  CONNECT_DIR: z.string().default(join(dirname(fileURLToPath(import.meta.url)), '..', 'connect')),
  CONNECT_WAIT_MS: z.coerce.number().int().min(1000).default(300_000),
});

/** Registers every file of `CONNECT_DIR` with the worker at `CONNECT_URL`. */
export async function registerAllConnectors(
  env: Record<string, string | undefined>,
  logger: Logger,
  backoff?: BackoffOptions,
): Promise<{ created: string[]; updated: string[] }> {
  const settings = SettingsSchema.parse(Object.fromEntries(Object.entries(env).filter(([, v]) => v)));
  const connectors = await readConnectorFiles(settings.CONNECT_DIR);
  return registerConnectors(connectors, {
    url: settings.CONNECT_URL,
    timeoutMs: settings.CONNECT_WAIT_MS,
    logger,
    ...(backoff ? { backoff } : {}),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'info' });
  registerAllConnectors(process.env, logger).then(
    ({ created, updated }) => {
      logger.info({ created, updated }, 'connectors_registered');
      logger.flush();
    },
    (err: unknown) => {
      logger.fatal({ err }, 'connector_registration_failed');
      logger.flush();
      process.exitCode = 1;
    },
  );
}
