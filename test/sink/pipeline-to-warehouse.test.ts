/**
 * End to end on the real broker and database: simulators → embedded processor → output topics → warehouse sink.
 * The warehouse tables must equal the processor's final per-window and per-device state, read back from its
 * output topics (last record per key).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import type { SimulationStatus } from '../../src/simulators/simulation-status.js';
import { createSimulatorFromConfig } from '../../src/simulators/simulator-from-config.js';
import { migrate } from '../../src/sink/migrate.js';
import { createWarehouseSink } from '../../src/sink/warehouse-sink.js';
import { createTestDatabase } from '../helpers/db.js';
import { brokers, uniqueName } from '../helpers/kafka.js';
import { createProcessorTopics, readFinalState, testProcessor, waitForDrain } from '../processor/helpers.js';
import { readTables, waitFor } from './harness.js';

const { sql, schema } = await createTestDatabase();
await migrate(sql, { schema });

function expectedFrom(state: Awaited<ReturnType<typeof readFinalState>>) {
  const windows = [...state.windows.values()]
    .map((r) => ({
      id: r['ID'],
      device_id: r['dev_id'],
      window_start: r['WINDOW_START'],
      window_end: r['WINDOW_END'],
      latitude: r['LATITUDE'],
      longitude: r['LONGITUDE'],
      distance: r['DISTANCE'],
      event_ts: r['EVENT_TS'],
      event_count: r['EVENT_COUNT'],
      avg_temp: r['AVG_TEMP'],
      avg_sound: r['AVG_SOUND'],
      avg_alt: r['AVG_ALT'],
    }))
    .sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
  const devices = [...state.devices.entries()]
    .map(([device, r]) => ({
      device_id: device,
      latitude: r['LATITUDE'] ?? null,
      longitude: r['LONGITUDE'] ?? null,
      distance: r['DISTANCE'] ?? null,
      event_ts: r['EVENT_TS'] ?? null,
      temperature: r['TEMPERATURE'] ?? null,
      sound: r['SOUND'] ?? null,
      altitude: r['ALTITUDE'] ?? null,
    }))
    .sort((a, b) => (a.device_id < b.device_id ? -1 : 1));
  return { windows, devices };
}

describe('simulators → processor → warehouse sink', () => {
  it('leaves the warehouse equal to the processor final per-window and per-device state', async () => {
    const topics = await createProcessorTopics();
    const kafka = { brokers: brokers(), clientId: 'test-e2e' };
    const logger = createSilentLogger();
    const config = loadConfig({ KAFKA_BROKERS: brokers().join(',') });
    const simulator = createSimulatorFromConfig(config, kafka, logger, {
      topics: { location: topics.location, status: topics.status },
    });
    const processor = testProcessor(topics);
    const sink = createWarehouseSink({
      sql,
      schema,
      kafka,
      logger,
      groupId: uniqueName('sink'),
      topics: { windows: topics.per2s, devices: topics.perDevice },
      deadLetterTopic: topics.deadLetters,
      batchSize: 500,
      flushIntervalMs: 50,
      monitorIntervalMs: 200,
    });
    await processor.start();
    await sink.start();
    try {
      const maxEvents = 1500;
      simulator.startRun({
        device_count: 6,
        location_interval_ms: 40,
        status_interval_ms: 20,
        boundary: 'reflect',
        start: { latitude: 9, longitude: 107 },
        seed: 7,
        max_events: maxEvents,
      });
      await waitFor(() => simulator.status().state === 'completed', 30_000, 'the simulation to complete');
      const status: SimulationStatus = simulator.status();
      const sent = (status.topics?.location.sent ?? 0) + (status.topics?.status.sent ?? 0);
      expect(sent).toBe(maxEvents);
      await waitForDrain([processor], sent);
      // The coalescing processor flushes on an interval: let the last flush reach the topics.
      await new Promise((r) => setTimeout(r, 1000));
      await waitForDrain([processor], sent);

      const expected = expectedFrom(await readFinalState(topics));
      expect(expected.windows.length).toBeGreaterThan(0);
      expect(expected.devices.length).toBe(6);
      await waitFor(
        async () => JSON.stringify(await readTables(sql)) === JSON.stringify(expected),
        30_000,
        'the warehouse to equal the processor outputs',
      ).catch(() => undefined);
      expect(await readTables(sql)).toEqual(expected);
    } finally {
      await simulator.close();
      await sink.stop();
      await processor.stop();
    }
  });
});
