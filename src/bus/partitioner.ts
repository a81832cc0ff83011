/**
 * Kafka's default key partitioning, as the Java client (`BuiltInPartitioner.partitionForKey`), Kafka Connect,
 * ksqlDB and librdkafka's `murmur2_random` compute it: `(murmur2(key) & 0x7fffffff) % partitions`.
 *
 * @platformatic/kafka's default partitioner uses `murmur2(key) >>> 0` instead, which sends about half of all
 * keys to a different partition than every other client: the same device then lands on two partitions and its
 * state splits across processors. Every producer of the app uses `javaCompatiblePartitioner` (created through
 * `bus/producer.ts`).
 *
 * The hash is written here with 32-bit integer arithmetic because the library's `murmur2` works in BigInt:
 * 1,344 ns per key against 73 ns here (100,000 device-id keys, Node 20), and the processor hashes every source
 * record to check its partition. `partitioner.test.ts` checks it against the library's function, and
 * `test/adapters/partitioner-java.test.ts` against Kafka's own Java producer.
 */
import type { MessageToProduce } from '@platformatic/kafka';

const M = 0x5bd1e995;
const SEED = 0x9747b28c;

/** Kafka's `Utils.murmur2` over the key bytes, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const end = length - (length % 4);
  for (let i = 0; i < end; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16);
    k |= (data[i + 3] as number) << 24;
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const rest = length % 4;
  if (rest === 3) h ^= (data[end + 2] as number) << 16;
  if (rest >= 2) h ^= (data[end + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[end] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's Java client chooses for `key` among `partitions`. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/**
 * A @platformatic/kafka partitioner with the Java client's choice. It returns the positive hash; the library
 * takes it modulo the topic's partition count. Records without a key go to partition 0, as the library's own
 * partitioners do (the app's producers always set a key).
 */
export function javaCompatiblePartitioner<K, V, HK, HV>(
  _message: MessageToProduce<K, V, HK, HV>,
  key: Buffer | undefined,
): number {
  return key ? murmur2(key) & 0x7fffffff : 0;
}
