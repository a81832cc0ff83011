/**
 * Two ways one record or one outage used to stop the processor (issue 13, lesser items), on real brokers:
 * - a record in the per-device output topic that the processor did not write made every restore throw, so it
 *   retried forever without becoming ready;
 * - the next fetch, started while a flush was awaited, had no rejection handler: a broker going away at that
 *   moment was an unhandled rejection, which ends a Node.js process.
 */
import { describe, expect, it } from 'vitest';
import { createProducer } from '../../src/bus/producer.js';
import { brokers, uniqueName } from '../helpers/kafka.js';
import { startPrivateKafka } from '../helpers/private-kafka.js';
import { createProcessorTopics, produce, readFinalState, testProcessor, waitForDrain, workload } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('processor robustness', () => {
  it('skips foreign records in the per-device topic when it restores, and becomes ready', async () => {
    const topics = await createProcessorTopics();
    const groupId = uniqueName('processor');
    const first = workload(3, 10);
    await produce(topics, first);
    const before = testProcessor(topics, { groupId });
    await before.start();
    try {
      await waitForDrain([before], first.length);
    } finally {
      await before.stop();
    }
    // Somebody else writes into the table's topic: garbage, a wrong type, an id the device-id rule refuses.
    const producer = createProducer({ clientId: 'foreign-writer', bootstrapBrokers: brokers() });
    try {
      await producer.send({
        messages: [
          { key: 'dev-0', value: 'not json' },
          { key: 'dev-1', value: '{"LATITUDE":"north"}' },
          { key: '-bad id', value: '{"LATITUDE":9}' },
        ].map((r) => ({ topic: topics.perDevice, key: Buffer.from(r.key), value: Buffer.from(r.value) })),
      });
    } finally {
      await producer.close();
    }
    const second = workload(3, 4, 1_700_000_010_000);
    await produce(topics, second);
    const after = testProcessor(topics, { groupId });
    await after.start();
    try {
      await waitForDrain([after], second.length);
      await expect(after.readiness.check()).resolves.toBeUndefined();
      const skipped = after.metrics().find((m) => m.name === 'processor_restore_records_skipped_total');
      expect(skipped?.value).toBe(3);
    } finally {
      await after.stop();
    }
    const state = await readFinalState(topics);
    for (const device of ['dev-0', 'dev-1', 'dev-2']) {
      expect(state.devices.get(device)).toMatchObject({ LATITUDE: expect.any(Number) });
    }
  }, 120_000);

  it('survives its broker going away while flushes are in flight, and catches up once it is back', async () => {
    const kafka = await startPrivateKafka('processor-outage-');
    const topics = await createProcessorTopics(kafka.brokers);
    const events = workload(20, 30);
    const half = Math.floor(events.length / 2);
    await produce(topics, events.slice(0, half), 500, kafka.brokers);
    const processor = testProcessor(topics, { brokers: kafka.brokers, flushIntervalMs: 50 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    await processor.start();
    try {
      await waitForDrain([processor], half);
      await kafka.stop();
      await sleep(4000);
      await expect(processor.readiness.check()).rejects.toThrow(/stream processor/);
      await kafka.start();
      await produce(topics, events.slice(half), 500, kafka.brokers);
      await waitForDrain([processor], events.length, 90_000);
    } finally {
      await processor.stop();
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    const state = await readFinalState(topics, kafka.brokers);
    expect(state.devices.size).toBe(20);
  }, 180_000);
});
