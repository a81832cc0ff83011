/**
 * PostgreSQL becomes unreachable while output keeps arriving. The shared PostgreSQL is never stopped: the sink
 * talks to it through a loopback proxy that the test cuts and restores.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/observability/logger.js';
import { createDatabase } from '../../src/sink/database.js';
import { migrate } from '../../src/sink/migrate.js';
import { createWarehouseSink } from '../../src/sink/warehouse-sink.js';
import { createTestDatabase, databaseUrl } from '../helpers/db.js';
import { brokers, createTestTopics, uniqueName } from '../helpers/kafka.js';
import {
  createOutputProducer,
  expectedTables,
  expectTablesToEqual,
  generateOutputs,
  produceOutputs,
  waitFor,
} from './harness.js';
import { createTcpProxy } from './tcp-proxy.js';

const { sql, schema } = await createTestDatabase();
await migrate(sql, { schema });
const target = new URL(databaseUrl());
const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
const viaProxy = new URL(databaseUrl());
viaProxy.hostname = '127.0.0.1';
viaProxy.port = String(proxy.port);
const proxiedSql = createDatabase({ url: viaProxy.toString(), poolMax: 2, schema });
const producer = createOutputProducer();
afterAll(async () => {
  await producer.close();
  await proxiedSql.end({ timeout: 1 });
  await proxy.close();
});

describe('warehouse sink while PostgreSQL is unavailable', () => {
  it('pauses, retries, reports it, and afterwards holds exactly the final outputs', async () => {
    const topics = await createTestTopics({ windows: 'per2s', devices: 'perdevice', dlq: 'dlq' });
    const batchSize = 100;
    const sink = createWarehouseSink({
      sql: proxiedSql,
      schema,
      kafka: { brokers: brokers(), clientId: 'test-sink-outage' },
      logger: createSilentLogger(),
      groupId: uniqueName('sink'),
      topics: { windows: topics.windows, devices: topics.devices },
      deadLetterTopic: topics.dlq,
      batchSize,
      flushIntervalMs: 20,
      retryInitialDelayMs: 50,
      retryMaxDelayMs: 400,
      highWaterMark: 200,
      monitorIntervalMs: 200,
    });
    await sink.start();
    try {
      const before = generateOutputs({ devices: 4, windowsPerDevice: 5, updates: 3 });
      await produceOutputs(producer, topics, before);
      await expectTablesToEqual(sql, expectedTables(before));
      const consumedBefore = sink.stats().recordsConsumed;

      // The database goes away in the middle of the load.
      const during = generateOutputs({ devices: 4, windowsPerDevice: 30, updates: 3, firstWindow: 5, seqBase: 10_000 });
      const half = { windows: during.windows.slice(0, 200), devices: during.devices.slice(0, 200) };
      const rest = { windows: during.windows.slice(200), devices: during.devices.slice(200) };
      await produceOutputs(producer, topics, half, 50);
      await proxy.cut();
      await produceOutputs(producer, topics, rest, 50);

      await waitFor(() => sink.stats().state === 'retrying', 30_000, 'the sink to notice the outage');
      await waitFor(() => sink.stats().retries >= 3, 10_000, 'retries');
      // Readiness names the dependency in words of its own: no driver or socket text (ECONNREFUSED, stacks).
      await expect(sink.readiness.check()).rejects.toThrow(/^the warehouse sink cannot write to PostgreSQL$/);
      const available = sink.metrics.metrics().find((m) => m.name === 'sink_database_available');
      expect(available?.value).toBe(0);
      await waitFor(() => sink.stats().consumerLag > 0, 10_000, 'lag to show');
      // Paused, not buffering: what is held in memory is the batch being retried plus at most one more.
      const stats = sink.stats();
      expect(stats.recordsConsumed - stats.recordsCommitted).toBeLessThanOrEqual(2 * batchSize);
      expect(stats.recordsConsumed).toBeLessThan(consumedBefore + during.windows.length + during.devices.length);

      await proxy.restore();
      await expectTablesToEqual(sql, expectedTables(before, during), 60_000);
      await waitFor(() => sink.stats().consumerLag === 0, 30_000, 'lag 0');
      await expect(sink.readiness.check()).resolves.toBeUndefined();
      expect(sink.stats().recordsConsumed).toBe(
        before.windows.length + before.devices.length + during.windows.length + during.devices.length,
      );
      const duplicates = await sql`select id from device_winagg_status_per2s group by id having count(*) > 1`;
      expect(duplicates).toEqual([]);
    } finally {
      await sink.stop();
    }
  });
});
