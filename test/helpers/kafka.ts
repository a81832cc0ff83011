/**
 * Per-test Kafka isolation: topics and groups carry a random suffix, are created explicitly with equal
 * partition counts, and are deleted when the test file finishes.
 */
import { randomBytes } from 'node:crypto';
import { Admin, Consumer, MessagesStreamModes, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { afterAll, inject } from 'vitest';
import { createProducer } from '../../src/bus/producer.js';

export const brokers = () => inject('kafkaBrokers').split(',');
export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

/** Creates topics for this test file (deleted in afterAll) and returns their names by key. */
export async function createTestTopics<K extends string>(
  names: Record<K, string>,
  partitions = 3,
  configs: Record<string, string> = {},
  on: string[] = brokers(),
): Promise<Record<K, string>> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: on });
  const unique = Object.fromEntries(Object.entries(names).map(([k, v]) => [k, uniqueName(v as string)])) as Record<
    K,
    string
  >;
  await admin.createTopics({
    topics: Object.values(unique),
    partitions,
    replicas: 1,
    configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: Object.values(unique) }).catch(() => undefined);
    await admin.close();
  });
  return unique;
}

export function createStringProducer() {
  return createProducer({ clientId: 'test-producer', bootstrapBrokers: brokers(), serializers: stringSerializers });
}

/** Reads `count` records from the start of `topics` with a fresh group; fails after `timeoutMs`. */
export async function readRecords(topics: string[], count: number, timeoutMs = 30_000) {
  const consumer = new Consumer({
    clientId: 'test-reader',
    groupId: uniqueName('test-reader'),
    bootstrapBrokers: brokers(),
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  const records: {
    topic: string;
    partition: number;
    offset: bigint;
    key: string;
    value: string;
    headers: Map<string, string>;
  }[] = [];
  const stream = await consumer.consume({ topics, mode: MessagesStreamModes.EARLIEST, autocommit: false });
  const timer = setTimeout(() => void stream.close(), timeoutMs);
  try {
    // A group rebalance can hand a partition back from its start (nothing is committed): skip offsets seen.
    const seen = new Set<string>();
    for await (const m of stream) {
      const position = `${m.topic}/${m.partition}/${m.offset}`;
      if (seen.has(position)) continue;
      seen.add(position);
      records.push({
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        headers: m.headers,
      });
      if (records.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    await stream.close().catch(() => undefined);
    await consumer.close(true);
  }
  return records;
}
