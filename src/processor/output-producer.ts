/**
 * Writes the processor's outputs to Kafka. Runs on the output thread (`output-worker.ts`), so that building
 * producer messages, encoding record batches and compressing them do not take time from processing.
 *
 * Two guarantees (`PROCESSOR_GUARANTEE`):
 * - at-least-once: one idempotent producer per output partition number, sends in parallel;
 * - exactly-once: one transactional producer; a transaction is open from the first write after a commit until a
 *   write that carries `commit`, which adds the source offsets the checkpoints cover (TxnOffsetCommit with the
 *   group generation and member id, KIP-447) and commits. A member of an older generation (a paused instance
 *   whose partitions moved on) is refused by the group coordinator and its transaction aborted, so nothing it
 *   wrote becomes visible to read_committed consumers.
 */
import { createProducer, type Producer, SEND_CHUNK_BYTES } from '../bus/producer.js';

/** The client's transaction (its class is not exported from the package root). */
type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;

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
  /** Exactly-once: writes go into transactions of this producer. */
  transactional?: {
    transactionalId: string;
    /** The broker aborts a transaction left open longer (a crashed or paused instance's). */
    timeoutMs: number;
  };
}

/** The source offsets a transaction commits for the consumer group, fenced by the member's generation. */
export interface SourceOffsetsCommit {
  groupId: string;
  generationId: number;
  memberId: string;
  /** The group coordinator's broker id. */
  coordinatorId: number;
  /** Per source topic-partition the next offset to process. */
  offsets: { topic: string; partition: number; next: number }[];
}

/** One unit of writing: `records` first, then the packed ones. */
export interface OutputWrite {
  records: PlainRecord[];
  packed?: PackedOutputs;
  /** Exactly-once: after this write, commit the transaction with these source offsets. */
  commit?: SourceOffsetsCommit;
}

/** How long an abort may take before the producer is dropped instead. */
const ABORT_TIMEOUT_MS = 3000;

/** Aborts `transaction`; false if that failed or took longer than `timeoutMs`. */
async function abortWithin(transaction: Transaction, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const aborted = transaction.abort().then(
    () => true,
    () => false,
  );
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([aborted, late]);
  } finally {
    clearTimeout(timer);
  }
}

export class OutputProducer {
  readonly #options: OutputProducerOptions;
  /**
   * One idempotent producer per output partition number: sends in parallel while each keeps its partitions'
   * order (sends on one producer are sequential). Idempotent, so that a retried send cannot duplicate
   * JOIN_EVENTS rows or reorder table updates.
   */
  #producers = new Map<number, Producer>();
  /** Exactly-once: the transactional producer and its open transaction. */
  #transactional: Producer | null = null;
  #transaction: Transaction | null = null;

  constructor(options: OutputProducerOptions) {
    this.#options = options;
  }

  /** Writes everything and resolves once the broker acknowledged it all (and, with `commit`, committed it). */
  async write(write: OutputWrite): Promise<void> {
    if (this.#options.transactional) return this.#withTimeout(() => this.#writeInTransaction(write));
    if (write.commit) throw new Error('a commit needs a transactional output producer');
    return this.#writeIdempotent(write);
  }

  /** Exactly-once: aborts the open transaction, if any (its outputs are replayed by whoever owns the partitions). */
  async abort(): Promise<void> {
    const transaction = this.#transaction;
    this.#transaction = null;
    if (!transaction) return;
    // If it cannot be aborted now, the next producer's InitProducerId (same transactional id) aborts it.
    if (!(await abortWithin(transaction, ABORT_TIMEOUT_MS))) await this.close();
  }

  async #writeInTransaction({ records, packed, commit }: OutputWrite): Promise<void> {
    const producer = this.#transactionalProducer();
    this.#transaction ??= await producer.beginTransaction();
    const transaction = this.#transaction;
    // Plain records first, then the packed ones: per partition the same order as the idempotent lanes.
    const list: number[] = [];
    for (let j = 0; j < records.length; j++) list.push(-1 - j);
    if (packed) for (let i = 0; i < packed.count; i++) list.push(i);
    const message = (n: number) =>
      n >= 0 ? packedMessage(packed as PackedOutputs, n) : plainMessage(records[-1 - n] as PlainRecord);
    // Sends on one producer one at a time: its sequence numbers must follow the order of the sends.
    await this.#sendInOrder((messages) => transaction.send({ messages }), list, message);
    if (!commit) return;
    // The client takes a consumer and consumed messages, of which it reads only the group id (AddOffsetsToTxn) and
    // topic, partition, offset and group membership (TxnOffsetCommit): the processor's fetches go through no
    // message stream, so they are given as such.
    const { groupId, generationId, memberId, coordinatorId } = commit;
    await transaction.addConsumer({ groupId } as unknown as Parameters<Transaction['addConsumer']>[0]);
    const metadata = { consumer: { groupId, generationId, memberId, coordinatorId } };
    // One TxnOffsetCommit per partition, in sequence (the client deduplicates concurrent ones).
    for (const { topic, partition, next } of commit.offsets) {
      if (next <= 0) continue;
      // The client commits `offset + 1`.
      const consumed = { topic, partition, offset: BigInt(next - 1), metadata };
      await transaction.addOffset(consumed as unknown as Parameters<Transaction['addOffset']>[0]);
    }
    await transaction.commit();
    this.#transaction = null;
  }

  /** Runs `operation`; a failure or no answer in time replaces the producers (see `write`). */
  async #withTimeout(operation: () => Promise<void>): Promise<void> {
    const timeoutMs = this.#options.writeTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`output write not acknowledged within ${timeoutMs} ms (is the broker reachable?)`)),
        timeoutMs,
      );
    });
    const running = operation();
    // The losing operation fails once its producers are closed below; nothing waits for it.
    running.catch(() => undefined);
    try {
      await Promise.race([running, timeout]);
    } catch (err) {
      // A failed send leaves an idempotent producer's sequence numbers unusable (every later send fails with
      // OUT_OF_ORDER_SEQUENCE_NUMBER), and a fenced or failed transactional producer cannot go on: start over with
      // new producers. A transaction left open would hold back every read_committed reader of its partitions (and
      // this processor's own restore) until its timeout: it is aborted first, in bounded time (a new producer
      // with the same transactional id aborts it too, at its first write).
      const transaction = this.#transaction;
      this.#transaction = null;
      if (transaction) await abortWithin(transaction, ABORT_TIMEOUT_MS);
      await this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async #writeIdempotent({ records, packed }: OutputWrite): Promise<void> {
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
    await this.#withTimeout(() =>
      Promise.all([...lanes].map(([partition, list]) => this.#sendLane(this.#producer(partition), list, message))).then(
        () => undefined,
      ),
    );
  }

  async close(): Promise<void> {
    const producers = [...this.#producers.values(), ...(this.#transactional ? [this.#transactional] : [])];
    this.#producers = new Map();
    this.#transactional = null;
    this.#transaction = null;
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

  #transactionalProducer(): Producer {
    const transactional = this.#options.transactional;
    if (!transactional) throw new Error('not a transactional output producer');
    this.#transactional ??= createProducer({
      clientId: `${this.#options.clientId}-processor-tx`,
      bootstrapBrokers: this.#options.brokers,
      idempotent: true,
      transactionalId: transactional.transactionalId,
      // "No producer yet" in InitProducerId. The client's default (id 0, epoch 0) reads to the broker as an epoch
      // bump of producer 0, refused with PRODUCER_FENCED once the transactional id has a producer: a new producer
      // (after a failure or a restart with static membership) could never start.
      producerId: -1n,
      producerEpoch: -1,
      compression: 'lz4',
      // Retried quickly: after a commit the next transaction's first send waits (CONCURRENT_TRANSACTIONS) until the
      // broker has written the markers, a few ms; with the default 250 ms between retries a transaction took 1 s.
      retries: 50,
      retryDelay: 20,
      connectTimeout: 3000,
      requestTimeout: 10_000,
      // The client sends this as the transaction timeout (InitProducerId) as well as the produce timeout.
      timeout: transactional.timeoutMs,
    });
    return this.#transactional;
  }

  /** Sends in order, in bounded chunks; messages are built per chunk, so few are alive at a time. */
  async #sendLane(producer: Producer, list: number[], message: (n: number) => Message): Promise<void> {
    await this.#sendInOrder((messages) => producer.send({ messages }), list, message);
  }

  async #sendInOrder(
    send: (messages: Message[]) => Promise<unknown>,
    list: number[],
    message: (n: number) => Message,
  ): Promise<void> {
    let chunk: Message[] = [];
    // Bytes per topic-partition of the chunk: the broker's message size limit bounds each partition's record batch,
    // not the request, so a chunk spread over partitions may carry that much for each (fewer round trips for the
    // transactional producer, which sends every partition from one producer).
    let bytes = new Map<string, number>();
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      const m = message(list[i] as number);
      chunk.push(m);
      const size = (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;
      const batch = `${m.topic}:${m.partition ?? -1}`;
      const inBatch = (bytes.get(batch) ?? 0) + size;
      bytes.set(batch, inBatch);
      total += size;
      // Bounded sends keep every partition's record batch under the limit, and a request under a few of them.
      if (inBatch >= SEND_CHUNK_BYTES || total >= 4 * SEND_CHUNK_BYTES || i === list.length - 1) {
        await send(chunk);
        chunk = [];
        bytes = new Map();
        total = 0;
      }
    }
  }
}
