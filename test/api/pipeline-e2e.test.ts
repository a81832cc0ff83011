/**
 * End to end: simulators → Kafka → embedded processor → output topics → warehouse sink → PostgreSQL, read back
 * through all four documented endpoints and the SSE streams. Once the simulation has stopped and everything
 * has drained, the stream layer and the warehouse must agree row for row, and the last SSE events must equal
 * the rows the endpoints return.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeviceLatest, WindowAggregate } from '../../src/core/results.js';
import { createStreamProcessor } from '../../src/processor/processor.js';
import { createWarehouseSink } from '../../src/sink/warehouse-sink.js';
import { createTestTopics, uniqueName } from '../helpers/kafka.js';
import { connectSse, type SseConnection } from './sse-client.js';
import { type ApiStack, startApiStack } from './support.js';

let stack: ApiStack;
const devices = ['dev-1', 'dev-2', 'dev-3'];

beforeAll(async () => {
  stack = await startApiStack({ SSE_HEARTBEAT_MS: '5000' });
  const extra = await createTestTopics({ joinEvents: 'e2e_join', deadLetters: 'e2e_dlq' });
  const { checkpoints } = await createTestTopics({ checkpoints: 'e2e_checkpoints' }, 1, {
    'cleanup.policy': 'compact',
  });
  const { config, logger, kafka, sql } = stack.services;
  const processor = createStreamProcessor({
    brokers: kafka.brokers,
    clientId: 'e2e',
    groupId: uniqueName('e2e-processor'),
    topics: {
      location: stack.topics.location,
      status: stack.topics.status,
      joinEvents: extra.joinEvents,
      per2s: stack.topics.windows,
      perDevice: stack.topics.latest,
      deadLetters: extra.deadLetters,
      checkpoints,
    },
    logger,
    graceMs: config.PROCESSOR_GRACE_MS,
    emitMode: config.PROCESSOR_EMIT_MODE,
    flushIntervalMs: 200,
    idleWaitMs: 500,
    sessionTimeoutMs: 6000,
    createTopics: false,
  });
  const sink = createWarehouseSink({
    sql,
    kafka,
    logger,
    groupId: uniqueName('e2e-sink'),
    schema: stack.schema,
    topics: { windows: stack.topics.windows, devices: stack.topics.latest },
    deadLetterTopic: extra.deadLetters,
    flushIntervalMs: 100,
  });
  await processor.start();
  await sink.start();
  return async () => {
    await sink.stop();
    await processor.stop();
  };
});

const getJson = async <T>(path: string) => (await (await fetch(`${stack.url}${path}`)).json()) as T;

/** The last value per key among the snapshot and change events of an SSE connection. */
function lastByKey<T>(sse: SseConnection, key: (row: T) => string): Map<string, T> {
  const out = new Map<string, T>();
  for (const m of sse.messages) {
    if (!m.event || !m.data) continue;
    const rows = m.event === 'snapshot' ? (JSON.parse(m.data) as T[]) : [JSON.parse(m.data) as T];
    for (const row of rows) out.set(key(row), row);
  }
  return out;
}

describe('simulators → processor → sink → API', () => {
  it('serves the same devices and windows from the stream layer, the warehouse and the SSE streams', async () => {
    const latestEvents = await connectSse(`${stack.url}/stream/latest/events`);
    const windowEvents = await connectSse(`${stack.url}/stream/raw/events`);
    await latestEvents.next((m) => m.event === 'snapshot');
    await windowEvents.next((m) => m.event === 'snapshot');

    const started = await fetch(`${stack.url}/simulate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        devices,
        location_interval_ms: 250,
        status_interval_ms: 100,
        duration_ms: 5000,
        boundary: 'reflect',
      }),
    });
    expect(started.status).toBe(202);
    await stack.waitFor(
      async () => ((await getJson<{ state: string }>('/simulate')).state === 'running' ? undefined : true),
      30_000,
    );

    // Drained and consistent: the warehouse equals the stream layer for every device, twice in a row.
    let stable = 0;
    await stack.waitFor(async () => {
      const streamLatest = await getJson<DeviceLatest[]>('/stream/latest');
      const warehouseLatest = await getJson<DeviceLatest[]>('/stream/postgresql/latest');
      let same =
        streamLatest.length === devices.length && JSON.stringify(streamLatest) === JSON.stringify(warehouseLatest);
      for (const d of devices) {
        if (!same) break;
        const s = await getJson<WindowAggregate[]>(`/stream/raw?device_id=${d}&limit=1000`);
        const w = await getJson<WindowAggregate[]>(`/stream/postgresql/raw?device_id=${d}&limit=1000`);
        same = s.length >= 2 && JSON.stringify(s) === JSON.stringify(w);
      }
      stable = same ? stable + 1 : 0;
      if (stable < 2) await new Promise((r) => setTimeout(r, 500));
      return stable >= 2 ? true : undefined;
    }, 60_000);

    const latest = await getJson<DeviceLatest[]>('/stream/latest');
    expect(latest.map((r) => r.device_id)).toEqual(devices);
    for (const row of latest) {
      expect(row.latitude).toBeGreaterThanOrEqual(8);
      expect(row.latitude).toBeLessThanOrEqual(10);
    }
    // The SSE streams ended on exactly the rows the endpoints serve.
    const sseLatest = lastByKey<DeviceLatest>(latestEvents, (r) => r.device_id);
    expect(devices.map((d) => sseLatest.get(d))).toEqual(latest);
    const sseWindows = lastByKey<WindowAggregate>(windowEvents, (r) => r.id);
    for (const d of devices) {
      const windows = await getJson<WindowAggregate[]>(`/stream/raw?device_id=${d}&limit=1000`);
      for (const w of windows) expect(sseWindows.get(w.id)).toEqual(w);
      const counts = windows.reduce((n, w) => n + w.event_count, 0);
      expect(counts).toBeGreaterThan(0);
    }
    latestEvents.close();
    windowEvents.close();
  });
});
