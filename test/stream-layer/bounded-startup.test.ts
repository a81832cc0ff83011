/**
 * Bounded start-up (issue 15), against the real broker.
 *
 * The embedded stream layer used to replay the whole per2s topic at every start, so start-up grew with the
 * topic's history. It now reads the per2s topic from `windowsHorizonMs` before each partition's newest record.
 * The first test checks that this serves exactly what a full replay serves for the windows it keeps: the expected
 * newest N windows per device (and the latest row per device) are computed here from the records produced, in
 * offset order, with revisions produced out of timestamp order. The second checks that the topics the app and its
 * components create carry their retention or compaction, read back with DescribeConfigs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ensureAlertTopics } from '../../src/alerts/alert-topics.js';
import { pipelineTopics } from '../../src/app.js';
import { createAdmin, ensureTopics } from '../../src/bus/kafka-admin.js';
import { createProducer, sendInChunks } from '../../src/bus/producer.js';
import { loadConfig } from '../../src/config.js';
import type { DeviceLatestRecord, WindowAggregate, WindowAggregateRecord } from '../../src/core/results.js';
import { encodeWindowedKey, toDeviceLatest, toWindowAggregate } from '../../src/core/results.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { ensureProcessorTopics } from '../../src/processor/processor-topics.js';
import { createEmbeddedStreamLayer } from '../../src/stream-layer/embedded-stream-layer.js';
import type { StreamLayer } from '../../src/stream-layer/stream-layer.js';
import { latestRecord, windowRecord } from '../api/support.js';
import { brokers, createTestTopics, uniqueName } from '../helpers/kafka.js';

const layers: StreamLayer[] = [];
afterAll(async () => {
  for (const layer of layers) await layer.stop();
});

async function untilReady(layer: StreamLayer, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await layer.check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const PARTITIONS = 3;
const KEPT = 100; // windowsPerDevice
const HORIZON_MS = KEPT * 2000 + 40_000;
const WINDOWS = 2400; // per active device: 80 minutes of 2-second windows, 24× what is kept

interface Produced {
  topic: 'windows' | 'latest';
  partition: number;
  deviceId: string;
  windowStart?: number;
  value: WindowAggregateRecord | DeviceLatestRecord | null;
  timestamp: number;
}

/**
 * Six active devices (device i in partition i % 3) with a window every 2 s for 80 minutes, a third of the windows
 * revised five windows later (so timestamps are not monotonic in offset order), and one device in partition 0
 * that went silent two days before. Latest rows: several per device, the last one wins; dev-5 is deleted.
 */
function workload(now: number): Produced[] {
  const start = Math.floor((now - WINDOWS * 2000) / 2000) * 2000;
  const active = Array.from({ length: 6 }, (_, i) => `dev-${i}`);
  const out: Produced[] = [];
  const silentStart = start - 2 * 86_400_000;
  for (let k = 0; k < 300; k++) {
    const ws = silentStart + k * 2000;
    const value = windowRecord('dev-silent', ws, { EVENT_COUNT: 1 });
    out.push({ topic: 'windows', partition: 0, deviceId: 'dev-silent', windowStart: ws, value, timestamp: ws + 1500 });
  }
  out.push({
    topic: 'latest',
    partition: 0,
    deviceId: 'dev-silent',
    value: latestRecord(silentStart + 599_500),
    timestamp: silentStart + 599_500,
  });
  for (let k = 0; k < WINDOWS; k++) {
    active.forEach((deviceId, i) => {
      const partition = i % PARTITIONS;
      const ws = start + k * 2000;
      const value = windowRecord(deviceId, ws, { EVENT_COUNT: 1, AVG_TEMP: 20 + (k % 7), LATITUDE: 9 + i / 100 });
      out.push({ topic: 'windows', partition, deviceId, windowStart: ws, value, timestamp: ws + 1500 });
      const revised = k - 5;
      if (revised >= 0 && revised % 3 === 0) {
        const rs = start + revised * 2000;
        const second = windowRecord(deviceId, rs, { EVENT_COUNT: 2, EVENT_TS: rs + 1900, AVG_TEMP: 40 + i });
        out.push({ topic: 'windows', partition, deviceId, windowStart: rs, value: second, timestamp: rs + 1900 });
      }
      if (k % 600 === 599) {
        const ts = ws + 1500;
        out.push({ topic: 'latest', partition, deviceId, value: latestRecord(ts, { SOUND: k }), timestamp: ts });
      }
    });
  }
  out.push({ topic: 'latest', partition: 5 % PARTITIONS, deviceId: 'dev-5', value: null, timestamp: now });
  return out;
}

/** The oracle: per device, the newest `kept` windows after applying every record in offset order. */
function expectedWindows(records: Produced[], kept: number): Map<string, WindowAggregate[]> {
  const byDevice = new Map<string, Map<number, WindowAggregateRecord>>();
  for (const r of records) {
    if (r.topic !== 'windows' || r.windowStart === undefined) continue;
    const windows = byDevice.get(r.deviceId) ?? new Map<number, WindowAggregateRecord>();
    byDevice.set(r.deviceId, windows);
    if (r.value === null) windows.delete(r.windowStart);
    else windows.set(r.windowStart, r.value as WindowAggregateRecord);
  }
  const result = new Map<string, WindowAggregate[]>();
  for (const [deviceId, windows] of byDevice) {
    const newest = [...windows.entries()].sort((a, b) => b[0] - a[0]).slice(0, kept);
    result.set(
      deviceId,
      newest.map(([, v]) => toWindowAggregate(deviceId, v)),
    );
  }
  return result;
}

function expectedLatest(records: Produced[]) {
  const latest = new Map<string, DeviceLatestRecord>();
  for (const r of records) {
    if (r.topic !== 'latest') continue;
    if (r.value === null) latest.delete(r.deviceId);
    else latest.set(r.deviceId, r.value as DeviceLatestRecord);
  }
  return [...latest.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([deviceId, v]) => toDeviceLatest(deviceId, v));
}

describe('bounded start-up of the embedded stream layer', () => {
  it('serves after many old windows exactly what a full replay serves for the windows it keeps', async () => {
    const topics = await createTestTopics({ windows: 'bsu_per2s' }, PARTITIONS);
    const { latest } = await createTestTopics({ latest: 'bsu_perdevice' }, PARTITIONS, { 'cleanup.policy': 'compact' });
    const records = workload(Date.now());
    const producer = createProducer({ clientId: 'bsu-test', bootstrapBrokers: brokers() });
    try {
      await sendInChunks(
        producer,
        records.map((r) => ({
          topic: r.topic === 'windows' ? topics.windows : latest,
          partition: r.partition,
          key: r.windowStart === undefined ? Buffer.from(r.deviceId) : encodeWindowedKey(r.deviceId, r.windowStart),
          value: r.value === null ? Buffer.alloc(0) : Buffer.from(JSON.stringify(r.value)),
          timestamp: BigInt(r.timestamp),
        })),
      );
    } finally {
      await producer.close();
    }

    const make = (windowsHorizonMs: number) => {
      const layer = createEmbeddedStreamLayer({
        kafka: { brokers: brokers(), clientId: 'bsu-test' },
        logger: createSilentLogger(),
        windowsTopic: topics.windows,
        latestTopic: latest,
        windowsPerDevice: KEPT,
        windowsHorizonMs,
      });
      layers.push(layer);
      return layer;
    };
    const bounded = make(HORIZON_MS);
    const full = make(0);
    await Promise.all([bounded.start(), full.start()]);
    await Promise.all([untilReady(bounded), untilReady(full)]);

    const expected = expectedWindows(records, KEPT);
    // Ready means complete: every active device's newest windows, newest first, with their last revision.
    for (let i = 0; i < 6; i++) {
      const deviceId = `dev-${i}`;
      const want = expected.get(deviceId);
      expect(want).toHaveLength(KEPT);
      expect(await bounded.listWindows({ deviceId, limit: KEPT }), deviceId).toEqual(want);
      expect(await full.listWindows({ deviceId, limit: KEPT }), deviceId).toEqual(want);
    }
    // The per-device table is read whole (compacted): the silent device is there, the deleted one is not.
    const wantLatest = expectedLatest(records);
    expect(wantLatest.map((r) => r.device_id)).toContain('dev-silent');
    expect(await bounded.listLatest()).toEqual(wantLatest);
    expect(await full.listLatest()).toEqual(wantLatest);
    // The documented difference: windows older than the horizon (a device silent for two days) come only from a
    // full replay; /stream/postgresql/raw keeps them.
    expect(await full.listWindows({ deviceId: 'dev-silent', limit: KEPT })).toEqual(expected.get('dev-silent'));
    expect(await bounded.listWindows({ deviceId: 'dev-silent', limit: KEPT })).toEqual([]);

    // And it read only the horizon: about (KEPT + 20) windows and their revisions per device, not 80 minutes.
    const read = (layer: StreamLayer) =>
      layer.metrics().find((m) => m.name === 'stream_layer_records_total')?.value ?? Number.NaN;
    expect(read(full)).toBe(records.length);
    expect(read(bounded)).toBeLessThan(records.length / 10);
    expect(read(bounded)).toBeGreaterThanOrEqual(6 * KEPT);
  });
});

describe('retention of the topics the app creates', () => {
  const admin = createAdmin({ brokers: brokers(), clientId: 'bsu-retention' });
  const created: string[] = [];
  afterAll(async () => {
    await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await admin.close();
  });

  async function configsOf(topics: string[]) {
    const described = await admin.describeConfigs({
      resources: topics.map((resourceName) => ({
        resourceType: 2, // TOPIC
        resourceName,
        configurationKeys: ['cleanup.policy', 'retention.ms'],
      })),
    });
    return new Map(
      described.map((d) => [d.resourceName, Object.fromEntries(d.configs.map((c) => [c.name, c.value]))] as const),
    );
  }

  it('gives streams retention.ms, the per2s changelog compact,delete and the keyed tables compaction', async () => {
    const retentionMs = 86_400_000;
    const processor = {
      location: uniqueName('ret_location'),
      status: uniqueName('ret_status'),
      joinEvents: uniqueName('ret_join'),
      per2s: uniqueName('ret_per2s'),
      perDevice: uniqueName('ret_perdevice'),
      deadLetters: uniqueName('ret_dlq'),
      checkpoints: uniqueName('ret_checkpoints'),
    };
    const alerts = {
      location: processor.location,
      status: processor.status,
      alerts: uniqueName('ret_alerts'),
      state: uniqueName('ret_alert_state'),
    };
    created.push(...Object.values(processor), alerts.alerts, alerts.state);
    await ensureProcessorTopics(admin, processor, { partitions: 3, replicas: 1, retentionMs });
    await ensureAlertTopics(admin, alerts, { partitions: 3, replicas: 1, retentionMs });
    const got = await configsOf(created);
    const stream = { 'cleanup.policy': 'delete', 'retention.ms': String(retentionMs) };
    for (const name of [processor.location, processor.status, processor.joinEvents, processor.deadLetters]) {
      expect(got.get(name), name).toEqual(stream);
    }
    expect(got.get(alerts.alerts)).toEqual(stream);
    expect(got.get(processor.per2s)).toEqual({
      'cleanup.policy': 'compact,delete',
      'retention.ms': String(retentionMs),
    });
    for (const name of [processor.perDevice, processor.checkpoints, alerts.state]) {
      expect(got.get(name)?.['cleanup.policy'], name).toBe('compact');
    }
  });

  it("creates the app's pipeline topics with KAFKA_RETENTION_MS (renamed here: the real ones exist)", async () => {
    const config = loadConfig({ KAFKA_RETENTION_MS: '172800000' });
    const specs = pipelineTopics(config).map((spec) => ({ ...spec, name: uniqueName(spec.name) }));
    created.push(...specs.map((s) => s.name));
    await ensureTopics(admin, specs);
    const got = await configsOf(specs.map((s) => s.name));
    for (const spec of specs) {
      const want = spec.name.startsWith(config.ALERT_STATE_TOPIC)
        ? 'compact'
        : { 'cleanup.policy': 'delete', 'retention.ms': '172800000' };
      if (want === 'compact') expect(got.get(spec.name)?.['cleanup.policy'], spec.name).toBe('compact');
      else expect(got.get(spec.name), spec.name).toEqual(want);
    }
  });
});
