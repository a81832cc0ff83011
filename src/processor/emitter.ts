/**
 * The output side: turns topology updates into Kafka records with ksqlDB's keys, values and timestamps, and
 * buffers them until the next flush.
 *
 * - `every-update`: every change is written, in order (ksqlDB with `cache.max.bytes.buffering = 0`, as its test
 *   tools run).
 * - `coalesce` (default): per2s and per-device updates are coalesced per key until the flush, like ksqlDB's
 *   record cache flushed at each commit; the last state per key — the one sinks keep — is the same in both
 *   modes. JOIN_EVENTS is a stream, so every row is written in both modes.
 *
 * Every record goes to the partition number of the source partition it came from, so a restarted or new
 * owner of partition `p` finds the per-device table of its devices in partition `p` of the table's topic.
 */
import type { MessageToProduce } from '@platformatic/kafka';
import type { DeviceLatestRecord, JoinEventRecord, WindowAggregateRecord } from '../core/results.js';
import { encodeWindowedKey } from '../core/results.js';
import type { Side, TopologyOutput } from '../core/topology.js';
import type { WindowBounds } from '../core/window.js';
import type { FetchedRecord } from './fetcher.js';

export type EmitMode = 'every-update' | 'coalesce';

export interface OutputTopics {
  joinEvents: string;
  per2s: string;
  perDevice: string;
  deadLetters: string;
}

export type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

interface Pending {
  topic: string;
  partition: number;
  key: Buffer;
  ts: number;
  value: object;
}

export class OutputBuffer {
  readonly #mode: EmitMode;
  readonly #topics: OutputTopics;
  #ordered: Pending[] = [];
  #coalesced = new Map<string, Pending>();
  #deadLetters: Message[] = [];

  constructor(mode: EmitMode, topics: OutputTopics) {
    this.#mode = mode;
    this.#topics = topics;
  }

  get size(): number {
    return this.#ordered.length + this.#coalesced.size + this.#deadLetters.length;
  }

  /** The topology output of source partition `partition`. */
  forPartition(partition: number): TopologyOutput {
    const t = this.#topics;
    return {
      joinRow: (deviceId: string, ts: number, record: JoinEventRecord) =>
        this.#ordered.push({ topic: t.joinEvents, partition, key: Buffer.from(deviceId), ts, value: record }),
      windowUpdate: (deviceId: string, window: WindowBounds, ts: number, record: WindowAggregateRecord) =>
        this.#update(`w\u0000${deviceId}\u0000${window.start}`, {
          topic: t.per2s,
          partition,
          key: encodeWindowedKey(deviceId, window.start),
          ts,
          value: record,
        }),
      deviceUpdate: (deviceId: string, ts: number, record: DeviceLatestRecord) =>
        this.#update(`d\u0000${deviceId}`, {
          topic: t.perDevice,
          partition,
          key: Buffer.from(deviceId),
          ts,
          value: record,
        }),
    };
  }

  #update(key: string, pending: Pending): void {
    if (this.#mode === 'every-update') this.#ordered.push(pending);
    else {
      // Delete first so the map keeps the order of the latest updates.
      this.#coalesced.delete(key);
      this.#coalesced.set(key, pending);
    }
  }

  deadLetter(sourceTopic: string, side: Side, partition: number, record: FetchedRecord, reason: string): void {
    const headers = new Map<Buffer, Buffer>(
      [
        ['reason', reason],
        ['source.topic', sourceTopic],
        ['source.side', side],
        ['source.partition', String(partition)],
        ['source.offset', String(record.offset)],
      ].map(([k, v]) => [Buffer.from(k as string), Buffer.from(v as string)]),
    );
    const message: Message = { topic: this.#topics.deadLetters, headers, timestamp: BigInt(record.timestamp) };
    if (record.key) message.key = record.key;
    if (record.value) message.value = record.value;
    this.#deadLetters.push(message);
  }

  /** Everything buffered, in write order, as producer messages; empties the buffer. */
  drain(): Message[] {
    const out: Message[] = [...this.#deadLetters];
    for (const p of this.#ordered) out.push(toMessage(p));
    for (const p of this.#coalesced.values()) out.push(toMessage(p));
    this.#ordered = [];
    this.#coalesced = new Map();
    this.#deadLetters = [];
    return out;
  }

  /** Drops what is buffered for partitions a rebalance took away (a new owner replays them). */
  clear(): void {
    this.#ordered = [];
    this.#coalesced = new Map();
    this.#deadLetters = [];
  }
}

function toMessage(p: Pending): Message {
  return {
    topic: p.topic,
    partition: p.partition,
    key: p.key,
    value: Buffer.from(JSON.stringify(p.value)),
    timestamp: BigInt(p.ts),
  };
}
