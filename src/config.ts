/**
 * The application's settings: one zod schema, one pure `loadConfig(env)`.
 *
 * Only `main.ts` reads `process.env` and hands it here. Every variable has a description and a default that
 * matches the local infrastructure started by `npm run infra:up`, so the app runs with no environment at all.
 * An invalid environment raises one `ConfigError` that lists every invalid variable.
 */
import { z } from 'zod';
import { ConfigError, type ConfigProblem } from './errors.js';

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

/**
 * A raster tile URL template: http(s), one host (no `{s}` subdomains: the page's Content-Security-Policy names
 * exactly one tile origin) and the placeholders `{z}`, `{x}` and `{y}`.
 */
export function isTileUrlTemplate(template: string): boolean {
  if (!['{z}', '{x}', '{y}'].every((p) => template.includes(p))) return false;
  const sample = template.replaceAll('{z}', '0').replaceAll('{x}', '0').replaceAll('{y}', '0');
  if (/[{}]/.test(sample)) return false;
  try {
    const url = new URL(sample);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The origin the page loads tiles from (for the Content-Security-Policy), from a valid template. */
export function tileOrigin(template: string): string {
  return new URL(template.replaceAll('{z}', '0').replaceAll('{x}', '0').replaceAll('{y}', '0')).origin;
}

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
  CORS_ORIGINS: z
    .string()
    .default('*')
    .describe(
      'Comma-separated origins whose pages may call the API, `*` for any. `*` opens reads only: a cross-origin ' +
        'request that changes state (POST, DELETE) is refused with 403 unless its origin is listed by name',
    ),
  BODY_LIMIT_BYTES: int(1024, 10_485_760).default(65_536).describe('Largest accepted request body'),
  SSE_HEARTBEAT_MS: int(1000, 300_000).default(15_000).describe('Interval of SSE heartbeat comments'),
  SSE_MAX_CLIENTS: int(1, 100_000)
    .default(10_000)
    .describe(
      "Concurrent SSE connections per instance; lowered at start-up to leave a quarter of the process's open-file " +
        'limit (at least 512) for everything else',
    ),
  SSE_MAX_CLIENTS_PER_ADDRESS: int(0, 100_000)
    .default(100)
    .describe('Concurrent SSE connections from one client address (429 beyond it); 0 for no cap, e.g. behind a proxy'),
  // The operations map at / (docs/web.md)
  MAP_TILE_URL: z
    .string()
    .refine(
      isTileUrlTemplate,
      'expected an http(s) URL template with {z}, {x} and {y}, e.g. https://tiles.example/{z}/{x}/{y}.png',
    )
    .optional()
    .describe(
      'Raster tile URL template ({z}/{x}/{y}, one host) drawn under the map at /; unset: no base map, and the page ' +
        'requests nothing but the app. Its host is added to the Content-Security-Policy img-src',
    ),
  MAP_TILE_ATTRIBUTION: z
    .string()
    .max(300)
    .optional()
    .describe('Attribution text shown on the map with MAP_TILE_URL tiles (as the tile provider requires)'),
  // HTTP API: stream layer and live events (issue 6)
  SSE_HISTORY_SIZE: int(1, 1_000_000)
    .default(10_000)
    .describe('Changes kept per instance so SSE clients can resume with Last-Event-ID'),
  STREAM_WINDOWS_PER_DEVICE: int(1, 100_000)
    .default(1000)
    .describe('2-second windows the embedded stream layer keeps in memory per device'),
  STREAM_DEVICE_IDLE_HORIZON_MS: int(0, 3_153_600_000_000)
    .default(604_800_000)
    .describe(
      'The embedded stream layer and the SSE snapshots forget a device with no output row for this long (the ' +
        "stream layer by the rows' event time, SSE by the wall clock); /stream/latest then omits it. 7 days; 0 = never",
    ),
  STREAM_MAX_DEVICES: int(1, 100_000_000)
    .default(100_000)
    .describe(
      'Most devices the embedded stream layer and the SSE snapshots hold each; beyond it the least recently seen ' +
        'is forgotten, counted and logged',
    ),
  STREAM_WINDOWS_HORIZON_MS: int(0, 31_536_000_000)
    .default(2_400_000)
    .describe(
      'At start-up the embedded stream layer reads the per2s topic only from this far (in record time) before each ' +
        "partition's newest record: at least STREAM_WINDOWS_PER_DEVICE × 2 s (the default covers 1000 windows and " +
        '400 s of slack). 0 replays the whole topic. The per-device topic is always read whole (it is compacted)',
    ),
  KSQLDB_QUERY_TIMEOUT_MS: int(100, 300_000).default(5000).describe('Bound on one ksqlDB pull query (ENGINE=ksqldb)'),

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
  KAFKA_RETENTION_MS: int(-1, 31_536_000_000)
    .refine((ms) => ms === -1 || ms >= 3_600_000, 'expected -1 (keep forever) or at least 3600000 (1 h)')
    .default(604_800_000)
    .describe(
      'retention.ms of the streams the app creates (device_location, device_status, JOIN_EVENTS, dead letters, ' +
        'device_alerts) and of the per2s changelog (compact,delete); the per-device table, alert state and ' +
        'checkpoints are compacted instead. Applies when a topic is created; -1 keeps records forever',
    ),
  KAFKA_SESSION_TIMEOUT_MS: int(6000, 300_000)
    .default(10_000)
    .describe(
      'Consumer group session of the processor and the sink: how long a crashed instance keeps its partitions ' +
        'before the group hands them on (the broker allows 6000 and up by default)',
    ),
  KAFKA_GROUP_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected letters, digits, . _ - (at most 200)')
    .optional()
    .describe(
      'Static group membership, unique per instance (e.g. the pod name): a restarted instance takes its ' +
        'partitions back at once instead of after KAFKA_SESSION_TIMEOUT_MS. Two running instances must never share it',
    ),

  // PostgreSQL
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
    .default('postgres://telemetry@127.0.0.1:5433/telemetry')
    .describe('PostgreSQL connection URL (standard PG* variables fill what it omits)'),
  DATABASE_POOL_MAX: int(1, 200).default(10).describe('Largest PostgreSQL connection pool'),
  DATABASE_MIGRATE: bool.default(true).describe('Apply pending migrations at start-up'),
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 60_000)
    .default(2000)
    .describe('Bound on opening a PostgreSQL connection; below REQUEST_TIMEOUT_MS'),
  DATABASE_QUERY_TIMEOUT_MS: int(100, 300_000)
    .default(3000)
    .describe(
      'Bound on one warehouse read of the API (/stream/postgresql/*), connecting included: beyond it the answer is ' +
        'a 503 naming PostgreSQL. Below REQUEST_TIMEOUT_MS',
    ),

  // Warehouse sink (ENGINE=embedded; docs/warehouse.md)
  SINK_ENABLED: bool.default(true).describe('Run the embedded warehouse sink when ENGINE=embedded'),
  SINK_GROUP_ID: z.string().min(1).default('telemetry-warehouse-sink').describe('Consumer group of the sink'),
  SINK_BATCH_SIZE: int(1, 100_000).default(5000).describe('Most output records per database transaction'),
  SINK_FLUSH_INTERVAL_MS: int(0, 60_000).default(100).describe('How long a partial batch waits for more records'),
  SINK_RETRY_INITIAL_MS: int(1, 60_000).default(100).describe('First backoff after a failed write'),
  SINK_RETRY_MAX_MS: int(1, 300_000).default(5000).describe('Largest backoff between write retries'),
  SINK_BUFFER_RECORDS: int(16, 1_000_000)
    .default(2048)
    .describe('Records the consumer may buffer while the sink is paused (bounds memory during outages)'),

  // Embedded stream processor (ENGINE=embedded; docs/processor.md)
  PROCESSOR_GROUP_ID: z
    .string()
    .min(1)
    .default('telemetry-processor')
    .describe('Consumer group of the processor instances (they split the source partitions)'),
  PROCESSOR_GRACE_MS: int(0, 86_398_000)
    .default(120_000)
    .describe(
      'Window grace: rows for a window that ended more than this before stream time are dropped, and join state ' +
        'is kept this long + 2 s. ksqlDB defaults to 24 h; only records later than this differ. Bounds memory',
    ),
  PROCESSOR_EMIT_MODE: z
    .enum(['coalesce', 'every-update'])
    .default('coalesce')
    .describe('coalesce: last update per window/device per flush (like ksqlDB record cache); every-update: all'),
  PROCESSOR_FLUSH_INTERVAL_MS: int(10, 60_000)
    .default(1000)
    .describe('Output flush and checkpoint interval (ksqlDB commits every 2000 ms)'),
  PROCESSOR_GUARANTEE: z
    .enum(['exactly-once', 'at-least-once'])
    .default('exactly-once')
    .describe(
      'exactly-once: outputs, checkpoints and source offsets in one Kafka transaction per flush, fenced by the ' +
        'group generation (read_committed readers see no duplicate); at-least-once: idempotent writes, a crash may ' +
        'repeat JOIN_EVENTS rows',
    ),
  PROCESSOR_TRANSACTION_TIMEOUT_MS: int(1000, 900_000)
    .default(10_000)
    .describe(
      "Exactly-once: the broker aborts a transaction left open this long (a crashed instance's); a restore waits " +
        'at most this (+5 s) for open transactions. Above the flush interval',
    ),
  PROCESSOR_IDLE_WAIT_MS: int(0, 60_000)
    .default(500)
    .describe('How long the event-time merge waits for a silent source topic before running ahead on the other'),
  PROCESSOR_MAX_FUTURE_MS: int(0, 86_398_000)
    .default(30_000)
    .describe(
      'Source records whose event_ts is further ahead of the wall clock are dead-lettered: one would advance ' +
        'stream time and close windows early. At most PROCESSOR_GRACE_MS',
    ),
  PROCESSOR_MAX_EVENT_AGE_MS: int(0, 3_153_600_000_000)
    .default(86_400_000)
    .describe(
      "Source records whose event_ts is further behind their partition's newest event are dead-lettered " +
        '(a fix from 1970 would move the latest state back); 0 turns the rule off',
    ),
  PROCESSOR_DEVICE_IDLE_HORIZON_MS: int(0, 3_153_600_000_000)
    .default(604_800_000)
    .describe(
      'The per-device table (DEVICE_WINAGG_STATUS_PERDEVICE) forgets a device whose last row is this far behind ' +
        "its partition's stream time; if it reports again its sensor columns restart from null (ksqlDB never " +
        'forgets: docs/processor.md). 7 days; 0 = never. At least PROCESSOR_GRACE_MS',
    ),
  PROCESSOR_MAX_DEVICES: int(1, 100_000_000)
    .default(200_000)
    .describe(
      'Most devices the per-device table holds per source partition (about 0.55 kB each); beyond it the least ' +
        'recently seen is forgotten, counted and logged',
    ),
  PROCESSOR_CHECKPOINT_TOPIC: z
    .string()
    .min(1)
    .default('telemetry_processor_checkpoints')
    .describe('Compacted topic holding the restart checkpoints per group and partition'),

  // Alerts (docs/alerts.md)
  ALERTS_ENABLED: bool.default(true).describe('Run the alert component (on both engines: it reads the source topics)'),
  ALERT_GROUP_ID: z.string().min(1).default('telemetry-alerts').describe('Consumer group of the alert component'),
  ALERT_STATE_TOPIC: z
    .string()
    .min(1)
    .default('telemetry_alert_state')
    .describe("Compacted topic holding the alert detector's state per device (what a restart restores)"),
  ALERT_SOUND_MIN: z.coerce.number().default(30).describe('Normal range of sound: lower bound (inclusive)'),
  ALERT_SOUND_MAX: z.coerce.number().default(50).describe('Normal range of sound: upper bound (inclusive)'),
  ALERT_TEMPERATURE_MIN: z.coerce.number().default(20).describe('Normal range of temperature: lower bound'),
  ALERT_TEMPERATURE_MAX: z.coerce.number().default(30).describe('Normal range of temperature: upper bound'),
  ALERT_ALTITUDE_MIN: z.coerce.number().default(1000).describe('Normal range of altitude: lower bound'),
  ALERT_ALTITUDE_MAX: z.coerce.number().default(2000).describe('Normal range of altitude: upper bound'),
  ALERT_CLEAR_AFTER_MS: int(0, 86_400_000)
    .default(5000)
    .describe('A sensor episode clears at the first in-range reading at least this long after its last anomalous one'),
  ALERT_INACTIVE_AFTER_MS: int(1, 86_400_000)
    .default(10_000)
    .describe('A device opens an inactive alert when no location fix followed its last one for this long'),
  ALERT_CRITICAL_DEVIATION: z.coerce
    .number()
    .gt(0)
    .max(100)
    .default(0.1)
    .describe('An alert is critical when its worst value lies more than this fraction of the range width outside'),
  ALERT_GEOFENCE_MIN_LATITUDE: z.coerce.number().min(-90).max(90).default(8).describe('Geofence of outside_geofence'),
  ALERT_GEOFENCE_MAX_LATITUDE: z.coerce.number().min(-90).max(90).default(10).describe('Geofence: north edge'),
  ALERT_GEOFENCE_MIN_LONGITUDE: z.coerce.number().min(-180).max(180).default(106).describe('Geofence: west edge'),
  ALERT_GEOFENCE_MAX_LONGITUDE: z.coerce.number().min(-180).max(180).default(108).describe('Geofence: east edge'),
  ALERT_DEVICE_IDLE_HORIZON_MS: int(0, 3_153_600_000_000)
    .default(604_800_000)
    .describe(
      'The alert detector forgets a device silent this long with no open alert, and keeps one whose only open ' +
        'alert is inactive in compact form (it clears as usual when the device reports again: docs/alerts.md). ' +
        '7 days; 0 = never. At least ALERT_INACTIVE_AFTER_MS',
    ),
  ALERT_MAX_DEVICES: int(1, 100_000_000)
    .default(200_000)
    .describe(
      'Most devices the alert detector holds per source partition, and most it keeps in compact form; beyond it ' +
        'the least recently seen is forgotten (its open alerts never clear), counted and logged',
    ),
  ALERT_FLUSH_INTERVAL_MS: int(10, 60_000).default(200).describe('How long alert changes wait before they are written'),
  ALERT_TIMER_LATENESS_MS: int(0, 600_000)
    .default(500)
    .describe(
      'Caught up, the inactivity timer runs this far behind the wall clock (room for producers batching: the ' +
        "simulators' linger is 5 ms); an inactive alert comes this long after ALERT_INACTIVE_AFTER_MS",
    ),

  // Simulators (POST /simulate defaults and limits; docs/simulators.md)
  SIMULATOR_DEVICE_COUNT: int(1, 100_000).default(3).describe('Devices of a run that names none (dev-1..dev-N)'),
  SIMULATOR_LOCATION_INTERVAL_MS: int(1, 3_600_000).default(2000).describe('Default per-device location period'),
  SIMULATOR_STATUS_INTERVAL_MS: int(1, 3_600_000).default(500).describe('Default per-device status period'),
  SIMULATOR_SIGMA: z.coerce
    .number()
    .gt(0)
    .max(1)
    .default(0.001)
    .describe('Default Brownian σ in degrees per √second (≈0.017 % of fixes leave lat 8–10/lon 106–108 in a day)'),
  SIMULATOR_MAX_DEVICES: int(1, 100_000).default(1000).describe('Most devices a run may simulate (else 422)'),
  SIMULATOR_MAX_EVENTS_PER_SECOND: int(1, 10_000_000)
    .default(20_000)
    .describe('Most aggregate events per second a run may request (else 422)'),
  SIMULATOR_MAX_DURATION_MS: int(1, 31_536_000_000)
    .default(86_400_000)
    .describe('Largest duration_ms a run may ask for (else 422); a run without one runs until stopped'),
  SIMULATOR_MAX_EVENTS: int(1, Number.MAX_SAFE_INTEGER)
    .default(100_000_000)
    .describe('Largest max_events a run may ask for (else 422)'),
  SIMULATOR_BATCH_SIZE: int(1, 100_000).default(5000).describe('Most records per produce request'),
  SIMULATOR_LINGER_MS: int(0, 10_000).default(5).describe('How long a partial batch waits before it is sent'),
  SIMULATOR_BUFFER_EVENTS: int(1, 10_000_000)
    .default(50_000)
    .describe('Bound on events queued for Kafka; ticks beyond it are skipped and counted'),
  SIMULATOR_COMPRESSION: z.enum(['lz4', 'snappy', 'gzip', 'none']).default('lz4').describe('Producer compression'),
  SIMULATOR_STOP_TIMEOUT_MS: int(100, 300_000)
    .default(10_000)
    .describe('Bound on the flush when a run stops; unsent events are then reported as abandoned'),
  SIMULATOR_AUTOSTART: bool
    .default(false)
    .describe('Start a simulation with the defaults when the app starts (as POST /simulate with {})'),
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
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

/** Rules between variables, each reported on the variable to change. */
function crossFieldProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const metric of ['SOUND', 'TEMPERATURE', 'ALTITUDE'] as const) {
    if (!(config[`ALERT_${metric}_MAX`] > config[`ALERT_${metric}_MIN`])) {
      problems.push({ variable: `ALERT_${metric}_MAX`, message: `must exceed ALERT_${metric}_MIN` });
    }
  }
  for (const axis of ['LATITUDE', 'LONGITUDE'] as const) {
    if (!(config[`ALERT_GEOFENCE_MAX_${axis}`] > config[`ALERT_GEOFENCE_MIN_${axis}`])) {
      problems.push({ variable: `ALERT_GEOFENCE_MAX_${axis}`, message: `must exceed ALERT_GEOFENCE_MIN_${axis}` });
    }
  }
  if (config.PROCESSOR_TRANSACTION_TIMEOUT_MS <= config.PROCESSOR_FLUSH_INTERVAL_MS) {
    problems.push({
      variable: 'PROCESSOR_TRANSACTION_TIMEOUT_MS',
      message: 'must exceed PROCESSOR_FLUSH_INTERVAL_MS (a transaction stays open for one flush interval)',
    });
  }
  for (const variable of ['DATABASE_CONNECT_TIMEOUT_MS', 'DATABASE_QUERY_TIMEOUT_MS'] as const) {
    if (config[variable] >= config.REQUEST_TIMEOUT_MS) {
      problems.push({
        variable,
        message: `must be below REQUEST_TIMEOUT_MS (${config.REQUEST_TIMEOUT_MS}), so an outage answers 503, not 504`,
      });
    }
  }
  const horizon = config.PROCESSOR_DEVICE_IDLE_HORIZON_MS;
  if (horizon !== 0 && horizon < config.PROCESSOR_GRACE_MS) {
    problems.push({
      variable: 'PROCESSOR_DEVICE_IDLE_HORIZON_MS',
      message: `must be 0 or at least PROCESSOR_GRACE_MS (${config.PROCESSOR_GRACE_MS}): a row within the grace must find its device`,
    });
  }
  const alertHorizon = config.ALERT_DEVICE_IDLE_HORIZON_MS;
  if (alertHorizon !== 0 && alertHorizon < config.ALERT_INACTIVE_AFTER_MS) {
    problems.push({
      variable: 'ALERT_DEVICE_IDLE_HORIZON_MS',
      message: `must be 0 or at least ALERT_INACTIVE_AFTER_MS (${config.ALERT_INACTIVE_AFTER_MS}): a silent device's inactive alert opens first`,
    });
  }
  if (config.PROCESSOR_MAX_FUTURE_MS > config.PROCESSOR_GRACE_MS) {
    problems.push({
      variable: 'PROCESSOR_MAX_FUTURE_MS',
      message: `must not exceed PROCESSOR_GRACE_MS (${config.PROCESSOR_GRACE_MS}): a record that far ahead closes windows early`,
    });
  }
  const keptMs = config.STREAM_WINDOWS_PER_DEVICE * 2000;
  if (config.STREAM_WINDOWS_HORIZON_MS > 0 && config.STREAM_WINDOWS_HORIZON_MS < keptMs) {
    problems.push({
      variable: 'STREAM_WINDOWS_HORIZON_MS',
      message:
        `must be 0 or at least STREAM_WINDOWS_PER_DEVICE × 2000 (${keptMs}): a shorter horizon would serve fewer ` +
        'windows after a restart than before it',
    });
  }
  return problems;
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
