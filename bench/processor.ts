/**
 * Benchmark of the embedded stream processor on the local broker, with the raw consume rate of the very same
 * records measured in the same run as the reference.
 *
 *   npm run bench:processor -- [--events 2000000] [--devices 1000] [--live-seconds 60] [--live-rate 20000] [--rounds 2]
 *
 * 1. Pre-produces `events` source records (per device: a status every 0.5 s and a location every 2 s of event
 *    time, all inside the geofence) to fresh topics with 3 partitions.
 * 2. Raw reference: a plain @platformatic/kafka consumer reads all of them (no decoding).
 * 3. Catch-up: the processor (default settings: coalesce, 1 s flush, 120 s grace) processes the same topics from
 *    the start, at-least-once and exactly-once in --rounds rounds (default 2) of alternating order, each run with
 *    its own output topics and group; prints sustained input events/s, its share of the raw rate, memory, and
 *    exactly-once against at-least-once from the summed catch-up times.
 * 4. Live (if --live-seconds > 0), on the last catch-up's processor: a producer writes at --live-rate events/s with event time = wall time while the
 *    processor runs; prints the end-to-end latency (output record arrival − its event timestamp) of the per-2s
 *    table and the processor's memory every 10 s, to show whether memory stays flat.
 * Run with `node --expose-gc --import tsx bench/processor.ts …` to force a GC before each memory sample: heapUsed is
 * then what is retained. Topics are unique and deleted at the end. Loopback only; figures only, no assertions.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Admin, Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { createProducer } from '../src/bus/producer.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/observability/logger.js';
import { createStreamProcessor, type ProcessorTopics, type StreamProcessor } from '../src/processor/processor.js';
import type { DeliveryGuarantee } from '../src/processor/processor-options.js';
import { rawConsume } from './raw-consume.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '2000000' },
    devices: { type: 'string', default: '1000' },
    'live-seconds': { type: 'string', default: '60' },
    'live-rate': { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '2' },
  },
});
const totalEvents = Math.min(Number(values.events), 50_000_000);
const devices = Math.min(Number(values.devices), 1_000_000);
const liveSeconds = Math.min(Number(values['live-seconds']), 3600);
const liveRate = Math.min(Number(values['live-rate']), 500_000);
const rounds = Math.max(1, Math.min(Number(values.rounds), 10));

const config = loadConfig(process.env);
const brokers = config.KAFKA_BROKERS;
const suffix = randomBytes(4).toString('hex');
const topics: ProcessorTopics = {
  location: `bench_location_${suffix}`,
  status: `bench_status_${suffix}`,
  joinEvents: `bench_join_${suffix}`,
  per2s: `bench_per2s_${suffix}`,
  perDevice: `bench_perdevice_${suffix}`,
  deadLetters: `bench_dlq_${suffix}`,
  checkpoints: `bench_checkpoints_${suffix}`,
};
/** Output topics of one catch-up run (the sources are shared). */
const runTopics = (guarantee: DeliveryGuarantee, round = 0): ProcessorTopics => {
  const tag = `${guarantee === 'exactly-once' ? 'eos' : 'alos'}${round}`;
  return {
    ...topics,
    joinEvents: `${topics.joinEvents}_${tag}`,
    per2s: `${topics.per2s}_${tag}`,
    perDevice: `${topics.perDevice}_${tag}`,
    deadLetters: `${topics.deadLetters}_${tag}`,
    checkpoints: `${topics.checkpoints}_${tag}`,
  };
};
const GUARANTEES: DeliveryGuarantee[] = ['at-least-once', 'exactly-once'];
const admin = new Admin({ clientId: 'bench-processor', bootstrapBrokers: brokers });
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Source events in event-time order; `t0` is the event time of the first one. */
function* sourceEvents(count: number, t0: number): Generator<{ topic: string; key: Buffer; value: Buffer }> {
  let n = 0;
  for (let tick = 0; n < count; tick++) {
    const t = tick * 500;
    for (let d = 0; d < devices && n < count; d++) {
      const device = `dev-${d}`;
      const key = Buffer.from(device);
      const ts = t0 + t + (d % 500);
      n++;
      yield {
        topic: topics.status,
        key,
        value: Buffer.from(
          `{"id":"s-${n}","device_id":"${device}","sound":${30 + (n % 20)},"temperature":${20 + (n % 10)},"altitude":${1000 + (n % 1000)},"event_ts":${ts}}`,
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

async function preProduce(): Promise<number> {
  const producer = createProducer({
    clientId: 'bench-producer',
    bootstrapBrokers: brokers,
    idempotent: true,
    compression: 'lz4',
  });
  const started = performance.now();
  let batch: { topic: string; key: Buffer; value: Buffer }[] = [];
  // Sequential sends: concurrent sends on one idempotent producer lost whole batches with @platformatic/kafka
  // 1.35 in this benchmark (acknowledged, never written).
  // Event time ends about now: the broker refuses output timestamps more than an hour ahead.
  const span = (totalEvents / (devices * 2.5)) * 1000;
  for (const event of sourceEvents(totalEvents, Date.now() - span - 60_000)) {
    batch.push(event);
    if (batch.length === 10_000) {
      await producer.send({ messages: batch });
      batch = [];
    }
  }
  if (batch.length > 0) await producer.send({ messages: batch });
  await producer.close();
  const ends = await Promise.all(
    [topics.location, topics.status].map((topic) =>
      admin.listOffsets({
        topics: [{ name: topic, partitions: [0, 1, 2].map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) }],
      }),
    ),
  );
  const written = ends.flat().reduce((n, t) => n + t.partitions.reduce((m, p) => m + Number(p.offset), 0), 0);
  if (written !== totalEvents) throw new Error(`produced ${written} records, expected ${totalEvents}`);
  return performance.now() - started;
}

function newProcessor(guarantee: DeliveryGuarantee, round: number): StreamProcessor {
  return createStreamProcessor({
    brokers,
    clientId: 'bench',
    groupId: `bench-processor-${suffix}-${guarantee}-${round}`,
    topics: runTopics(guarantee, round),
    guarantee,
    logger: createLogger({ level: 'warn' }),
    graceMs: config.PROCESSOR_GRACE_MS,
    emitMode: config.PROCESSOR_EMIT_MODE,
    flushIntervalMs: config.PROCESSOR_FLUSH_INTERVAL_MS,
    idleWaitMs: config.PROCESSOR_IDLE_WAIT_MS,
    partitions: 3,
  });
}

async function catchUp(processor: StreamProcessor): Promise<{ elapsed: number; heap: number[] }> {
  const heap: number[] = [];
  let started = 0;
  for (;;) {
    const s = processor.stats();
    const taken = s.recordsIn + s.deadLetters;
    if (taken > 0 && started === 0) started = performance.now();
    // Done when every input record is processed and every output it caused is written.
    if (taken >= totalEvents && s.lag === 0 && s.pendingOutputs === 0) break;
    heap.push(process.memoryUsage().heapUsed);
    await sleep(50);
  }
  return { elapsed: performance.now() - started, heap };
}

/** The live phase, on the last catch-up's processor, which writes its windows to `per2s`. */
async function live(processor: StreamProcessor, per2s: string): Promise<void> {
  const producer = createProducer({
    clientId: 'bench-live',
    bootstrapBrokers: brokers,
    idempotent: true,
    compression: 'lz4',
  });
  const reader = new Consumer({
    clientId: 'bench-latency',
    groupId: `bench-latency-${suffix}`,
    bootstrapBrokers: brokers,
    maxWaitTime: 50,
  });
  const stream = await reader.consume({
    topics: [per2s],
    mode: MessagesStreamModes.LATEST,
    autocommit: false,
  });
  const latencies: number[] = [];
  stream.on('data', (m: { timestamp: bigint }) => latencies.push(Date.now() - Number(m.timestamp)));
  const perTick = Math.max(1, Math.round(liveRate / 20));
  const generator = sourceEvents(Number.MAX_SAFE_INTEGER, 0);
  const start = Date.now();
  let sent = 0;
  let nextReport = start + 10_000;
  console.log('\nlive: second  input/s  p50 ms  p99 ms  max ms  lag rec  heapUsed  rss');
  while (Date.now() - start < liveSeconds * 1000) {
    const tickStart = Date.now();
    const messages = [];
    for (let i = 0; i < perTick; i++) {
      const e = generator.next().value as { topic: string; key: Buffer; value: Buffer };
      // Event time = now, so the output timestamp measures end-to-end latency.
      const text = e.value.toString().replace(/"event_ts":\d+/, `"event_ts":${Date.now()}`);
      messages.push({ ...e, value: Buffer.from(text) });
    }
    await producer.send({ messages });
    sent += messages.length;
    if (Date.now() >= nextReport) {
      const sorted = latencies.splice(0).sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
      // Under `node --expose-gc`, the retained heap rather than a point on the GC sawtooth.
      global.gc?.();
      const mem = process.memoryUsage();
      const second = Math.round((Date.now() - start) / 1000);
      console.log(
        `      ${String(second).padStart(6)}  ${String(Math.round(sent / ((Date.now() - start) / 1000))).padStart(7)}  ${String(q(0.5)).padStart(6)}  ${String(q(0.99)).padStart(6)}  ${String(sorted.at(-1) ?? Number.NaN).padStart(6)}  ${String(processor.stats().lag).padStart(7)}  ${mb(mem.heapUsed).padStart(8)}  ${mb(mem.rss)}`,
      );
      nextReport += 10_000;
    }
    await sleep(Math.max(0, 50 - (Date.now() - tickStart)));
  }
  await stream.close();
  await Promise.all([reader.close(true), producer.close()]);
}

async function main(): Promise<void> {
  await admin.createTopics({ topics: [topics.location, topics.status], partitions: 3, replicas: 1 });
  try {
    console.log(
      `processor benchmark: ${totalEvents.toLocaleString()} pre-produced source records, ${devices} devices, 3 partitions`,
    );
    const produceMs = await preProduce();
    console.log(`pre-produce: ${(totalEvents / (produceMs / 1000)).toFixed(0)} records/s`);

    const rawMs = await rawConsume(brokers, [topics.location, topics.status], totalEvents, `bench-raw-${suffix}`);
    const rawRate = totalEvents / (rawMs / 1000);
    console.log(`raw consume (plain @platformatic/kafka consumer, same records): ${rawRate.toFixed(0)} records/s`);

    // Catch-up time per guarantee, summed over rounds whose order alternates (ABBA…): the machine's pace drifts.
    const elapsedOf = new Map<DeliveryGuarantee, number>();
    let processor: StreamProcessor | undefined;
    const runs = Array.from({ length: rounds }, (_, r) =>
      (r % 2 === 0 ? GUARANTEES : [...GUARANTEES].reverse()).map((guarantee) => ({ guarantee, round: r })),
    ).flat();
    for (const { guarantee, round } of runs) {
      await processor?.stop();
      global.gc?.();
      processor = newProcessor(guarantee, round);
      await processor.start();
      const { elapsed, heap } = await catchUp(processor);
      const rate = totalEvents / (elapsed / 1000);
      elapsedOf.set(guarantee, (elapsedOf.get(guarantee) ?? 0) + elapsed);
      const s = processor.stats();
      console.log(
        `processor catch-up, ${guarantee}: ${rate.toFixed(0)} input events/s (${((rate / rawRate) * 100).toFixed(0)} % of raw), ` +
          `${s.joinRows.toLocaleString()} join rows, ${s.lateRowsDropped} late, ${s.deadLetters} dead letters, ${s.flushes} flushes`,
      );
      const half = heap.slice(Math.floor(heap.length / 2));
      console.log(
        `  heapUsed during catch-up: max ${mb(Math.max(...heap))}, second half min ${mb(Math.min(...half))} / max ${mb(Math.max(...half))}`,
      );
    }
    const ratio = (elapsedOf.get('at-least-once') ?? 0) / (elapsedOf.get('exactly-once') ?? 1);
    console.log(
      `exactly-once / at-least-once throughput: ${ratio.toFixed(2)} (same records, same run, ${rounds} round(s), order alternating)`,
    );
    const last = runs.at(-1);
    if (processor && last && liveSeconds > 0) await live(processor, runTopics(last.guarantee, last.round).per2s);
    await processor?.stop();
  } finally {
    const all = [
      ...new Set(
        Array.from({ length: rounds }, (_, r) => GUARANTEES.flatMap((g) => Object.values(runTopics(g, r)))).flat(),
      ),
    ];
    await admin.deleteTopics({ topics: all }).catch(() => undefined);
    await admin.close();
  }
}

await main();
