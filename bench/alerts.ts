/**
 * `npm run bench:alerts`: the alert component on the local broker, loopback only, bounded in time.
 *
 * 1. Throughput: pre-produces `--events` source records (per device a status every 0.5 s with the specification's
 *    sensors and anomaly rates, a location every 2 s, event time ending a minute ago) to fresh 3-partition
 *    topics; the reference is a plain @platformatic/kafka consumer reading the very same records in the same run;
 *    then the alert component judges them from the start (its default settings) and the bench prints its input
 *    records/s, its share of the raw rate and the alert changes it wrote.
 * 2. Detection latency (if `--latency-samples` > 0): the API server of `bench/api.ts` (its own topics, the alert
 *    component, the alert feed, the broadcaster, the Hono app) in a child process; an SSE client on
 *    `/alerts/events`; the child produces, for a new device each time, a fix and then an out-of-range sound
 *    reading with event_ts = now; latency = receipt of the `alert` event that opens it − that event_ts. p50/p99.
 *
 *   npm run bench:alerts -- [--events 400000] [--devices 1000] [--latency-samples 300] [--latency-interval-ms 50]
 *
 * Topics are unique and deleted at the end. Figures only, no assertions.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { createAlertComponent } from '../src/alerts/alert-component.js';
import { createProducer } from '../src/bus/producer.js';
import { loadConfig } from '../src/config.js';
import { DEFAULT_ALERT_RULES } from '../src/core/alerts/alert-rules.js';
import { createRandom } from '../src/core/random.js';
import { createSensorModel, DEFAULT_SENSORS } from '../src/core/sensors.js';
import { createLogger } from '../src/observability/logger.js';
import { ask, children, start } from './child-process.js';
import { rawConsume } from './raw-consume.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '400000' },
    devices: { type: 'string', default: '1000' },
    'latency-samples': { type: 'string', default: '300' },
    'latency-interval-ms': { type: 'string', default: '50' },
  },
});
const totalEvents = Math.min(Number(values.events), 20_000_000);
const devices = Math.min(Number(values.devices), 100_000);
const latencySamples = Math.min(Number(values['latency-samples']), 10_000);
const latencyIntervalMs = Math.max(Number(values['latency-interval-ms']), 5);

// Bounded: whatever happens, the bench stops.
const hardStop = setTimeout(() => {
  process.stderr.write('bench:alerts exceeded its time budget; stopping\n');
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
}, 15 * 60_000);
hardStop.unref();

const config = loadConfig(process.env);
const brokers = config.KAFKA_BROKERS;
const suffix = randomBytes(4).toString('hex');
const topics = {
  location: `bench_alert_location_${suffix}`,
  status: `bench_alert_status_${suffix}`,
  alerts: `bench_alerts_${suffix}`,
  state: `bench_alert_state_${suffix}`,
};
const admin = new Admin({ clientId: 'bench-alerts', bootstrapBrokers: brokers });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Source records in event-time order: per device a status every 0.5 s and a fix every 2 s. */
function* sourceRecords(count: number, t0: number): Generator<{ topic: string; key: Buffer; value: Buffer }> {
  const sensors = Array.from({ length: devices }, (_, d) => createSensorModel(DEFAULT_SENSORS, createRandom(d)));
  let n = 0;
  for (let tick = 0; n < count; tick++) {
    for (let d = 0; d < devices && n < count; d++) {
      const device = `dev-${d}`;
      const key = Buffer.from(device);
      const ts = t0 + tick * 500 + (d % 500);
      const r = sensors[d]?.next();
      n++;
      yield {
        topic: topics.status,
        key,
        value: Buffer.from(
          `{"id":"s-${n}","device_id":"${device}","sound":${r?.sound},"temperature":${r?.temperature},"altitude":${r?.altitude},"event_ts":${ts}}`,
        ),
      };
      if (tick % 4 === d % 4 && n < count) {
        n++;
        yield {
          topic: topics.location,
          key,
          value: Buffer.from(
            `{"id":"l-${n}","device_id":"${device}","latitude":${9 + ((d % 100) - 50) / 100},"longitude":${107 + (tick % 100) / 1000},"event_ts":${ts + 1}}`,
          ),
        };
      }
    }
  }
}

async function preProduce(): Promise<void> {
  const producer = createProducer({ clientId: 'bench-alerts-producer', bootstrapBrokers: brokers, compression: 'lz4' });
  const span = Math.round((totalEvents / (devices * 2.25)) * 1000);
  let batch: { topic: string; key: Buffer; value: Buffer }[] = [];
  // Sequential sends on one idempotent producer (see bench/processor.ts).
  for (const record of sourceRecords(totalEvents, Date.now() - span - 60_000)) {
    batch.push(record);
    if (batch.length === 10_000) {
      await producer.send({ messages: batch });
      batch = [];
    }
  }
  if (batch.length > 0) await producer.send({ messages: batch });
  await producer.close();
}

async function catchUp(): Promise<{ elapsedMs: number; changes: number; opened: Record<string, number> }> {
  const component = createAlertComponent({
    brokers,
    clientId: 'bench-alerts',
    groupId: `bench-alerts-${suffix}`,
    topics,
    rules: DEFAULT_ALERT_RULES,
    logger: createLogger({ level: 'warn' }),
    partitions: 3,
  });
  await component.start();
  let started = 0;
  for (;;) {
    const s = component.stats();
    if (s.recordsIn > 0 && started === 0) started = performance.now();
    if (s.recordsIn + s.recordsSkipped >= totalEvents && s.lag === 0) break;
    await sleep(50);
  }
  const elapsedMs = performance.now() - started;
  const s = component.stats();
  await component.stop();
  return { elapsedMs, changes: s.alertChanges, opened: s.opened };
}

const quantile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

/** Reads `/alerts/events` and hands every `alert` event's data to `onAlert`. */
async function followAlerts(
  port: number,
  onAlert: (alert: { type: string; opened_at: number; revision: number }) => void,
) {
  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}/alerts/events`, { signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`/alerts/events answered ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (frame.includes('event: alert') && data) onAlert(JSON.parse(data.slice(6)));
        end = buffer.indexOf('\n\n');
      }
    }
  })();
  return () => controller.abort();
}

async function latency(): Promise<void> {
  const api = await start('api-server.ts');
  const received: number[] = [];
  const stop = await followAlerts(api.port, (alert) => {
    // The opening of each new device's sound episode (their inactive alerts, 10 s later, are not counted).
    if (alert.revision === 1 && alert.type === 'sensor_anomaly') received.push(Date.now() - alert.opened_at);
  });
  await ask(api.child, 'anomalies', 'anomalies-produced', { count: latencySamples, intervalMs: latencyIntervalMs });
  const deadline = Date.now() + 30_000;
  while (received.length < latencySamples && Date.now() < deadline) await sleep(100);
  stop();
  api.child.send({ type: 'stop' });
  const sorted = [...received].sort((a, b) => a - b);
  console.log(
    `detection latency (reading produced with event_ts = now → the opening alert on /alerts/events): ` +
      `${received.length} of ${latencySamples} received, p50 ${quantile(sorted, 0.5)} ms, p99 ${quantile(sorted, 0.99)} ms, ` +
      `max ${sorted.at(-1)} ms`,
  );
}

async function main(): Promise<void> {
  await admin.createTopics({ topics: [topics.location, topics.status], partitions: 3, replicas: 1 });
  try {
    console.log(`alerts benchmark: ${totalEvents.toLocaleString()} pre-produced source records, ${devices} devices`);
    await preProduce();
    const rawMs = await rawConsume(
      brokers,
      [topics.location, topics.status],
      totalEvents,
      `bench-alerts-raw-${suffix}`,
    );
    const rawRate = totalEvents / (rawMs / 1000);
    console.log(`raw consume (plain @platformatic/kafka consumer, same records): ${rawRate.toFixed(0)} records/s`);
    const { elapsedMs, changes, opened } = await catchUp();
    const rate = totalEvents / (elapsedMs / 1000);
    console.log(
      `alert component catch-up: ${rate.toFixed(0)} records/s (${((rate / rawRate) * 100).toFixed(0)} % of raw), ` +
        `${changes.toLocaleString()} alert changes written, opened ${JSON.stringify(opened)} ` +
        '(inactive: caught up, the wall clock is a minute past the last fixes)',
    );
  } finally {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.close();
  }
  if (latencySamples > 0) await latency();
}

await main();
