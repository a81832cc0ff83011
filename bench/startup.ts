/**
 * Start-up of the embedded stream layer (issue 15): time to ready and memory after `--windows` stored 2-second
 * windows, against an empty start, and against the old behaviour (a full replay, `STREAM_WINDOWS_HORIZON_MS=0`),
 * all in the same run.
 *
 *   npm run bench:startup -- [--windows 1000000] [--devices 3] [--runs 3] [--timeout-s 1200]
 *
 * 1. Creates unique topics as the processor does (3 partitions; per2s compact,delete but kept whole, per-device
 *    compacted) and produces `windows` per2s records in event-time order, `windows / devices` per
 *    device, one every 2 s of event time ending now, with the processor's keys (windowed), JSON values and record
 *    timestamps, plus one per-device record per device. A second pair of topics stays empty. The default, 3
 *    devices (the simulator's default), makes 1 million windows 7.7 days of history: what KAFKA_RETENTION_MS
 *    (7 days) keeps of the default run. The bounded start reads about devices × horizon / 2 s records, so more
 *    devices cost more (they are also what it must hold); more history does not.
 * 2. Starts the stream layer `--runs` times per case, each in a fresh child process (`bench/startup-child.ts`,
 *    with `--expose-gc`): empty topics; the stored windows with the default horizon; the stored windows replayed
 *    whole. Each start is timed from `start()` to ready and from the process's start (node and module loading,
 *    as an API instance's own start) to ready; then RSS and the heap after a GC are read.
 * 3. Prints every sample, the medians and the bounded start's ratio to the empty one. Topics are deleted at the
 *    end; the whole run is bounded by `--timeout-s`. Loopback only; figures only, no assertions.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Admin, type MessageToProduce } from '@platformatic/kafka';
import { createProducer } from '../src/bus/producer.js';
import { tableTopicConfigs, windowedTableTopicConfigs } from '../src/bus/topic-configs.js';
import { loadConfig } from '../src/config.js';
import { encodeWindowedKey } from '../src/core/results.js';
import type { StartupSample } from './startup-child.js';

const { values } = parseArgs({
  options: {
    windows: { type: 'string', default: '1000000' },
    devices: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    'timeout-s': { type: 'string', default: '1200' },
  },
});
const totalWindows = Math.min(Number(values.windows), 20_000_000);
const devices = Math.min(Number(values.devices), 100_000);
const runs = Math.min(Number(values.runs), 20);
const timeoutMs = Math.min(Number(values['timeout-s']), 7200) * 1000;

const config = loadConfig(process.env);
const brokers = config.KAFKA_BROKERS;
const perDevice = config.STREAM_WINDOWS_PER_DEVICE;
const horizonMs = config.STREAM_WINDOWS_HORIZON_MS;
const suffix = randomBytes(4).toString('hex');
const topics = {
  windows: `bench_startup_per2s_${suffix}`,
  latest: `bench_startup_perdevice_${suffix}`,
  emptyWindows: `bench_startup_empty_per2s_${suffix}`,
  emptyLatest: `bench_startup_empty_perdevice_${suffix}`,
};
const admin = new Admin({ clientId: 'bench-startup', bootstrapBrokers: brokers });
const here = new URL('.', import.meta.url).pathname;
const children = new Set<ChildProcess>();
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

async function createTopics() {
  // Kept whole (-1): 3 devices' million windows span 7.7 days, and a retention check deleting the oldest segment
  // during the run would change what the full replay reads.
  const windowed = windowedTableTopicConfigs(-1);
  const table = tableTopicConfigs();
  const asList = (c: Record<string, string>) => Object.entries(c).map(([name, value]) => ({ name, value }));
  // 1.x creates one config set per call (local-infrastructure.md §4.4).
  await admin.createTopics({
    topics: [topics.windows, topics.emptyWindows],
    partitions: 3,
    replicas: 1,
    configs: asList(windowed),
  });
  await admin.createTopics({
    topics: [topics.latest, topics.emptyLatest],
    partitions: 3,
    replicas: 1,
    configs: asList(table),
  });
}

/** A per2s value as the processor writes it (WindowAggregateRecord, JSON). */
function windowValue(device: string, start: number, n: number): Buffer {
  const lat = 9 + ((n * 7919) % 1000) / 100_000;
  const lon = 107 + ((n * 104_729) % 1000) / 100_000;
  return Buffer.from(
    JSON.stringify({
      ID: `${device}_${start}_${start + 2000}`,
      dev_id: device,
      LATITUDE: lat,
      LONGITUDE: lon,
      DISTANCE: Math.hypot(lat - 9, lon - 107) * 111.2,
      EVENT_TS: start + 1500,
      EVENT_COUNT: 5,
      AVG_TEMP: 20 + (n % 100) / 10,
      AVG_SOUND: 30 + (n % 200) / 10,
      AVG_ALT: 1000 + (n % 1000),
      WINDOW_START: start,
      WINDOW_END: start + 2000,
    }),
  );
}

async function produce(): Promise<number> {
  const producer = createProducer({
    clientId: 'bench-startup-producer',
    bootstrapBrokers: brokers,
    compression: 'lz4',
  });
  const started = performance.now();
  const windowsPerDevice = Math.ceil(totalWindows / devices);
  // Event time ends now (the layer measures its horizon back from each partition's newest record).
  const first = Math.floor((Date.now() - windowsPerDevice * 2000) / 2000) * 2000;
  let batch: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = [];
  let n = 0;
  // Sequential sends of one batch each: ordered per partition, as the processor writes.
  for (let k = 0; n < totalWindows; k++) {
    const start = first + k * 2000;
    for (let d = 0; d < devices && n < totalWindows; d++, n++) {
      const device = `dev-${d}`;
      batch.push({
        topic: topics.windows,
        key: encodeWindowedKey(device, start),
        value: windowValue(device, start, n),
        timestamp: BigInt(start + 1500),
      });
      if (batch.length === 2000) {
        await producer.send({ messages: batch });
        batch = [];
      }
    }
  }
  for (let d = 0; d < devices; d++) {
    const device = `dev-${d}`;
    const latest = {
      LATITUDE: 9,
      LONGITUDE: 107,
      DISTANCE: 0,
      EVENT_TS: Date.now(),
      TEMPERATURE: 25,
      SOUND: 40,
      ALTITUDE: 1500,
    };
    batch.push({ topic: topics.latest, key: Buffer.from(device), value: Buffer.from(JSON.stringify(latest)) });
  }
  await producer.send({ messages: batch });
  await producer.close();
  const ends = await admin.listOffsets({
    topics: [
      { name: topics.windows, partitions: [0, 1, 2].map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) },
    ],
  });
  const written = ends.flatMap((t) => t.partitions).reduce((sum, p) => sum + Number(p.offset), 0);
  if (written !== totalWindows) throw new Error(`produced ${written} windows, expected ${totalWindows}`);
  return performance.now() - started;
}

function startOnce(windowsTopic: string, latestTopic: string, horizon: number): Promise<StartupSample> {
  const child = fork(
    join(here, 'startup-child.ts'),
    [brokers.join(','), windowsTopic, latestTopic, String(perDevice), String(horizon)],
    {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  children.add(child);
  return new Promise((resolve, reject) => {
    child.once('message', (m: StartupSample) => resolve(m));
    child.once('exit', (code) => {
      children.delete(child);
      reject(new Error(`startup-child exited with ${code} before reporting`));
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

function report(label: string, samples: StartupSample[]) {
  for (const s of samples) {
    console.log(
      `  ${label.padEnd(26)} ready ${String(Math.round(s.readyMs)).padStart(6)} ms  process ${String(Math.round(s.processReadyMs)).padStart(6)} ms  rss ${mb(s.rssBytes).padStart(7)}  heap ${mb(s.heapUsedBytes).padStart(7)}  read ${String(s.recordsRead).padStart(8)}  windows held ${String(s.windowsHeld).padStart(7)}`,
    );
  }
  return {
    label,
    readyMs: median(samples.map((s) => s.readyMs)),
    processMs: median(samples.map((s) => s.processReadyMs)),
    rss: median(samples.map((s) => s.rssBytes)),
    heap: median(samples.map((s) => s.heapUsedBytes)),
    read: median(samples.map((s) => s.recordsRead)),
    held: median(samples.map((s) => s.windowsHeld)),
  };
}

async function main() {
  console.log(
    `bench:startup: ${totalWindows} windows, ${devices} devices (${Math.ceil(totalWindows / devices)} each, ${((Math.ceil(totalWindows / devices) * 2) / 3600).toFixed(1)} h of event time), ` +
      `STREAM_WINDOWS_PER_DEVICE=${perDevice}, STREAM_WINDOWS_HORIZON_MS=${horizonMs}, ${runs} run(s) per case`,
  );
  await createTopics();
  const producedMs = await produce();
  console.log(`produced ${totalWindows} windows in ${(producedMs / 1000).toFixed(1)} s`);
  const cases: [string, string, string, number][] = [
    ['empty topics', topics.emptyWindows, topics.emptyLatest, horizonMs],
    [`${totalWindows} windows, horizon`, topics.windows, topics.latest, horizonMs],
    [`${totalWindows} windows, full replay`, topics.windows, topics.latest, 0],
  ];
  const samples = new Map<string, StartupSample[]>(cases.map(([label]) => [label, []]));
  // Interleaved, so that a slower moment of the shared machine does not fall on one case only.
  for (let run = 0; run < runs; run++) {
    for (const [label, w, l, h] of cases) samples.get(label)?.push(await startOnce(w, l, h));
  }
  console.log('\nsamples (start() to ready; RSS and heap after a GC, once ready):');
  const medians = cases.map(([label]) => report(label, samples.get(label) ?? []));
  console.log('\nmedians:');
  console.log('  case                           ready ms  process ms  rss      heap     records read  windows held');
  for (const m of medians) {
    console.log(
      `  ${m.label.padEnd(30)} ${String(Math.round(m.readyMs)).padStart(8)}  ${String(Math.round(m.processMs)).padStart(10)}  ${mb(m.rss).padStart(7)}  ${mb(m.heap).padStart(7)}  ${String(m.read).padStart(12)}  ${String(m.held).padStart(12)}`,
    );
  }
  const [empty, bounded, full] = medians as [(typeof medians)[0], (typeof medians)[0], (typeof medians)[0]];
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  console.log('\nagainst the empty start (goal: bounded ≤ 2×):');
  console.log(
    `  start() to ready:        bounded ${ratio(bounded.readyMs, empty.readyMs)}, full replay ${ratio(full.readyMs, empty.readyMs)}`,
  );
  console.log(
    `  process start to ready:  bounded ${ratio(bounded.processMs, empty.processMs)}, full replay ${ratio(full.processMs, empty.processMs)}`,
  );
  console.log(
    `  RSS:                     bounded ${ratio(bounded.rss, empty.rss)}, full replay ${ratio(full.rss, empty.rss)}`,
  );
}

const deadline = setTimeout(() => {
  console.error(`bench:startup: over --timeout-s (${timeoutMs / 1000} s), stopping`);
  for (const child of children) child.kill('SIGKILL');
  void cleanUp().finally(() => process.exit(1));
}, timeoutMs);
deadline.unref();

async function cleanUp() {
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.close().catch(() => undefined);
}

try {
  await main();
} finally {
  clearTimeout(deadline);
  for (const child of children) child.kill('SIGKILL');
  await cleanUp();
}
