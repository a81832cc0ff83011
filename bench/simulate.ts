/**
 * Benchmark of the simulators' aggregate production rate to the local broker, next to the broker's raw
 * producer rate for records of the same size and content measured in the same run (Kafka's
 * ProducerPerformance from the broker's own jars, fed with a sample of the simulator's JSON events).
 *
 *   npm run bench:simulate -- [--devices 1000] [--location-interval-ms 50] [--status-interval-ms 20]
 *                             [--duration-ms 15000] [--raw-records 1000000]
 *
 * Both producers use acks=all, idempotence, lz4 and a 5 ms linger (the Java one 256 KiB batches). Topics are unique and deleted at the
 * end. Prints figures only; it asserts nothing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { loadConfig } from '../src/config.js';
import { createSilentLogger } from '../src/observability/logger.js';
import { createDevices, nextLocationEvent, nextStatusEvent } from '../src/simulators/devices.js';
import { resolveSimulation, SPEC_DEFAULTS } from '../src/simulators/simulation-config.js';
import { createSimulatorFromConfig } from '../src/simulators/simulator-from-config.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    'location-interval-ms': { type: 'string', default: '50' },
    'status-interval-ms': { type: 'string', default: '20' },
    'duration-ms': { type: 'string', default: '15000' },
    'raw-records': { type: 'string', default: '1000000' },
    brokers: { type: 'string' },
  },
});
const devices = Number(values.devices);
const locationIntervalMs = Number(values['location-interval-ms']);
const statusIntervalMs = Number(values['status-interval-ms']);
const durationMs = Math.min(Number(values['duration-ms']), 120_000);
const rawRecords = Math.min(Number(values['raw-records']), 5_000_000);

const config = loadConfig({ ...process.env, ...(values.brokers ? { KAFKA_BROKERS: values.brokers } : {}) });
const brokers = config.KAFKA_BROKERS;
const suffix = randomBytes(4).toString('hex');
const topics = { location: `bench_sim_location_${suffix}`, status: `bench_sim_status_${suffix}` };
const rawTopic = `bench_raw_${suffix}`;
const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: brokers });
const workDir = mkdtempSync(join(tmpdir(), 'bench-simulate-'));

/** A sample of the simulator's own events, in the run's location:status proportion, one JSON per line. */
function writePayloadFile(): { file: string; averageBytes: number } {
  const sim = resolveSimulation({ device_count: 100, seed: 1 }, SPEC_DEFAULTS, () => 1);
  const sample = createDevices(sim, 0);
  const statusPerLocation = Math.round(locationIntervalMs / statusIntervalMs);
  const lines: string[] = [];
  for (let i = 0; lines.length < 5000; i++) {
    const device = sample[i % sample.length]!;
    const ts = 1_764_000_000_000 + i * 10;
    lines.push(JSON.stringify(nextLocationEvent(device, ts)));
    for (let k = 0; k < statusPerLocation; k++) lines.push(JSON.stringify(nextStatusEvent(device, ts)));
  }
  const file = join(workDir, 'payloads.txt');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const averageBytes = lines.reduce((sum, l) => sum + Buffer.byteLength(l), 0) / lines.length;
  return { file, averageBytes };
}

async function runSimulator() {
  const limits = { maxDevices: Number.MAX_SAFE_INTEGER, maxEventsPerSecond: Number.POSITIVE_INFINITY };
  const kafka = { brokers, clientId: 'bench-simulate' };
  const simulator = createSimulatorFromConfig(config, kafka, createSilentLogger(), { topics, limits });
  const cpuBefore = process.cpuUsage();
  const started = simulator.startRun({
    device_count: devices,
    location_interval_ms: locationIntervalMs,
    status_interval_ms: statusIntervalMs,
    seed: 1,
  });
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const final = await simulator.stopRun();
  const cpu = process.cpuUsage(cpuBefore);
  const t = final.topics!;
  const sent = t.location.sent + t.status.sent;
  return {
    requested: started.config!.requested_events_per_second,
    sent,
    elapsedS: final.elapsed_ms / 1000,
    rate: sent / (final.elapsed_ms / 1000),
    skipped: t.location.skipped_backpressure + t.status.skipped_backpressure,
    late: t.location.skipped_late + t.status.skipped_late,
    failedSends: final.errors.failed_sends,
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}

function runProducerPerformance(payloadFile: string): Promise<{ rate: number; line: string }> {
  const classpath = execFileSync('npx', ['tsx', 'scripts/infra.ts', 'classpath'], { encoding: 'utf8' }).trim();
  const args = [
    '-Xmx512m',
    '-cp',
    classpath,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    rawTopic,
    '--num-records',
    String(rawRecords),
    '--payload-file',
    payloadFile,
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${brokers.join(',')}`,
    'acks=all',
    'enable.idempotence=true',
    'compression.type=lz4',
    'linger.ms=5',
    // Per-partition batches of up to 256 KiB: comparable to the simulators' 5,000-record requests.
    'batch.size=262144',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', () => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', () => {
      clearTimeout(timer);
      // The summary line: "N records sent, X records/sec (Y MB/sec), ..."
      const summary = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => /records sent, .* records\/sec/.test(l));
      const match = summary ? /records sent, ([\d.]+) records\/sec/.exec(summary) : null;
      if (!match || !summary) reject(new Error(`ProducerPerformance printed no summary:\n${out}`));
      else resolve({ rate: Number(match[1]), line: summary });
    });
  });
}

async function main() {
  await admin.createTopics({ topics: [...Object.values(topics), rawTopic], partitions: 3, replicas: 1 });
  try {
    const { file, averageBytes } = writePayloadFile();
    console.log(
      `simulators: ${devices} devices, location every ${locationIntervalMs} ms, status every ${statusIntervalMs} ms, ` +
        `for ${durationMs / 1000} s; batch ${config.SIMULATOR_BATCH_SIZE}, linger ${config.SIMULATOR_LINGER_MS} ms, ` +
        `${config.SIMULATOR_COMPRESSION}, acks=all, idempotent`,
    );
    const sim = await runSimulator();
    console.log(
      `raw: ProducerPerformance, ${rawRecords} records of the simulator's events (avg ${averageBytes.toFixed(0)} B)`,
    );
    const raw = await runProducerPerformance(file);

    console.log('');
    console.log(`requested by the simulators      ${sim.requested.toFixed(0)} events/s`);
    console.log(
      `simulators (this process)        ${sim.rate.toFixed(0)} events/s  (${sim.sent} acknowledged in ` +
        `${sim.elapsedS.toFixed(1)} s; CPU ${sim.cpuS.toFixed(1)} s; skipped by backpressure ${sim.skipped}, ` +
        `late ${sim.late}; failed sends ${sim.failedSends})`,
    );
    console.log(`Kafka ProducerPerformance (raw)  ${raw.rate.toFixed(0)} events/s  (${raw.line.trim()})`);
    console.log(`ratio simulators / raw           ${(sim.rate / raw.rate).toFixed(2)}`);
    console.log(`target ≥ 50000 events/s          ${sim.rate >= 50_000 ? 'met' : 'NOT met'}`);
  } finally {
    await admin.deleteTopics({ topics: [...Object.values(topics), rawTopic] }).catch(() => undefined);
    await admin.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
