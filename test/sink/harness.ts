/**
 * Support for the sink's integration tests: produce output records the way the processor does, compute the
 * tables they must end in, read the tables back, and wait for conditions.
 */
import { expect } from 'vitest';
import { createProducer, type Producer } from '../../src/bus/producer.js';
import type { DeviceLatestRecord, WindowAggregateRecord } from '../../src/core/results.js';
import type { Sql } from '../../src/sink/database.js';
import { brokers } from '../helpers/kafka.js';
import { DEVICE_SELECT, deviceRecord, WINDOW_SELECT, windowKey, windowRecord } from './fixtures.js';

export interface OutputTopics {
  windows: string;
  devices: string;
}

export interface Produced {
  windows: WindowAggregateRecord[];
  devices: { device: string; record: DeviceLatestRecord }[];
}

export function createOutputProducer() {
  // Idempotent: a retried produce request to freshly created topics must not write a record twice, or the
  // offset counts the tests compare would be off.
  return createProducer({ clientId: 'test-sink-producer', bootstrapBrokers: brokers(), idempotent: true });
}

/**
 * Updates for `devices` devices over `windowsPerDevice` windows, each window emitted `updates` times with a
 * growing count, like the processor's EMIT CHANGES output; `replay` re-emits the first update of every window
 * afterwards, as a restarted processor would (older content at a higher offset).
 */
export function generateOutputs(opts: {
  devices: number;
  windowsPerDevice: number;
  updates: number;
  replay?: boolean;
  firstWindow?: number;
  seqBase?: number;
}): Produced {
  const out: Produced = { windows: [], devices: [] };
  const first = opts.firstWindow ?? 0;
  let seq = opts.seqBase ?? 0;
  for (let w = first; w < first + opts.windowsPerDevice; w++) {
    for (let u = 1; u <= opts.updates; u++) {
      for (let d = 0; d < opts.devices; d++) {
        out.windows.push(windowRecord(`dev-${d}`, w * 2000, u));
        out.devices.push({ device: `dev-${d}`, record: deviceRecord(seq++, u % 2 === 0) });
      }
    }
  }
  if (opts.replay) {
    for (let w = first; w < first + opts.windowsPerDevice; w++) {
      for (let d = 0; d < opts.devices; d++) out.windows.push(windowRecord(`dev-${d}`, w * 2000, 1));
    }
  }
  return out;
}

export async function produceOutputs(producer: Producer, topics: OutputTopics, produced: Produced, chunk = 500) {
  const messages = [
    ...produced.windows.map((r) => ({
      topic: topics.windows,
      key: windowKey(r),
      value: Buffer.from(JSON.stringify(r)),
    })),
    ...produced.devices.map(({ device, record }) => ({
      topic: topics.devices,
      key: Buffer.from(device),
      value: Buffer.from(JSON.stringify(record)),
    })),
  ];
  for (let i = 0; i < messages.length; i += chunk) await producer.send({ messages: messages.slice(i, i + chunk) });
}

/** The tables the outputs must end in: the largest aggregate per window id, the last record per device. */
export function expectedTables(...batches: Produced[]) {
  const windows = new Map<string, WindowAggregateRecord>();
  const devices = new Map<string, DeviceLatestRecord>();
  for (const batch of batches) {
    for (const r of batch.windows) {
      const current = windows.get(r.ID);
      if (!current || r.EVENT_COUNT > current.EVENT_COUNT) windows.set(r.ID, r);
    }
    for (const { device, record } of batch.devices) devices.set(device, record);
  }
  return {
    windows: [...windows.values()]
      .sort((a, b) => (a.ID < b.ID ? -1 : 1))
      .map((r) => ({
        id: r.ID,
        device_id: r.dev_id,
        window_start: r.WINDOW_START,
        window_end: r.WINDOW_END,
        latitude: r.LATITUDE,
        longitude: r.LONGITUDE,
        distance: r.DISTANCE,
        event_ts: r.EVENT_TS,
        event_count: r.EVENT_COUNT,
        avg_temp: r.AVG_TEMP,
        avg_sound: r.AVG_SOUND,
        avg_alt: r.AVG_ALT,
      })),
    devices: [...devices.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([device, r]) => ({
        device_id: device,
        latitude: r.LATITUDE,
        longitude: r.LONGITUDE,
        distance: r.DISTANCE,
        event_ts: r.EVENT_TS,
        temperature: r.TEMPERATURE,
        sound: r.SOUND,
        altitude: r.ALTITUDE,
      })),
  };
}

export async function readTables(sql: Sql) {
  return {
    windows: [...(await sql.unsafe(`select ${WINDOW_SELECT} from device_winagg_status_per2s order by id`))],
    devices: [...(await sql.unsafe(`select ${DEVICE_SELECT} from device_winagg_status_perdevice order by device_id`))],
  };
}

export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 30_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the tables equal `expected`, then asserts it (so a failure prints the difference). */
export async function expectTablesToEqual(sql: Sql, expected: ReturnType<typeof expectedTables>, timeoutMs = 30_000) {
  const same = async () => JSON.stringify(await readTables(sql)) === JSON.stringify(expected);
  await waitFor(same, timeoutMs, 'the warehouse tables to equal the final outputs').catch(() => undefined);
  expect(await readTables(sql)).toEqual(expected);
}
