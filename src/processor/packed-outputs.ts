/**
 * Output records packed into a few transferable buffers, so that a whole flush crosses to the output thread
 * (`output-thread.ts`) without a copy and without one object per record. The processing thread writes each
 * key and value once, as bytes, straight into shared chunks; only the output thread builds producer messages.
 */
import type { MessageToProduce } from '@platformatic/kafka';

export type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/** A record that needs what packing leaves out (headers): dead letters and checkpoints. Structured-cloneable. */
export interface PlainRecord {
  topic: string;
  partition?: number;
  key?: Uint8Array;
  value?: Uint8Array;
  headers?: [string, string][];
  /** Absent: the producer's clock. */
  timestamp?: number;
}

export interface PackedOutputs {
  /** Topic names; records refer to them by index. */
  topics: string[];
  /** Key and value bytes of all records. */
  chunks: ArrayBuffer[];
  count: number;
  /** `REF_STRIDE` numbers per record; see the `REF_*` offsets. A key chunk of -1 means no key. */
  refs: Int32Array;
  timestamps: Float64Array;
}

const REF_TOPIC = 0;
const REF_PARTITION = 1;
const REF_KEY_CHUNK = 2;
const REF_KEY_START = 3;
const REF_KEY_END = 4;
const REF_VALUE_CHUNK = 5;
const REF_VALUE_START = 6;
const REF_VALUE_END = 7;
const REF_STRIDE = 8;
/** -1 in the partition column: the producer's partitioner picks one. */
const ANY_PARTITION = -1;
const CHUNK_BYTES = 1024 * 1024;

/** Accumulates packed records; `finish()` hands them over and starts afresh. */
export class PackedOutputsBuilder {
  #topics: string[] = [];
  #topicIndex = new Map<string, number>();
  #chunks: ArrayBuffer[] = [];
  #chunk = Buffer.allocUnsafeSlow(0);
  #used = 0;
  /** Plain arrays while growing (small integers stay unboxed); typed arrays once finished. */
  #refs: number[] = [];
  #timestamps: number[] = [];

  get count(): number {
    return this.#timestamps.length;
  }

  /**
   * Adds a record whose key is `keyText` (UTF-8), followed by `keySuffix` when given (a windowed key's window
   * start, 8 bytes big-endian), and whose value is `valueText` (UTF-8).
   */
  add(
    topic: string,
    partition: number | undefined,
    keyText: string,
    keySuffix: number | null,
    valueText: string,
    timestamp: number,
  ): void {
    const refs = this.#refs;
    refs.push(this.#topic(topic), partition ?? ANY_PARTITION);
    // Room for both, so that a record's key and value share a chunk.
    this.#reserve((keyText.length + valueText.length) * 3 + 8);
    const chunkIndex = this.#chunks.length - 1;
    const keyStart = this.#used;
    this.#used += this.#chunk.write(keyText, keyStart, 'utf8');
    if (keySuffix !== null) {
      this.#chunk.writeBigInt64BE(BigInt(keySuffix), this.#used);
      this.#used += 8;
    }
    const valueStart = this.#used;
    this.#used += this.#chunk.write(valueText, valueStart, 'utf8');
    refs.push(chunkIndex, keyStart, valueStart, chunkIndex, valueStart, this.#used);
    this.#timestamps.push(timestamp);
  }

  /** Adds a record keyed by `keyText` whose value is `head` followed by `tail` (UTF-8). */
  addJoined(topic: string, partition: number, keyText: string, head: string, tail: string, timestamp: number): void {
    this.#refs.push(this.#topic(topic), partition);
    this.#reserve((keyText.length + head.length + tail.length) * 3);
    const chunk = this.#chunk;
    const chunkIndex = this.#chunks.length - 1;
    const keyStart = this.#used;
    const valueStart = keyStart + chunk.write(keyText, keyStart, 'utf8');
    let end = valueStart + chunk.write(head, valueStart, 'utf8');
    end += chunk.write(tail, end, 'utf8');
    this.#used = end;
    this.#refs.push(chunkIndex, keyStart, valueStart, chunkIndex, valueStart, end);
    this.#timestamps.push(timestamp);
  }

  finish(): PackedOutputs {
    const packed: PackedOutputs = {
      topics: this.#topics,
      chunks: this.#chunks,
      count: this.#timestamps.length,
      refs: Int32Array.from(this.#refs),
      timestamps: Float64Array.from(this.#timestamps),
    };
    this.#topics = [];
    this.#topicIndex = new Map();
    this.#chunks = [];
    this.#chunk = Buffer.allocUnsafeSlow(0);
    this.#used = 0;
    this.#refs = [];
    this.#timestamps = [];
    return packed;
  }

  #topic(name: string): number {
    let index = this.#topicIndex.get(name);
    if (index === undefined) {
      index = this.#topics.length;
      this.#topics.push(name);
      this.#topicIndex.set(name, index);
    }
    return index;
  }

  #reserve(bytes: number): void {
    if (this.#used + bytes <= this.#chunk.length) return;
    this.#chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, bytes));
    this.#chunks.push(this.#chunk.buffer as ArrayBuffer);
    this.#used = 0;
  }
}

/** The ArrayBuffers to transfer (not copy) when posting `packed` to another thread. */
export function transferList(packed: PackedOutputs): ArrayBuffer[] {
  return [...packed.chunks, packed.refs.buffer as ArrayBuffer, packed.timestamps.buffer as ArrayBuffer];
}

/** The partition record `i` goes to (undefined: the producer's partitioner picks one). */
export function packedPartition(packed: PackedOutputs, i: number): number | undefined {
  const partition = packed.refs[i * REF_STRIDE + REF_PARTITION] as number;
  return partition === ANY_PARTITION ? undefined : partition;
}

/** Record `i` as a producer message; its key and value are views of the chunks. */
export function packedMessage(packed: PackedOutputs, i: number): Message {
  const r = packed.refs;
  const at = i * REF_STRIDE;
  const message: Message = {
    topic: packed.topics[r[at + REF_TOPIC] as number] as string,
    value: view(
      packed,
      r[at + REF_VALUE_CHUNK] as number,
      r[at + REF_VALUE_START] as number,
      r[at + REF_VALUE_END] as number,
    ),
    timestamp: BigInt(packed.timestamps[i] as number),
  };
  const partition = r[at + REF_PARTITION] as number;
  if (partition !== ANY_PARTITION) message.partition = partition;
  const keyChunk = r[at + REF_KEY_CHUNK] as number;
  if (keyChunk >= 0)
    message.key = view(packed, keyChunk, r[at + REF_KEY_START] as number, r[at + REF_KEY_END] as number);
  return message;
}

function view(packed: PackedOutputs, chunk: number, start: number, end: number): Buffer {
  return Buffer.from(packed.chunks[chunk] as ArrayBuffer, start, end - start);
}

/** A plain record as a producer message (after a structured clone its bytes arrive as Uint8Arrays). */
export function plainMessage(record: PlainRecord): Message {
  const message: Message = { topic: record.topic };
  if (record.timestamp !== undefined) message.timestamp = BigInt(record.timestamp);
  if (record.partition !== undefined) message.partition = record.partition;
  if (record.key) message.key = asBuffer(record.key);
  if (record.value) message.value = asBuffer(record.value);
  if (record.headers) message.headers = new Map(record.headers.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]));
  return message;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
