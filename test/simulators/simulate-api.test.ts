/**
 * The simulators through the HTTP API on the real broker: POST /simulate starts the specification's
 * defaults, both topics receive keyed events with the specification's fields at the specified per-device
 * rates, GET /simulate counts match what a consumer reads, DELETE /simulate stops production; and a run
 * whose broker is unreachable keeps running, counts failed sends and reports the error.
 */
import { Admin } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/app.js';
import { createApplication } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { LocationRecordSchema, StatusRecordSchema } from '../../src/core/events.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import type { SimulationStatus } from '../../src/simulators/simulation-status.js';
import { createSimulatorFromConfig } from '../../src/simulators/simulator-from-config.js';
import { databaseUrl } from '../helpers/db.js';
import { brokers, createTestTopics, readRecords } from '../helpers/kafka.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sum of a topic's end offsets = its record count (the producer is idempotent, not transactional). */
async function endOffsets(topic: string): Promise<number> {
  const admin = new Admin({ clientId: 'sim-offsets', bootstrapBrokers: brokers() });
  try {
    const partitions = [0, 1, 2].map((partitionIndex) => ({ partitionIndex, timestamp: -1n }));
    const [listed] = await admin.listOffsets({ topics: [{ name: topic, partitions }] });
    return listed!.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
  } finally {
    await admin.close();
  }
}

function makeApi(env: Record<string, string>, topics: { location: string; status: string }) {
  const config = loadConfig({ KAFKA_BROKERS: brokers().join(','), DATABASE_URL: databaseUrl(), ...env });
  const logger = createSilentLogger();
  const application = createApplication(config, logger);
  const services = {
    ...application.services,
    simulator: createSimulatorFromConfig(config, application.services.kafka, logger, { topics }),
  };
  return { api: createApi(services), application, services };
}

async function call(api: ReturnType<typeof createApi>, method: string, body?: unknown) {
  const res = await api.request('/simulate', {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as SimulationStatus };
}

describe('POST/GET/DELETE /simulate on the real broker', () => {
  it('produces keyed events at the specified per-device rates, counted exactly, until stopped', async () => {
    const topics = await createTestTopics({ location: 'sim_location', status: 'sim_status' });
    const { api, application, services } = makeApi({}, topics);
    try {
      const started = await call(api, 'POST', {});
      expect(started.status).toBe(202);
      const runStart = Date.parse(started.body.started_at!);

      await sleep(11_000);
      const running = await call(api, 'GET');
      expect(running.body.state).toBe('running');
      expect(running.body.errors.failed_sends).toBe(0);
      // Wall-clock rates measured by the run itself over 11 s: 0.5 and 2 events/s per device.
      expect(running.body.topics!.location.events_per_second_per_device).toBeGreaterThan(0.5 * 0.85);
      expect(running.body.topics!.location.events_per_second_per_device).toBeLessThan(0.5 * 1.15);
      expect(running.body.topics!.status.events_per_second_per_device).toBeGreaterThan(2 * 0.9);
      expect(running.body.topics!.status.events_per_second_per_device).toBeLessThan(2 * 1.1);

      const stopped = await call(api, 'DELETE');
      expect(stopped.status).toBe(200);
      expect(stopped.body.state).toBe('stopped');
      expect(stopped.body.buffered).toBe(0);
      const sentLocation = stopped.body.topics!.location.sent;
      const sentStatus = stopped.body.topics!.status.sent;
      expect(sentLocation).toBe(stopped.body.topics!.location.generated);
      expect(sentStatus).toBe(stopped.body.topics!.status.generated);

      const records = await readRecords([topics.location, topics.status], sentLocation + sentStatus);
      const location = records.filter((r) => r.topic === topics.location);
      const status = records.filter((r) => r.topic === topics.status);
      expect(location.length).toBe(sentLocation);
      expect(status.length).toBe(sentStatus);
      // Nothing is produced after DELETE: a while later the topics still end where the counts say.
      await sleep(1500);
      expect(await endOffsets(topics.location)).toBe(sentLocation);
      expect(await endOffsets(topics.status)).toBe(sentStatus);
      expect((await call(api, 'GET')).body.topics!.status.sent).toBe(sentStatus);

      for (const [list, schema, fields] of [
        [location, LocationRecordSchema, ['id', 'device_id', 'latitude', 'longitude', 'event_ts']],
        [status, StatusRecordSchema, ['id', 'device_id', 'sound', 'temperature', 'altitude', 'event_ts']],
      ] as const) {
        for (const record of list) {
          const value = JSON.parse(record.value);
          expect(Object.keys(value)).toEqual(fields);
          expect(schema.strict().parse(value).device_id).toBe(record.key);
        }
      }
      const ids = records.map((r) => JSON.parse(r.value).id);
      expect(new Set(ids).size).toBe(ids.length);

      // Per-device rates over the first 10 s of event time (event_ts is the tick's scheduled time).
      for (const device of ['dev-1', 'dev-2', 'dev-3']) {
        const inWindow = (list: typeof records) =>
          list.filter((r) => {
            const ts = JSON.parse(r.value).event_ts as number;
            return r.key === device && ts >= runStart && ts < runStart + 10_000;
          }).length;
        expect(inWindow(location)).toBe(5);
        expect(inWindow(status)).toBe(20);
        const deviceFixes = location.filter((r) => r.key === device).map((r) => JSON.parse(r.value));
        // Starts at the specification's point and walks (the default σ moves ≈ 0.0014° per fix).
        expect(Math.abs(deviceFixes[0].latitude - 9)).toBeLessThan(0.05);
        expect(Math.abs(deviceFixes[0].longitude - 107)).toBeLessThan(0.05);
      }
    } finally {
      await services.simulator.close();
      await application.stop();
    }
  });

  it('keeps a run alive while the broker is unreachable, counting failed sends and reporting the error', async () => {
    const topics = { location: 'unreachable_location', status: 'unreachable_status' };
    // Port 1 on loopback: nothing listens there, connections are refused at once.
    const { api, application, services } = makeApi(
      { KAFKA_BROKERS: '127.0.0.1:1', SIMULATOR_STOP_TIMEOUT_MS: '1000', SIMULATOR_LINGER_MS: '5' },
      topics,
    );
    try {
      expect((await call(api, 'POST', { seed: 3 })).status).toBe(202);
      await sleep(2500);
      const during = await call(api, 'GET');
      expect(during.body.state).toBe('running');
      expect(during.body.errors.failed_sends).toBeGreaterThan(0);
      expect(during.body.errors.last_error).toMatch(/127\.0\.0\.1:1|ECONNREFUSED|connect/i);
      expect(during.body.topics!.status.generated).toBeGreaterThan(5);
      expect(during.body.buffered).toBeGreaterThan(0);

      const stopped = await call(api, 'DELETE');
      expect(stopped.body.state).toBe('stopped');
      const t = stopped.body.topics!;
      expect(t.location.sent + t.status.sent).toBe(0);
      expect(t.location.abandoned + t.status.abandoned).toBe(t.location.generated + t.status.generated);
    } finally {
      await services.simulator.close();
      await application.stop();
    }
  });
});
