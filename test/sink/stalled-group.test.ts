/**
 * The sink's group as the broker sees it (issue 13, finding 1). A member of the sink's group dies holding a
 * 60-second session (the client's default, which the sink itself used before the fix, as an instance of an
 * older version would); the sink then joins. Its JoinGroup waits for the dead member, longer than a request
 * may wait, and the client can end up believing it joined while the group sits in a rebalance with nothing
 * assigned. Meanwhile readiness and the lag metric must tell the truth (not ready, the group's real lag), and
 * the sink must get through on its own, without a restart, and write everything.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/observability/logger.js';
import { migrate } from '../../src/sink/migrate.js';
import { createWarehouseSink } from '../../src/sink/warehouse-sink.js';
import { createTestDatabase } from '../helpers/db.js';
import { brokers, createTestTopics, uniqueName } from '../helpers/kafka.js';
import {
  createOutputProducer,
  expectedTables,
  expectTablesToEqual,
  generateOutputs,
  produceOutputs,
  waitFor,
} from './harness.js';

const { sql, schema } = await createTestDatabase();
await migrate(sql, { schema });
const producer = createOutputProducer();
afterAll(() => producer.close());

/** A consumer with the client's default group settings, in a process of its own, that prints once it joined. */
const MEMBER = `
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
const [groupId, brokers, ...topics] = process.argv.slice(1);
const consumer = new Consumer({ clientId: 'old-member', groupId, bootstrapBrokers: brokers.split(',') });
const stream = await consumer.consume({ topics, mode: MessagesStreamModes.COMMITTED, autocommit: false });
stream.on('data', () => undefined);
console.log('joined');
`;

describe('the sink behind a dead member with a long session', () => {
  it('reports not ready and the real lag meanwhile, then gets through by itself and writes everything', async () => {
    const topics = await createTestTopics({ windows: 'stall_per2s', devices: 'stall_perdevice', dlq: 'dlq' });
    const produced = generateOutputs({ devices: 4, windowsPerDevice: 5, updates: 2 });
    await produceOutputs(producer, topics, produced);
    const total = produced.windows.length + produced.devices.length;
    const groupId = uniqueName('stall-sink');

    const member = spawn(
      process.execPath,
      ['--input-type=module', '-e', MEMBER, groupId, brokers().join(','), topics.windows, topics.devices],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [joined] = (await once(member.stdout, 'data')) as [Buffer];
    expect(joined.toString()).toContain('joined');
    member.kill('SIGKILL');
    await once(member, 'exit');

    const sink = createWarehouseSink({
      sql,
      schema,
      kafka: { brokers: brokers(), clientId: 'stall-test' },
      logger: createSilentLogger(),
      groupId,
      topics: { windows: topics.windows, devices: topics.devices },
      deadLetterTopic: topics.dlq,
      monitorIntervalMs: 500,
    });
    await sink.start();
    const startedAt = Date.now();
    try {
      // While the dead member holds the group, nothing is written: readiness must say so, and the lag is the backlog.
      await waitFor(() => sink.stats().consumerLag === total, 15_000, 'the lag metric to show the backlog');
      await expect(sink.readiness.check()).rejects.toThrow(/warehouse sink/);
      expect(sink.stats().recordsCommitted).toBe(0);

      await expectTablesToEqual(sql, expectedTables(produced), 120_000);
      await waitFor(() => sink.stats().consumerLag === 0, 20_000, 'lag 0');
      await expect(sink.readiness.check()).resolves.toBeUndefined();
      console.log(`[stalled-group] written after ${Date.now() - startedAt} ms; rejoins ${sink.stats().groupRejoins}`);
    } finally {
      await sink.stop();
    }
  }, 180_000);
});
