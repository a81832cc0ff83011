/**
 * Writes the processor's outputs to Kafka. Runs on the output thread (`output-worker.ts`), so that building
 * producer messages, encoding record batches and compressing them do not take time from processing.
 */
import { createProducer, type Producer, SEND_CHUNK_BYTES } from '../bus/producer.js';
import {
  type Message,
  type PackedOutputs,
  type PlainRecord,
  packedMessage,
  packedPartition,
  plainMessage,
} from './packed-outputs.js';

export interface OutputProducerOptions {
  brokers: string[];
  clientId: string;
  /**
   * A write not acknowledged by then fails (and its producers are replaced), so that a broker that accepts
   * connections but does not answer makes the processor retry with backoff and report itself not ready instead
   * of hanging. @default 30_000
   */
  writeTimeoutMs?: number;
}

/** One unit of writing: `records` first, then the packed ones. */
export interface OutputWrite {
  records: PlainRecord[];
  packed?: PackedOutputs;
}

export class OutputProducer {
  readonly #options: OutputProducerOptions;
  /**
   * One idempotent producer per output partition number: sends in parallel while each keeps its partitions'
   * order (sends on one producer are sequential). Idempotent, so that a retried send cannot duplicate
   * JOIN_EVENTS rows or reorder table updates.
   */
  #producers = new Map<number, Producer>();

  constructor(options: OutputProducerOptions) {
    this.#options = options;
  }

  /** Writes everything and resolves once the broker acknowledged it all. */
  async write({ records, packed }: OutputWrite): Promise<void> {
    // Per lane, record numbers: packed record i as i, plain record j as -1 - j (no object per record).
    const lanes = new Map<number, number[]>();
    const lane = (partition: number | undefined) => {
      const key = partition ?? -1;
      let list = lanes.get(key);
      if (!list) {
        list = [];
        lanes.set(key, list);
      }
      return list;
    };
    for (let j = 0; j < records.length; j++) lane((records[j] as PlainRecord).partition).push(-1 - j);
    if (packed) for (let i = 0; i < packed.count; i++) lane(packedPartition(packed, i)).push(i);
    const message = (n: number) =>
      n >= 0 ? packedMessage(packed as PackedOutputs, n) : plainMessage(records[-1 - n] as PlainRecord);
    const timeoutMs = this.#options.writeTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`output write not acknowledged within ${timeoutMs} ms (is the broker reachable?)`)),
        timeoutMs,
      );
    });
    const sends = Promise.all(
      [...lanes].map(([partition, list]) => this.#sendLane(this.#producer(partition), list, message)),
    );
    // The losing sends fail once their producers are closed below; nothing waits for them.
    sends.catch(() => undefined);
    try {
      await Promise.race([sends, timeout]);
    } catch (err) {
      // A failed send leaves an idempotent producer's sequence numbers unusable (every later send fails with
      // OUT_OF_ORDER_SEQUENCE_NUMBER): start over with new producers.
      await this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const producers = [...this.#producers.values()];
    this.#producers = new Map();
    await Promise.allSettled(producers.map((p) => (p.close as (force?: boolean) => Promise<void>).call(p, true)));
  }

  #producer(lane: number): Producer {
    let producer = this.#producers.get(lane);
    if (!producer) {
      producer = createProducer({
        clientId: `${this.#options.clientId}-processor-${lane}`,
        bootstrapBrokers: this.#options.brokers,
        idempotent: true,
        compression: 'lz4',
        // As the simulators' producer: short library retries, so that a dead broker surfaces as a failed write
        // (the processor retries with backoff) rather than a call that never returns; above 1 on purpose, the
        // library retries forever with 0 or 1 for idempotent producers.
        retries: 2,
        retryDelay: 200,
        connectTimeout: 3000,
        requestTimeout: 10_000,
        timeout: 10_000,
      });
      this.#producers.set(lane, producer);
    }
    return producer;
  }

  /** Sends in order, in bounded chunks; messages are built per chunk, so few are alive at a time. */
  async #sendLane(producer: Producer, list: number[], message: (n: number) => Message): Promise<void> {
    let chunk: Message[] = [];
    let bytes = 0;
    for (let i = 0; i < list.length; i++) {
      const m = message(list[i] as number);
      chunk.push(m);
      bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;
      // Bounded sends keep every partition's record batch under the broker's message size limit.
      if (bytes >= SEND_CHUNK_BYTES || i === list.length - 1) {
        await producer.send({ messages: chunk });
        chunk = [];
        bytes = 0;
      }
    }
  }
}
