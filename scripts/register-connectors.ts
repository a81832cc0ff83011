/**
 * `npm run connect:register`: waits for Kafka Connect's REST API (and the connector classes on its plugin
 * path), then creates or updates every `connect/*.json` sink with `PUT /connectors/<name>/config`. Running it
 * again converges without deleting anything. The compose init step runs the same code (scripts/compose-init/).
 *
 * Settings: CONNECT_URL (default http://127.0.0.1:8083), CONNECT_DIR (default connect/), CONNECT_WAIT_MS
 * (default 300000). Secrets are `${env:...}` placeholders resolved by the worker, never by this script.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { createLogger, type Logger } from '../src/observability/logger.js';
import { createConnectAdmin } from './compose-init/connect-admin.js';
import { readConnectorFiles, registerConnectors } from './compose-init/steps.js';

const SettingsSchema = z.object({
  CONNECT_URL: z.url().default('http://127.0.0.1:8083'),
  CONNECT_DIR: z.string().default(join(dirname(fileURLToPath(import.meta.url)), '..', 'connect')),
  CONNECT_WAIT_MS: z.coerce.number().int().min(1000).default(300_000),
});

export async function registerAllConnectors(
  env: Record<string, string | undefined>,
  logger: Logger,
  initialDelayMs?: number,
): Promise<{ created: string[]; updated: string[] }> {
  const settings = SettingsSchema.parse(Object.fromEntries(Object.entries(env).filter(([, v]) => v)));
  const connectors = await readConnectorFiles(settings.CONNECT_DIR);
  return registerConnectors(createConnectAdmin({ url: settings.CONNECT_URL }), connectors, {
    timeoutMs: settings.CONNECT_WAIT_MS,
    logger,
    ...(initialDelayMs === undefined ? {} : { initialDelayMs }),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'info' });
  registerAllConnectors(process.env, logger).then(
    ({ created, updated }) => {
      console.log(`connectors created: ${created.join(', ') || '-'}; updated: ${updated.join(', ') || '-'}`);
    },
    (err: unknown) => {
      console.error(`connector registration failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
