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
import type { LocationEvent, StatusEvent } from '../core/decode.js';
import type { DeviceLatestRecord, WindowAggregateRecord } from '../core/results.js';
import type { Side, TopologyOutput } from '../core/topology.js';
import type { WindowBounds } from '../core/window.js';
import type { FetchedRecord } from './fetcher.js';
import { type PackedOutputs, PackedOutputsBuilder, type PlainRecord } from './packed-outputs.js';

export type EmitMode = 'every-update' | 'coalesce';

export interface OutputTopics {
  joinEvents: string;
  per2s: string;
  perDevice: string;
  deadLetters: string;
}

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

/** What one flush writes, in write order: `records` (dead letters) first, then the packed records. */
export interface OutputFlush {
  records: PlainRecord[];
  packed: PackedOutputs;
}

/** The number of records in a flush. */
export function flushSize(flush: OutputFlush): number {
  return flush.records.length + flush.packed.count;
}

export class OutputBuffer {
  readonly #mode: EmitMode;
  readonly #topics: OutputTopics;
  /** Records in write order (stream rows, and table updates in every-update mode), already encoded. */
  #ordered = new PackedOutputsBuilder();
  /** Keyed by the table entry's stable snapshot function: one pending record per window / device. */
  #coalesced = new Map<() => object, Pending>();
  #deadLetters: PlainRecord[] = [];

  constructor(mode: EmitMode, topics: OutputTopics) {
    this.#mode = mode;
    this.#topics = topics;
  }

  get size(): number {
    return this.#ordered.count + this.#coalesced.size + this.#deadLetters.length;
  }

  /** The topology output of source partition `partition`. */
  forPartition(partition: number): TopologyOutput {
    const t = this.#topics;
    return {
      joinRow: (deviceId, ts, _record, location, status) =>
        this.#ordered.addJoined(t.joinEvents, partition, deviceId, locationJson(location), statusJson(status), ts),
      windowUpdate: (deviceId: string, window: WindowBounds, ts: number, snapshot: () => WindowAggregateRecord) =>
        this.#update({ topic: t.per2s, partition, deviceId, windowStart: window.start, ts, snapshot }),
      deviceUpdate: (deviceId: string, ts: number, snapshot: () => DeviceLatestRecord) =>
        this.#update({ topic: t.perDevice, partition, deviceId, windowStart: null, ts, snapshot }),
    };
  }

  #update(update: Pending): void {
    if (this.#mode === 'every-update') {
      // Freeze the value of this very update.
      this.#add(this.#ordered, update);
      return;
    }
    // The value is built at drain time; only the latest timestamp matters until then (no object per update).
    const existing = this.#coalesced.get(update.snapshot);
    if (existing) existing.ts = update.ts;
    else this.#coalesced.set(update.snapshot, update);
  }

  #add(builder: PackedOutputsBuilder, p: Pending): void {
    builder.add(p.topic, p.partition, p.deviceId, p.windowStart, JSON.stringify(p.snapshot()), p.ts);
  }

  deadLetter(sourceTopic: string, side: Side, partition: number, record: FetchedRecord, reason: string): void {
    const dead: PlainRecord = {
      topic: this.#topics.deadLetters,
      headers: [
        ['reason', reason],
        ['source.topic', sourceTopic],
        ['source.side', side],
        ['source.partition', String(partition)],
        ['source.offset', String(record.offset)],
      ],
      timestamp: record.timestamp,
    };
    // Copies: a fetched record's bytes are views of a whole fetch response, which posting would clone entire.
    if (record.key) dead.key = new Uint8Array(record.key);
    if (record.value) dead.value = new Uint8Array(record.value);
    this.#deadLetters.push(dead);
  }

  /** Everything buffered, in write order: dead letters, stream rows (and every-update rows), coalesced tables. */
  drain(): OutputFlush {
    const builder = this.#ordered;
    for (const p of this.#coalesced.values()) this.#add(builder, p);
    const flush = { records: this.#deadLetters, packed: builder.finish() };
    this.#coalesced = new Map();
    this.#deadLetters = [];
    return flush;
  }

  /** Drops what is buffered (after a rebalance the new owner replays it). */
  clear(): void {
    this.#ordered.finish();
    this.#coalesced = new Map();
    this.#deadLetters = [];
  }
}

// JSON.stringify of a finite number is its String(); strings go through JSON.stringify for escaping.
const num = (n: number | null): string => (n === null ? 'null' : String(n));
const str = (s: string | null): string => (s === null ? 'null' : JSON.stringify(s));

/**
 * A JOIN_EVENTS value is the location's columns followed by the status's. A location is in about eight rows, so
 * its half is encoded once and kept on the event (locations are a fifth of the join state, so this costs little
 * memory); a status, in two or three rows, is encoded per row. Together the halves are byte-identical to
 * `JSON.stringify` of the row (tested).
 */
const ENCODED = Symbol('joinEventJson');
type Encoded = { [ENCODED]?: string };

export function locationJson(location: LocationEvent & { distance: number }): string {
  const l = location as typeof location & Encoded;
  l[ENCODED] ??=
    `{"ID":${str(l.id)},"LATITUDE":${num(l.latitude)},"LONGITUDE":${num(l.longitude)},` +
    `"DISTANCE":${num(l.distance)},"EVENT_TS":${num(l.eventTs)},`;
  return l[ENCODED];
}

const NO_STATUS_JSON = '"DI_":null,"TEMPERATURE":null,"SOUND":null,"ALTITUDE":null}';

export function statusJson(s: StatusEvent | null): string {
  if (s === null) return NO_STATUS_JSON;
  return `"DI_":${str(s.deviceId)},"TEMPERATURE":${num(s.temperature)},"SOUND":${num(s.sound)},"ALTITUDE":${num(s.altitude)}}`;
}
