import { Admin } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/observability/logger.js';
import { migrate } from '../../src/sink/migrate.js';
import { createWarehouseSink, type WarehouseSinkOptions } from '../../src/sink/warehouse-sink.js';
import { createTestDatabase } from '../helpers/db.js';
import { brokers, createTestTopics, readRecords, uniqueName } from '../helpers/kafka.js';
import { windowKey, windowRecord } from './fixtures.js';
import {
  createOutputProducer,
  expectedTables,
  expectTablesToEqual,
  generateOutputs,
  produceOutputs,
  readTables,
  waitFor,
} from './harness.js';

const { sql, schema } = await createTestDatabase();
await migrate(sql, { schema });
const producer = createOutputProducer();
afterAll(() => producer.close());

function sinkOptions(topics: { windows: string; devices: string; dlq: string }, groupId: string) {
  return {
    sql,
    schema,
    kafka: { brokers: brokers(), clientId: 'test-sink' },
    logger: createSilentLogger(),
    groupId,
    topics: { windows: topics.windows, devices: topics.devices },
    deadLetterTopic: topics.dlq,
    batchSize: 200,
    flushIntervalMs: 20,
    monitorIntervalMs: 200,
  } satisfies WarehouseSinkOptions;
}

async function committedOffsets(groupId: string, topics: string[]): Promise<number> {
  const admin = new Admin({ clientId: 'test-offsets', bootstrapBrokers: brokers() });
  try {
    const groups = await admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: topics.map((name) => ({ name, partitionIndexes: [0, 1, 2] })) }],
    });
    let total = 0;
    for (const g of groups)
      for (const t of g.topics) for (const p of t.partitions) total += Math.max(0, Number(p.committedOffset));
    return total;
  } finally {
    await admin.close();
  }
}

async function truncate() {
  await sql`truncate device_winagg_status_per2s, device_winagg_status_perdevice`;
}

describe('warehouse sink', () => {
  it('writes the newest state of every window and device, whatever order replays deliver', async () => {
    const topics = await createTestTopics({ windows: 'per2s', devices: 'perdevice', dlq: 'dlq' });
    const produced = generateOutputs({ devices: 5, windowsPerDevice: 4, updates: 3, replay: true });
    await produceOutputs(producer, topics, produced);
    const groupId = uniqueName('sink');
    const sink = createWarehouseSink(sinkOptions(topics, groupId));
    await sink.start();
    try {
      await expectTablesToEqual(sql, expectedTables(produced));
      const total = produced.windows.length + produced.devices.length;
      await waitFor(async () => (await committedOffsets(groupId, [topics.windows, topics.devices])) === total);
      await waitFor(() => sink.stats().consumerLag === 0, 10_000, 'lag 0');
      const stats = sink.stats();
      expect(stats.recordsConsumed).toBe(total);
      expect(stats.batches).toBeGreaterThan(0);
      expect(stats.rowsWritten.windows).toBeLessThanOrEqual(produced.windows.length);
      await expect(sink.readiness.check()).resolves.toBeUndefined();
      const names = sink.metrics.metrics().map((m) => m.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'sink_rows_written_total',
          'sink_batches_total',
          'sink_retries_total',
          'sink_consumer_lag',
        ]),
      );
    } finally {
      await sink.stop();
    }
    await expect(sink.readiness.check()).rejects.toThrow(/not running/);

    // Everything again from the start (a new group): the tables stay exactly as they are.
    const before = await sql`select *, xmin::text as version from device_winagg_status_per2s order by id`;
    const again = createWarehouseSink(sinkOptions(topics, uniqueName('sink')));
    await again.start();
    try {
      await waitFor(() => again.stats().recordsConsumed === produced.windows.length + produced.devices.length);
      await waitFor(() => again.stats().consumerLag === 0, 10_000, 'lag 0');
      expect(again.stats().rowsWritten).toEqual({ windows: 0, devices: 0, alerts: 0 });
      expect(await sql`select *, xmin::text as version from device_winagg_status_per2s order by id`).toEqual(before);
    } finally {
      await again.stop();
    }
  });

  it('loses and duplicates nothing when it crashes between the database commit and the offset commit', async () => {
    await truncate();
    const topics = await createTestTopics({ windows: 'per2s', devices: 'perdevice', dlq: 'dlq' });
    const first = generateOutputs({ devices: 3, windowsPerDevice: 3, updates: 2 });
    await produceOutputs(producer, topics, first);
    const groupId = uniqueName('sink');
    let crashed = false;
    const crashing = createWarehouseSink({
      ...sinkOptions(topics, groupId),
      batchSize: 10_000,
      beforeOffsetCommit: () => {
        crashed = true;
        throw new Error('simulated crash after the database commit');
      },
    });
    await crashing.start();
    await waitFor(() => crashed, 30_000, 'the simulated crash');
    await crashing.stop();
    expect(await committedOffsets(groupId, [topics.windows, topics.devices])).toBe(0);
    await expectTablesToEqual(sql, expectedTables(first));

    // More output arrives while the sink is down; the restarted sink gets the first batch again plus the rest.
    const second = generateOutputs({ devices: 3, windowsPerDevice: 2, updates: 2, firstWindow: 2, seqBase: 1000 });
    await produceOutputs(producer, topics, second);
    const restarted = createWarehouseSink(sinkOptions(topics, groupId));
    await restarted.start();
    try {
      await expectTablesToEqual(sql, expectedTables(first, second));
      const total = first.windows.length + first.devices.length + second.windows.length + second.devices.length;
      await waitFor(async () => (await committedOffsets(groupId, [topics.windows, topics.devices])) === total);
      const ids =
        await sql`select id, count(*)::int as n from device_winagg_status_per2s group by id having count(*) > 1`;
      expect(ids).toEqual([]);
    } finally {
      await restarted.stop();
    }
  });

  it('dead-letters undecodable and refused records one by one with the reason, and writes the rest', async () => {
    await truncate();
    const topics = await createTestTopics({ windows: 'per2s', devices: 'perdevice', dlq: 'dlq' });
    const good = windowRecord('dev-ok', 4000, 2);
    const huge = 'd'.repeat(400_000);
    // PostgreSQL refuses these rows whatever the retry: a constraint of this test's schema stands for any such rule.
    await sql.unsafe(
      `alter table ${schema}.device_winagg_status_per2s add constraint plausible_altitude check (avg_alt < 1e6)`,
    );
    await producer.send({
      messages: [
        { topic: topics.windows, key: windowKey(good), value: Buffer.from('{not json') },
        { topic: topics.windows, key: Buffer.from('short'), value: Buffer.from(JSON.stringify(good)) },
        {
          topic: topics.windows,
          key: windowKey(good),
          value: Buffer.from(JSON.stringify({ ...good, EVENT_COUNT: 'x' })),
        },
        { topic: topics.windows, key: windowKey(good), value: Buffer.from(JSON.stringify(good)) },
        {
          topic: topics.devices,
          key: Buffer.from('dev-ok'),
          value: Buffer.from(JSON.stringify({ LATITUDE: 'north' })),
        },
        // A record naming another window's id would overwrite that window's row.
        {
          topic: topics.windows,
          key: windowKey(good),
          value: Buffer.from(JSON.stringify({ ...good, ID: 'bad\u0000id' })),
        },
        // A 400 kB device id blocked the whole warehouse before: PostgreSQL's btree refuses such a key.
        { topic: topics.devices, key: Buffer.from(huge), value: Buffer.from(JSON.stringify({ LATITUDE: 9 })) },
        // Decodes, but PostgreSQL refuses it: the batch is retried row by row, only this row is refused.
        {
          topic: topics.windows,
          key: windowKey(windowRecord('dev-high', 4000, 1)),
          value: Buffer.from(JSON.stringify({ ...windowRecord('dev-high', 4000, 1), AVG_ALT: 5e6 })),
        },
        { topic: topics.devices, key: Buffer.from('dev-ok'), value: Buffer.from(JSON.stringify({ LATITUDE: 9.5 })) },
      ],
    });
    const sink = createWarehouseSink(sinkOptions(topics, uniqueName('sink')));
    await sink.start();
    try {
      await waitFor(() => sink.stats().deadLettered === 7, 30_000, '7 dead letters');
      const letters = await readRecords([topics.dlq], 7);
      expect(letters.map((l) => l.headers.get('reason')?.replace(/\).*/s, ')')).sort()).toEqual([
        'PostgreSQL refused the row (23514)',
        'per2s record: EVENT_COUNT: Invalid input: expected number, received string',
        'per2s record: ID differs from the window of the key (<device_id>_<start>_<end>)',
        'per2s record: windowed key missing or shorter than 9 bytes',
        'perdevice record: LATITUDE: Invalid input: expected number, received string',
        'perdevice record: device id: expected a letter or digit, then letters, digits, _ . : - (at most 128)',
        'value is not JSON',
      ]);
      await waitFor(async () => (await readTables(sql)).windows.length === 1);
      const tables = await readTables(sql);
      expect(tables.windows[0]).toMatchObject({ id: good.ID, event_count: 2 });
      expect(tables.devices).toEqual([expect.objectContaining({ device_id: 'dev-ok', latitude: 9.5 })]);
      // Refused rows are the records' fault, not the database's: the sink never reported PostgreSQL down.
      await expect(sink.readiness.check()).resolves.toBeUndefined();
      expect(sink.metrics.metrics().find((m) => m.name === 'sink_database_available')?.value).toBe(1);
      expect(sink.stats().retries).toBe(0);
    } finally {
      await sink.stop();
      await sql.unsafe(`alter table ${schema}.device_winagg_status_per2s drop constraint plausible_altitude`);
    }
  });

  it('waits for output topics that do not exist yet, reporting not ready meanwhile', async () => {
    await truncate();
    const topics = { windows: uniqueName('late_per2s'), devices: uniqueName('late_perdevice'), dlq: uniqueName('dlq') };
    const sink = createWarehouseSink({ ...sinkOptions(topics, uniqueName('sink')), retryMaxDelayMs: 200 });
    const admin = new Admin({ clientId: 'test-late-topics', bootstrapBrokers: brokers() });
    await sink.start();
    try {
      await expect(sink.readiness.check()).rejects.toThrow(/subscribing/);
      await admin.createTopics({ topics: [topics.windows, topics.devices], partitions: 2, replicas: 1 });
      const produced = generateOutputs({ devices: 2, windowsPerDevice: 2, updates: 2 });
      await produceOutputs(producer, topics, produced);
      await expectTablesToEqual(sql, expectedTables(produced));
      await expect(sink.readiness.check()).resolves.toBeUndefined();
    } finally {
      await sink.stop();
      await admin.deleteTopics({ topics: [topics.windows, topics.devices] }).catch(() => undefined);
      await admin.close();
    }
  });
});
