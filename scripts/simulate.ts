/**
 * Runs the device simulators without the HTTP API: `npm run simulate -- [options]`.
 *
 * Options mirror the `POST /simulate` body (kebab-case). The run stops on Ctrl-C / SIGTERM, after
 * `--duration-ms` or `--max-events`, flushing what it produced; progress goes to stderr every
 * `--report-ms`, the final status (the same JSON as `GET /simulate`) to stdout. No device or rate limits
 * apply here (they protect the shared API); the producer settings come from the SIMULATOR_* variables.
 *
 * Examples:
 *   npm run simulate                                   # the specification: 3 devices, 2 s / 0.5 s, until Ctrl-C
 *   npm run simulate -- --devices 50 --seed 42 --duration-ms 60000
 *   npm run simulate -- --device-ids truck-1,truck-2 --sigma 0.002 --boundary reflect
 *   npm run simulate -- --silent-devices 1 --silent-for-ms 30000 --wander-devices 1 --wander-for-ms 60000
 */
import { parseArgs } from 'node:util';
import { createAdmin, ensureTopics } from '../src/bus/kafka-admin.js';
import { loadConfig } from '../src/config.js';
import { TOPICS } from '../src/core/topics.js';
import { createLogger } from '../src/observability/logger.js';
import { SimulationRequestSchema } from '../src/simulators/simulation-config.js';
import type { SimulationStatus } from '../src/simulators/simulation-status.js';
import { createSimulatorFromConfig } from '../src/simulators/simulator-from-config.js';

const usage = `usage: npm run simulate -- [options]
  --devices N                 number of devices dev-1..dev-N (default 3)
  --device-ids a,b,c          explicit device ids (instead of --devices)
  --location-interval-ms MS   per-device location period (default 2000)
  --status-interval-ms MS     per-device status period (default 500)
  --sigma S                   Brownian sigma, degrees per sqrt(second) (default 0.001)
  --boundary none|reflect     reflect the walk at lat 8-10 / lon 106-108 (default none)
  --seed X                    seed for replayable values (default: random, printed)
  --duration-ms MS            stop after this long
  --max-events N              stop after this many events in total
  --sensors JSON              per-sensor overrides, e.g. '{"sound":{"anomaly_rate":0.5}}'
  --silent-devices N          the first N devices go silent (no locations, no statuses) (default 0)
  --silent-after-ms MS        ... this long after the start (default 10000)
  --silent-for-ms MS          ... and resume after this long (default: silent until the end)
  --wander-devices N          the next N devices walk out of lat 8-10 / lon 106-108 (default 0)
  --wander-after-ms MS        ... this long after the start (default 10000)
  --wander-for-ms MS          ... and start walking back after this long (default: stay out)
  --location-topic NAME       (default device_location)
  --status-topic NAME         (default device_status)
  --brokers host:port,...     (default KAFKA_BROKERS or 127.0.0.1:9092)
  --report-ms MS              progress interval on stderr (default 5000, 0 = none)
  --quiet                     no progress lines`;

function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name}: expected a number, got ${value}`);
  return n;
}

function summary(s: SimulationStatus): string {
  const t = s.topics;
  if (!t) return s.state;
  return (
    `${s.state} ${(s.elapsed_ms / 1000).toFixed(1)}s  location sent=${t.location.sent} ` +
    `(${t.location.events_per_second.toFixed(1)}/s)  status sent=${t.status.sent} ` +
    `(${t.status.events_per_second.toFixed(1)}/s)  buffered=${s.buffered}  failed_sends=${s.errors.failed_sends}` +
    (s.errors.last_error ? `  last_error=${s.errors.last_error}` : '')
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      'device-ids': { type: 'string' },
      'location-interval-ms': { type: 'string' },
      'status-interval-ms': { type: 'string' },
      sigma: { type: 'string' },
      boundary: { type: 'string' },
      seed: { type: 'string' },
      'duration-ms': { type: 'string' },
      'max-events': { type: 'string' },
      sensors: { type: 'string' },
      'silent-devices': { type: 'string' },
      'silent-after-ms': { type: 'string' },
      'silent-for-ms': { type: 'string' },
      'wander-devices': { type: 'string' },
      'wander-after-ms': { type: 'string' },
      'wander-for-ms': { type: 'string' },
      'location-topic': { type: 'string' },
      'status-topic': { type: 'string' },
      brokers: { type: 'string' },
      'report-ms': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const seed = values.seed === undefined ? undefined : /^\d+$/.test(values.seed) ? Number(values.seed) : values.seed;
  const parsed = SimulationRequestSchema.safeParse({
    devices: values['device-ids']?.split(',').map((d) => d.trim()),
    device_count: numberOption(values.devices, 'devices'),
    location_interval_ms: numberOption(values['location-interval-ms'], 'location-interval-ms'),
    status_interval_ms: numberOption(values['status-interval-ms'], 'status-interval-ms'),
    sigma: numberOption(values.sigma, 'sigma'),
    boundary: values.boundary,
    seed,
    duration_ms: numberOption(values['duration-ms'], 'duration-ms'),
    max_events: numberOption(values['max-events'], 'max-events'),
    sensors: values.sensors === undefined ? undefined : JSON.parse(values.sensors),
    silent_devices: numberOption(values['silent-devices'], 'silent-devices'),
    silent_after_ms: numberOption(values['silent-after-ms'], 'silent-after-ms'),
    silent_for_ms: numberOption(values['silent-for-ms'], 'silent-for-ms'),
    wander_devices: numberOption(values['wander-devices'], 'wander-devices'),
    wander_after_ms: numberOption(values['wander-after-ms'], 'wander-after-ms'),
    wander_for_ms: numberOption(values['wander-for-ms'], 'wander-for-ms'),
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`invalid option ${issue.path.join('.')}: ${issue.message}`);
    console.error(usage);
    return 2;
  }

  const config = loadConfig({ ...process.env, ...(values.brokers ? { KAFKA_BROKERS: values.brokers } : {}) });
  const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn', destination: process.stderr });
  const kafka = { brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-cli` };
  const topics = {
    location: values['location-topic'] ?? TOPICS.DEVICE_LOCATION,
    status: values['status-topic'] ?? TOPICS.DEVICE_STATUS,
  };
  if (config.KAFKA_CREATE_TOPICS) {
    const admin = createAdmin(kafka, 'cli-admin');
    const base = { partitions: config.KAFKA_TOPIC_PARTITIONS, replicas: config.KAFKA_REPLICATION_FACTOR };
    try {
      await ensureTopics(admin, [
        { name: topics.location, ...base },
        { name: topics.status, ...base },
      ]);
    } finally {
      await admin.close();
    }
  }

  const unlimited = { maxDevices: Number.MAX_SAFE_INTEGER, maxEventsPerSecond: Number.POSITIVE_INFINITY };
  const simulator = createSimulatorFromConfig(config, kafka, logger, { topics, limits: unlimited });
  const started = simulator.startRun(parsed.data);
  console.error(
    `simulating ${started.config?.devices.length} devices (seed ${started.config?.seed}) → ${topics.location}, ${topics.status}`,
  );

  const reportMs = numberOption(values['report-ms'], 'report-ms') ?? 5000;
  const progress =
    reportMs > 0 && !values.quiet ? setInterval(() => console.error(summary(simulator.status())), reportMs) : undefined;
  const final = await new Promise<SimulationStatus>((resolve) => {
    const stop = () => void simulator.stopRun().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const poll = setInterval(() => {
      if (simulator.status().state === 'completed') {
        clearInterval(poll);
        resolve(simulator.status());
      }
    }, 100);
    process.once('beforeExit', () => clearInterval(poll));
  });
  if (progress) clearInterval(progress);
  console.error(summary(final));
  console.log(JSON.stringify(final, null, 2));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
