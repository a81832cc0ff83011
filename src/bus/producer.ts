/**
 * The one way the app creates Kafka producers: with the Java client's key partitioning (`partitioner.ts`), so a
 * device lands on the same partition whoever produced it (this app, Kafka Connect, ksqlDB, kcat with
 * `-X partitioner=murmur2_random`). Biome forbids `new Producer` elsewhere.
 */
import { type MessageToProduce, Producer, type ProducerOptions } from '@platformatic/kafka';
import { javaCompatiblePartitioner } from './partitioner.js';

export function createProducer<K = Buffer, V = Buffer, HK = Buffer, HV = Buffer>(
  options: Omit<ProducerOptions<K, V, HK, HV>, 'partitioner'>,
): Producer<K, V, HK, HV> {
  return new Producer<K, V, HK, HV>({ ...options, partitioner: javaCompatiblePartitioner });
}

export type { Producer } from '@platformatic/kafka';

/**
 * Bytes per send, before compression: below the broker's default `message.max.bytes` (1 MiB), which bounds one
 * partition's record batch of one request. A send of many records to one partition must be split.
 */
export const SEND_CHUNK_BYTES = 600_000;

/** Sends `messages` in order, in requests of at most about `SEND_CHUNK_BYTES` each. */
export async function sendInChunks(
  producer: Producer,
  messages: readonly MessageToProduce<Buffer, Buffer, Buffer, Buffer>[],
  chunkBytes = SEND_CHUNK_BYTES,
): Promise<void> {
  let chunk: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = [];
  let bytes = 0;
  for (const [i, m] of messages.entries()) {
    chunk.push(m);
    bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;
    if (bytes >= chunkBytes || i === messages.length - 1) {
      await producer.send({ messages: chunk });
      chunk = [];
      bytes = 0;
    }
  }
}
