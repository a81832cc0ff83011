/**
 * The Kafka client's read_committed filter (patched, `patches/`), against the real broker. Every consumer of the
 * processor's outputs relies on it once outputs are written in transactions. Unpatched, @platformatic/kafka 1.35
 * delivers aborted records when the abort marker is not in the same fetch response, keeps only the last aborted
 * transaction of a producer per response, and throws when a fetch starts at an abort marker.
 *
 * Oracle: the values of committed transactions, known by construction.
 */
import { Consumer, MessagesStreamModes, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { createProducer } from '../../src/bus/producer.js';
import { fetchPartitions } from '../../src/processor/fetcher.js';
import { brokers, createTestTopics, uniqueName } from '../helpers/kafka.js';

const topics = await createTestTopics({ data: 'read_committed' }, 1);
const producer = createProducer({
  clientId: 'test-txn',
  bootstrapBrokers: brokers(),
  idempotent: true,
  transactionalId: uniqueName('test-txn'),
  serializers: stringSerializers,
  retryDelay: 20,
  retries: 50,
});
afterAll(() => producer.close());

/** One transaction of `count` records `${label}-i`, committed or aborted; several sends, so several batches. */
async function transaction(label: string, count: number, outcome: 'commit' | 'abort'): Promise<string[]> {
  const tx = await producer.beginTransaction();
  const values = Array.from({ length: count }, (_, i) => `${label}-${i}`);
  for (let i = 0; i < values.length; i += 50) {
    await tx.send({
      messages: values.slice(i, i + 50).map((value) => ({ topic: topics.data, partition: 0, key: label, value })),
    });
  }
  if (outcome === 'commit') await tx.commit();
  else await tx.abort();
  return outcome === 'commit' ? values : [];
}

// Interleaved: two aborted transactions of the same producer, one large enough to span many small fetches.
const expected = [
  ...(await transaction('c1', 20, 'commit')),
  ...(await transaction('a1', 400, 'abort')),
  ...(await transaction('c2', 20, 'commit')),
  ...(await transaction('a2', 30, 'abort')),
  ...(await transaction('c3', 20, 'commit')),
];

describe('read_committed consumers of transactional topics', () => {
  it('a message stream delivers exactly the committed records, with small fetches cutting transactions apart', async () => {
    const consumer = new Consumer({
      clientId: 'test-rc',
      groupId: uniqueName('test-rc'),
      bootstrapBrokers: brokers(),
      deserializers: stringDeserializers,
      maxWaitTime: 200,
      // A few batches per response: markers and aborted batches land in different responses.
      maxBytes: 2048,
    });
    const stream = await consumer.consume({
      topics: [topics.data],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
      maxBytes: 2048,
    });
    const seen: string[] = [];
    const timer = setTimeout(() => void stream.close(), 20_000);
    for await (const message of stream) {
      seen.push(message.value as string);
      if (seen.length >= expected.length) break;
    }
    clearTimeout(timer);
    // Anything after the last committed record would also be wrong: give it a moment to arrive.
    await stream.close();
    await consumer.close(true);
    expect(seen).toEqual(expected);
  });

  it('direct fetches (the processor restoring its checkpoints) skip aborted records, from any start offset', async () => {
    const fetcher = new Consumer({
      clientId: 'test-rc-fetch',
      groupId: uniqueName('test-rc'),
      bootstrapBrokers: brokers(),
    });
    const limits = { maxWaitMs: 100, maxBytes: 2048, partitionMaxBytes: 2048 };
    const readFrom = async (start: number) => {
      const values: string[] = [];
      let offset = start;
      for (let round = 0; round < 2000; round++) {
        const [fetched] = await fetchPartitions(fetcher, [{ topic: topics.data, partition: 0, offset }], limits);
        if (!fetched || fetched.nextOffset === offset) break;
        for (const r of fetched.records) values.push(r.value?.toString() ?? '');
        offset = fetched.nextOffset;
      }
      return values;
    };
    try {
      expect(await readFrom(0)).toEqual(expected);
      // Offset 21 is a1's first record, 421 its abort marker (a start there made the unpatched client throw).
      expect(await readFrom(21)).toEqual(expected.slice(20));
      expect(await readFrom(421)).toEqual(expected.slice(20));
    } finally {
      await fetcher.close(true);
    }
  });
});
