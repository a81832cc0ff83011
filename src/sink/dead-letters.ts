/**
 * Records the sink cannot store go to the dead-letter topic, unchanged, with why and where from in headers
 * (`reason`, `source` = topic/partition/offset, `stage` = sink), before the offsets covering them are committed.
 */
import type { Message } from '@platformatic/kafka';
import type { KafkaConnection } from '../bus/kafka-admin.js';
import { createProducer, type Producer } from '../bus/producer.js';

export type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export interface Rejected {
  message: RawMessage;
  reason: string;
}

export interface DeadLetterPublisher {
  publish(rejected: Rejected[]): Promise<void>;
  close(): Promise<void>;
}

export function createDeadLetterPublisher(options: { kafka: KafkaConnection; topic: string }): DeadLetterPublisher {
  // Created on first use: most runs never dead-letter anything.
  let producer: Producer<Buffer, Buffer, Buffer, Buffer> | undefined;
  return {
    async publish(rejected) {
      producer ??= createProducer({
        clientId: `${options.kafka.clientId}-sink-dlq`,
        bootstrapBrokers: options.kafka.brokers,
        idempotent: true,
      });
      await producer.send({
        messages: rejected.map(({ message, reason }) => ({
          topic: options.topic,
          key: message.key,
          value: message.value,
          headers: new Map([
            [Buffer.from('reason'), Buffer.from(reason)],
            [Buffer.from('source'), Buffer.from(`${message.topic}/${message.partition}/${message.offset}`)],
            [Buffer.from('stage'), Buffer.from('sink')],
          ]),
        })),
      });
    },
    async close() {
      await producer?.close();
    },
  };
}
