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

/** A buffered output; table values are read from `snapshot` when the record is built. */
interface Pending {
  topic: string;
  partition: number;
  deviceId: string;
  /** Set for the windowed table: the key carries the window start. */
  windowStart: number | null;
  ts: number;
  json: string | null;
  snapshot: (() => object) | null;
}

export class OutputBuffer {
  readonly #mode: EmitMode;
  readonly #topics: OutputTopics;
  #ordered: Pending[] = [];
  /** Keyed by the table entry's stable snapshot function: one pending record per window / device. */
  #coalesced = new Map<() => object, Pending>();
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
        this.#ordered.push({
          topic: t.joinEvents,
          partition,
          deviceId,
          windowStart: null,
          ts,
          json: joinEventJson(record),
          snapshot: null,
        }),
      windowUpdate: (deviceId: string, window: WindowBounds, ts: number, snapshot: () => WindowAggregateRecord) =>
        this.#update({
          topic: t.per2s,
          partition,
          deviceId,
          windowStart: window.start,
          ts,
          json: null,
          snapshot,
        }),
      deviceUpdate: (deviceId: string, ts: number, snapshot: () => DeviceLatestRecord) =>
        this.#update({
          topic: t.perDevice,
          partition,
          deviceId,
          windowStart: null,
          ts,
          json: null,
          snapshot,
        }),
    };
  }

  #update(pending: Pending): void {
    const snapshot = pending.snapshot as () => object;
    if (this.#mode === 'every-update') {
      // Freeze the value of this very update.
      pending.json = JSON.stringify(snapshot());
      pending.snapshot = null;
      this.#ordered.push(pending);
      return;
    }
    // The value is built at drain time; only the latest timestamp matters until then.
    const existing = this.#coalesced.get(snapshot);
    if (existing) existing.ts = pending.ts;
    else this.#coalesced.set(snapshot, pending);
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

  /** Drops what is buffered (after a rebalance the new owner replays it). */
  clear(): void {
    this.#ordered = [];
    this.#coalesced = new Map();
    this.#deadLetters = [];
  }
}

function toMessage(p: Pending): Message {
  const json = p.json ?? JSON.stringify((p.snapshot as () => object)());
  return {
    topic: p.topic,
    partition: p.partition,
    key: p.windowStart === null ? Buffer.from(p.deviceId) : encodeWindowedKey(p.deviceId, p.windowStart),
    value: Buffer.from(json),
    timestamp: BigInt(p.ts),
  };
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
