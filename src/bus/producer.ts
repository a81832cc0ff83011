/**
 * The one way the app creates Kafka producers: with the Java client's key partitioning (`partitioner.ts`), so a
 * device lands on the same partition whoever produced it (this app, Kafka Connect, ksqlDB, kcat with
 * `-X partitioner=murmur2_random`). Biome forbids `new Producer` elsewhere.
 */
import { Producer, type ProducerOptions } from '@platformatic/kafka';
import { javaCompatiblePartitioner } from './partitioner.js';

export function createProducer<K = Buffer, V = Buffer, HK = Buffer, HV = Buffer>(
  options: Omit<ProducerOptions<K, V, HK, HV>, 'partitioner'>,
): Producer<K, V, HK, HV> {
  return new Producer<K, V, HK, HV>({ ...options, partitioner: javaCompatiblePartitioner });
}

export type { Producer } from '@platformatic/kafka';
