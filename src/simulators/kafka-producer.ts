/**
 * The Kafka edge of the simulators: an idempotent producer (acks from all in-sync replicas, one in-flight
 * request, broker-side de-duplication of retried batches) with compression, behind the `SendBatch` function
 * the batching sender calls. Batching and backpressure live in `batching-sender.ts`; this adapter only
 * sends what it is given. The library's own retries are kept short so a dead broker surfaces as a failed
 * send (counted and retried by the sender) rather than as a call that never returns.
 */
import { ProduceAcks, stringSerializers } from '@platformatic/kafka';
import type { KafkaConnection } from '../bus/kafka-admin.js';
import { createProducer } from '../bus/producer.js';
import type { SendBatch } from './batching-sender.js';

export type SimulatorCompression = 'lz4' | 'snappy' | 'gzip' | 'none';

export interface KafkaBatchSenderOptions {
  kafka: KafkaConnection;
  /** @default 'lz4' */
  compression?: SimulatorCompression;
  /** @default 3000 */
  connectTimeoutMs?: number;
  /** @default 10000 */
  requestTimeoutMs?: number;
}

export interface KafkaBatchSender {
  send: SendBatch;
  close(): Promise<void>;
}

export function createKafkaBatchSender(options: KafkaBatchSenderOptions): KafkaBatchSender {
  const producer = createProducer({
    clientId: `${options.kafka.clientId}-simulator`,
    bootstrapBrokers: options.kafka.brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression: options.compression ?? 'lz4',
    // Above 1 on purpose: the library turns 0 or 1 into "retry forever" for idempotent producers.
    retries: 2,
    retryDelay: 200,
    connectTimeout: options.connectTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    timeout: options.requestTimeoutMs ?? 10_000,
  });
  return {
    async send(records) {
      await producer.send({
        messages: records.map((r) => ({ topic: r.topic, key: r.key, value: r.value, timestamp: BigInt(r.timestamp) })),
      });
    },
    async close() {
      await producer.close(true);
    },
  };
}
