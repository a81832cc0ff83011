/**
 * Benchmark of the embedded warehouse sink: rows/s upserted into PostgreSQL from the output topics, next to
 * the raw rate of COPY-ing the same rows into plain tables (no keys, no indexes) measured in the same run.
 * Also times the two write methods of `warehouse-writer.ts` (unnest upsert vs COPY into staging + upsert) on
 * the same rows without Kafka, which is how the default was chosen.
 *
 *   npm run bench:sink -- [--devices 1000] [--windows 20] [--updates 5] [--batch-size 5000] [--method unnest|copy]
 *
 * Records: devices × windows × updates per-window updates (growing counts, as EMIT CHANGES emits them) plus as
 * many per-device updates. Topics and the schema are unique and dropped at the end. Prints figures only.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { createProducer } from '../src/bus/producer.js';
import { loadConfig } from '../src/config.js';
import { encodeWindowedKey } from '../src/core/results.js';
import { createSilentLogger } from '../src/observability/logger.js';
import { createDatabase } from '../src/sink/database.js';
import { migrate } from '../src/sink/migrate.js';
import type { DeviceRow, WindowRow } from '../src/sink/rows.js';
import { createWarehouseSink } from '../src/sink/warehouse-sink.js';
import { createWarehouseWriter } from '../src/sink/warehouse-writer.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    windows: { type: 'string', default: '20' },
    updates: { type: 'string', default: '5' },
    'batch-size': { type: 'string', default: '5000' },
    method: { type: 'string', default: 'unnest' },
  },
});
const devices = Math.min(Number(values.devices), 20_000);
const windows = Math.min(Number(values.windows), 200);
const updates = Math.min(Number(values.updates), 20);
const batchSize = Number(values['batch-size']);
const method = values.method === 'copy' ? 'copy' : 'unnest';

const config = loadConfig(process.env);
const suffix = randomBytes(4).toString('hex');
const schema = `bench_sink_${suffix}`;
const topics = { windows: `bench_per2s_${suffix}`, devices: `bench_perdevice_${suffix}` };
const sql = createDatabase({ url: config.DATABASE_URL, poolMax: 4, schema });
const admin = new Admin({ clientId: 'bench-sink', bootstrapBrokers: config.KAFKA_BROKERS });

function generate() {
  const windowRows: WindowRow[] = [];
  const deviceRows: DeviceRow[] = [];
  let seq = 0;
  for (let w = 0; w < windows; w++) {
    for (let u = 1; u <= updates; u++) {
      for (let d = 0; d < devices; d++) {
        const start = 1_800_000_000_000 + w * 2000;
        const device = `dev-${d}`;
        windowRows.push({
          id: `${device}_${start}_${start + 2000}`,
          device_id: device,
          window_start: start,
          window_end: start + 2000,
          latitude: 9 + Math.random(),
          longitude: 107 + Math.random(),
          distance: Math.random() * 100,
          event_ts: start + u,
          event_count: u,
          avg_temp: 20 + Math.random(),
          avg_sound: 60 + Math.random(),
          avg_alt: 300 + Math.random(),
          kafka_partition: 0,
          kafka_offset: BigInt(seq),
        });
        deviceRows.push({
          device_id: device,
          latitude: 9 + Math.random(),
          longitude: 107 + Math.random(),
          distance: Math.random() * 100,
          event_ts: start + u,
          temperature: u % 2 === 0 ? 20 + Math.random() : null,
          sound: 55.5,
          altitude: 300.25,
          kafka_partition: 0,
          kafka_offset: BigInt(seq++),
        });
      }
    }
  }
  return { windowRows, deviceRows };
}

const windowRecord = (r: WindowRow) => ({
  ID: r.id,
  dev_id: r.device_id,
  LATITUDE: r.latitude,
  LONGITUDE: r.longitude,
  DISTANCE: r.distance,
  EVENT_TS: r.event_ts,
  EVENT_COUNT: r.event_count,
  AVG_TEMP: r.avg_temp,
  AVG_SOUND: r.avg_sound,
  AVG_ALT: r.avg_alt,
  WINDOW_START: r.window_start,
  WINDOW_END: r.window_end,
});
const deviceRecord = (r: DeviceRow) => ({
  LATITUDE: r.latitude,
  LONGITUDE: r.longitude,
  DISTANCE: r.distance,
  EVENT_TS: r.event_ts,
  TEMPERATURE: r.temperature,
  SOUND: r.sound,
  ALTITUDE: r.altitude,
});

async function produce(windowRows: WindowRow[], deviceRows: DeviceRow[]) {
  const producer = createProducer({
    clientId: 'bench-sink-producer',
    bootstrapBrokers: config.KAFKA_BROKERS,
    idempotent: true,
  });
  const messages = [
    ...windowRows.map((r) => ({
      topic: topics.windows,
      key: encodeWindowedKey(r.device_id, r.window_start),
      value: Buffer.from(JSON.stringify(windowRecord(r))),
    })),
    ...deviceRows.map((r) => ({
      topic: topics.devices,
      key: Buffer.from(r.device_id),
      value: Buffer.from(JSON.stringify(deviceRecord(r))),
    })),
  ];
  for (let i = 0; i < messages.length; i += 5000) await producer.send({ messages: messages.slice(i, i + 5000) });
  await producer.close();
}

async function truncate() {
  await sql`truncate device_winagg_status_per2s, device_winagg_status_perdevice`;
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** The reference: COPY of the same rows into tables with the same columns and nothing else. */
async function rawCopy(windowRows: WindowRow[], deviceRows: DeviceRow[]): Promise<number> {
  await sql.unsafe(`create table raw_per2s (id text, device_id text, window_start bigint, window_end bigint,
    latitude float8, longitude float8, distance float8, event_ts bigint, event_count bigint, avg_temp float8,
    avg_sound float8, avg_alt float8, kafka_partition int, kafka_offset bigint)`);
  await sql.unsafe(`create table raw_perdevice (device_id text, latitude float8, longitude float8, distance float8,
    event_ts bigint, temperature float8, sound float8, altitude float8, kafka_partition int, kafka_offset bigint)`);
  const copy = async (table: string, rows: object[]) => {
    const cell = (v: unknown) => (v === null || v === undefined ? '\\N' : String(v));
    const lines = function* () {
      for (const r of rows) yield `${Object.values(r).map(cell).join('\t')}\n`;
    };
    const writable = await sql.unsafe(`copy ${table} from stdin`).writable();
    await pipeline(Readable.from(lines()), writable);
  };
  return timeIt(async () => {
    await copy('raw_per2s', windowRows);
    await copy('raw_perdevice', deviceRows);
  });
}

async function writerOnly(kind: 'unnest' | 'copy', windowRows: WindowRow[], deviceRows: DeviceRow[]) {
  await truncate();
  const writer = createWarehouseWriter(sql, { schema, method: kind });
  // The sink's batches hold both topics' records; half of each batch from each topic here.
  const half = Math.max(1, Math.floor(batchSize / 2));
  return timeIt(async () => {
    for (let i = 0; i < windowRows.length; i += half) {
      await writer.write(windowRows.slice(i, i + half), deviceRows.slice(i, i + half));
    }
  });
}

async function sinkRun(total: number): Promise<{ total: number; steady: number }> {
  await truncate();
  const sink = createWarehouseSink({
    sql,
    schema,
    kafka: { brokers: config.KAFKA_BROKERS, clientId: 'bench-sink' },
    logger: createSilentLogger(),
    groupId: `bench-sink-${suffix}-${method}`,
    topics: { ...topics },
    batchSize,
    flushIntervalMs: 50,
    highWaterMark: Math.max(2048, batchSize),
  });
  const t0 = performance.now();
  let tFirst = 0;
  await sink.start();
  const deadline = Date.now() + 180_000;
  while (sink.stats().recordsCommitted < total) {
    if (tFirst === 0 && sink.stats().recordsConsumed > 0) tFirst = performance.now();
    if (Date.now() > deadline) throw new Error(`sink did not finish: ${JSON.stringify(sink.stats())}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const t1 = performance.now();
  await sink.stop();
  return { total: (t1 - t0) / 1000, steady: (t1 - tFirst) / 1000 };
}

async function main() {
  const { windowRows, deviceRows } = generate();
  const total = windowRows.length + deviceRows.length;
  await admin.createTopics({ topics: Object.values(topics), partitions: 3, replicas: 1 });
  await sql.unsafe(`create schema ${schema}`);
  await migrate(sql, { schema });
  console.log(`records: ${windowRows.length} per-window + ${deviceRows.length} per-device updates = ${total}`);
  console.log(`distinct rows: ${devices * windows} windows, ${devices} devices; batch size ${batchSize}`);
  await produce(windowRows, deviceRows);

  const sink = await sinkRun(total);
  const unnest = await writerOnly('unnest', windowRows, deviceRows);
  const copyStage = await writerOnly('copy', windowRows, deviceRows);
  const raw = await rawCopy(windowRows, deviceRows);

  const rate = (s: number) => Math.round(total / s);
  const rows = [
    [`sink from Kafka (${method}), incl. group join`, rate(sink.total)],
    [`sink from Kafka (${method}), from first record`, rate(sink.steady)],
    ['writer only: unnest upsert', rate(unnest)],
    ['writer only: COPY to staging + upsert', rate(copyStage)],
    ['reference: raw COPY into plain tables', rate(raw)],
  ] as const;
  console.log('');
  for (const [label, r] of rows) console.log(`${label.padEnd(48)} ${String(r).padStart(9)} rows/s`);
  console.log(
    `\nsink (from first record) / raw COPY = ${((100 * rate(sink.steady)) / rate(raw)).toFixed(1)} % (target ≥ 30 %)`,
  );
}

try {
  await main();
} finally {
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.close();
  await sql.unsafe(`drop schema if exists ${schema} cascade`).catch(() => undefined);
  await sql.end({ timeout: 5 });
}
