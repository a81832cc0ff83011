/**
 * The application's settings: one zod schema, one pure `loadConfig(env)`.
 *
 * Only `main.ts` reads `process.env` and hands it here. Every variable has a description and a default that
 * matches the local infrastructure started by `npm run infra:up`, so the app runs with no environment at all.
 * An invalid environment raises one `ConfigError` that lists every invalid variable.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const brokerList = z
  .string()
  .min(1)
  .transform((v) =>
    v
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port[,host:port...]')).min(1));

/** Every environment variable the app reads, with its default and meaning. The README's table mirrors this. */
export const EnvSchema = z.object({
  // HTTP
  HOST: z.string().min(1).default('127.0.0.1').describe('Interface the HTTP server binds to'),
  PORT: int(0, 65535).default(8080).describe('HTTP port'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Structured JSON log level'),
  SHUTDOWN_TIMEOUT_MS: int(100, 300_000).default(10_000).describe('Bound on graceful shutdown before a hard exit'),
  REQUEST_TIMEOUT_MS: int(100, 300_000).default(10_000).describe('Per-request timeout for non-streaming endpoints'),
  API_KEY: z.string().min(16).optional().describe('When set, simulator control requires header `x-api-key`'),
  CORS_ORIGINS: z.string().default('*').describe('Comma-separated allowed CORS origins, `*` for any'),
  BODY_LIMIT_BYTES: int(1024, 10_485_760).default(65_536).describe('Largest accepted request body'),
  SSE_HEARTBEAT_MS: int(1000, 300_000).default(15_000).describe('Interval of SSE heartbeat comments'),
  SSE_MAX_CLIENTS: int(1, 100_000).default(20_000).describe('Concurrent SSE connections per instance'),

  // Engine
  ENGINE: z
    .enum(['embedded', 'ksqldb'])
    .default('embedded')
    .describe('embedded: run the TypeScript processor and sink; ksqldb: read the stream layer from ksqlDB'),
  KSQLDB_URL: z.url().default('http://127.0.0.1:8088').describe('ksqlDB REST endpoint (ENGINE=ksqldb)'),

  // Kafka
  KAFKA_BROKERS: brokerList.default(['127.0.0.1:9092']).describe('Bootstrap brokers, host:port comma-separated'),
  KAFKA_CLIENT_ID: z.string().min(1).default('telemetry-pipeline').describe('Kafka client id prefix'),
  KAFKA_TOPIC_PARTITIONS: int(1, 1024)
    .default(3)
    .describe('Partitions of device_location and device_status (always equal)'),
  KAFKA_REPLICATION_FACTOR: int(1, 16).default(1).describe('Replication factor of topics the app creates'),
  KAFKA_CREATE_TOPICS: bool.default(true).describe('Create the pipeline topics at start-up when missing'),

  // PostgreSQL
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
    .default('postgres://telemetry@127.0.0.1:5433/telemetry')
    .describe('PostgreSQL connection URL (standard PG* variables fill what it omits)'),
  DATABASE_POOL_MAX: int(1, 200).default(10).describe('Largest PostgreSQL connection pool'),
  DATABASE_MIGRATE: bool.default(true).describe('Apply pending migrations at start-up'),
});

export type Env = z.input<typeof EnvSchema>;
export type Config = z.output<typeof EnvSchema>;

/**
 * Validates an environment record. Unknown variables are ignored; empty strings count as unset so that
 * `FOO=` in an env file falls back to the default rather than failing.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(root)'),
      message: issue.message,
    }));
    throw new ConfigError(problems);
  }
  return parsed.data;
}

/** The documentation table of every variable: name, default and description, straight from the schema. */
export function describeConfig(): { name: string; default: string; description: string }[] {
  return Object.entries(EnvSchema.shape).map(([name, schema]) => {
    const parsed = (schema as z.ZodType).safeParse(undefined);
    const value = parsed.success ? parsed.data : undefined;
    return {
      name,
      default: value === undefined ? '(unset)' : Array.isArray(value) ? value.join(',') : String(value),
      description: (schema as z.ZodType).description ?? '',
    };
  });
}
