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

/** A coalesced table update; its value is read from `snapshot` when the record is built. */
interface Pending {
  topic: string;
  partition: number;
  deviceId: string;
  /** Set for the windowed table: the key carries the window start. */
  windowStart: number | null;
  ts: number;
  snapshot: () => object;
}

/** Bounds the device-key cache for unbounded key spaces; 1000s of devices stay cached across flushes. */
const MAX_CACHED_KEYS = 100_000;
const SLAB_BYTES = 1024 * 1024;

/**
 * Append-only byte slabs for output values. Encoding a value as soon as it is produced lets its JSON string die
 * young, and a shared slab avoids one pooled allocation per record; a slab is freed once no record views it.
 */
class Slab {
  #buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  #used = 0;
  /** Where the last `append` put its bytes. */
  last = { buffer: this.#buffer, start: 0, end: 0 };

  append(text: string): void {
    const max = text.length * 3;
    if (this.#used + max > this.#buffer.length) {
      this.#buffer = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, max));
      this.#used = 0;
    }
    const start = this.#used;
    this.#used += this.#buffer.write(text, start, 'utf8');
    this.last.buffer = this.#buffer;
    this.last.start = start;
    this.last.end = this.#used;
  }

  write(text: string): Buffer {
    this.append(text);
    return this.last.buffer.subarray(this.last.start, this.last.end);
  }
}

/** Buffered outputs in write order; messages are built on demand (see `OutputBuffer.drainBatch`). */
export interface OutputBatch {
  readonly length: number;
  /** The record's partition (undefined: the producer's partitioner picks one). */
  partition(i: number): number | undefined;
  message(i: number): Message;
}

/** Wraps ready-made messages as a batch. */
export function messageBatch(messages: Message[]): OutputBatch {
  return {
    length: messages.length,
    partition: (i) => (messages[i] as Message).partition,
    message: (i) => messages[i] as Message,
  };
}

/** Encoded records as parallel arrays: no object per record (topics and keys are shared references). */
class Rows {
  readonly #topics: string[] = [];
  readonly #partitions: number[] = [];
  readonly #keys: Buffer[] = [];
  /** Values as slab ranges rather than Buffer views: a view is an object per record. */
  readonly #slabs: Buffer[] = [];
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  readonly #timestamps: number[] = [];

  get length(): number {
    return this.#topics.length;
  }

  push(
    topic: string,
    partition: number,
    key: Buffer,
    value: { buffer: Buffer; start: number; end: number },
    ts: number,
  ): void {
    this.#topics.push(topic);
    this.#partitions.push(partition);
    this.#keys.push(key);
    this.#slabs.push(value.buffer);
    this.#starts.push(value.start);
    this.#ends.push(value.end);
    this.#timestamps.push(ts);
  }

  partition(i: number): number {
    return this.#partitions[i] as number;
  }

  message(i: number): Message {
    return {
      topic: this.#topics[i] as string,
      partition: this.#partitions[i] as number,
      key: this.#keys[i] as Buffer,
      value: (this.#slabs[i] as Buffer).subarray(this.#starts[i], this.#ends[i]),
      timestamp: BigInt(this.#timestamps[i] as number),
    };
  }
}

export class OutputBuffer {
  readonly #mode: EmitMode;
  readonly #topics: OutputTopics;
  /** Records in write order (stream rows, and table updates in every-update mode), already encoded. */
  #ordered = new Rows();
  /** Keyed by the table entry's stable snapshot function: one pending record per window / device. */
  #coalesced = new Map<() => object, Pending>();
  #deadLetters: Message[] = [];
  readonly #slab = new Slab();
  /** Device ids as key bytes; producers only read keys, so records share them. */
  #keys = new Map<string, Buffer>();

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
      joinRow: (deviceId: string, ts: number, record: JoinEventRecord) => {
        this.#slab.append(joinEventJson(record));
        this.#ordered.push(t.joinEvents, partition, this.#key(deviceId), this.#slab.last, ts);
      },
      windowUpdate: (deviceId: string, window: WindowBounds, ts: number, snapshot: () => WindowAggregateRecord) =>
        this.#update(t.per2s, partition, deviceId, window.start, ts, snapshot),
      deviceUpdate: (deviceId: string, ts: number, snapshot: () => DeviceLatestRecord) =>
        this.#update(t.perDevice, partition, deviceId, null, ts, snapshot),
    };
  }

  #key(deviceId: string): Buffer {
    let key = this.#keys.get(deviceId);
    if (!key) {
      if (this.#keys.size >= MAX_CACHED_KEYS) this.#keys = new Map();
      key = Buffer.from(deviceId);
      this.#keys.set(deviceId, key);
    }
    return key;
  }

  #update(
    topic: string,
    partition: number,
    deviceId: string,
    windowStart: number | null,
    ts: number,
    snapshot: () => object,
  ): void {
    if (this.#mode === 'every-update') {
      // Freeze the value of this very update.
      const m = this.#toMessage({ topic, partition, deviceId, windowStart, ts, snapshot });
      const bytes = m.value as Buffer;
      this.#ordered.push(topic, partition, m.key as Buffer, { buffer: bytes, start: 0, end: bytes.length }, ts);
      return;
    }
    // The value is built at drain time; only the latest timestamp matters until then (no object per update).
    const existing = this.#coalesced.get(snapshot);
    if (existing) existing.ts = ts;
    else this.#coalesced.set(snapshot, { topic, partition, deviceId, windowStart, ts, snapshot });
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
    const batch = this.drainBatch();
    return Array.from({ length: batch.length }, (_, i) => batch.message(i));
  }

  /**
   * Everything buffered, in write order; empties the buffer. Stream rows become producer messages only when
   * `message(i)` is called, so the many buffered rows cost the garbage collector almost nothing until sent.
   */
  drainBatch(): OutputBatch {
    const head = this.#deadLetters;
    const rows = this.#ordered;
    const tail: Message[] = [];
    for (const p of this.#coalesced.values()) tail.push(this.#toMessage(p));
    this.clear();
    const rowsEnd = head.length + rows.length;
    return {
      length: rowsEnd + tail.length,
      partition: (i) => {
        if (i < head.length) return (head[i] as Message).partition;
        if (i < rowsEnd) return rows.partition(i - head.length);
        return (tail[i - rowsEnd] as Message).partition;
      },
      message: (i) => {
        if (i < head.length) return head[i] as Message;
        if (i < rowsEnd) return rows.message(i - head.length);
        return tail[i - rowsEnd] as Message;
      },
    };
  }

  /** Drops what is buffered (after a rebalance the new owner replays it). */
  clear(): void {
    this.#ordered = new Rows();
    this.#coalesced = new Map();
    this.#deadLetters = [];
  }

  #toMessage(p: Pending): Message {
    return {
      topic: p.topic,
      partition: p.partition,
      key: p.windowStart === null ? this.#key(p.deviceId) : encodeWindowedKey(p.deviceId, p.windowStart),
      value: this.#slab.write(JSON.stringify(p.snapshot())),
      timestamp: BigInt(p.ts),
    };
  }
}

// JSON.stringify of a finite number is its String(); strings go through JSON.stringify for escaping.
const num = (n: number | null): string => (n === null ? 'null' : String(n));
const str = (s: string | null): string => (s === null ? 'null' : JSON.stringify(s));

/** The JOIN_EVENTS value, byte-identical to `JSON.stringify(record)` but without its generic walk (hot path). */
export function joinEventJson(r: JoinEventRecord): string {
  return (
    `{"ID":${str(r.ID)},"LATITUDE":${num(r.LATITUDE)},"LONGITUDE":${num(r.LONGITUDE)},"DISTANCE":${num(r.DISTANCE)},` +
    `"EVENT_TS":${num(r.EVENT_TS)},"DI_":${str(r.DI_)},"TEMPERATURE":${num(r.TEMPERATURE)},"SOUND":${num(r.SOUND)},` +
    `"ALTITUDE":${num(r.ALTITUDE)}}`
  );
}
