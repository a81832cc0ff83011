/**
 * `npm run migrate`: applies pending warehouse migrations (`migrations/*.sql`) and exits.
 * Reads DATABASE_URL like the app (default: the local PostgreSQL of `npm run infra:up`).
 * Options: `--schema <name>` to migrate another schema than the connection's current one.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/observability/logger.js';
import { createDatabase } from '../src/sink/database.js';
import { migrate } from '../src/sink/migrate.js';

const { values } = parseArgs({ options: { schema: { type: 'string' } } });
const config = loadConfig(process.env);
const logger = createLogger({ level: config.LOG_LEVEL });
const sql = createDatabase({ url: config.DATABASE_URL, poolMax: 1, applicationName: 'telemetry-pipeline-migrate' });
try {
  const result = await migrate(sql, { ...(values.schema ? { schema: values.schema } : {}), logger });
  console.log(
    result.applied.length > 0
      ? `applied ${result.applied.join(', ')} to schema ${result.schema}`
      : `schema ${result.schema} is up to date (${result.alreadyApplied} migrations applied earlier)`,
  );
} catch (err) {
  console.error(`migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await sql.end({ timeout: 5 });
}
