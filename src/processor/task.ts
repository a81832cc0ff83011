/**
 * One partition number `p` of both source topics: the two fetched-but-unprocessed queues, the event-time
 * merge between them, and the topology that holds the state (ksqldb-semantics.md §1.7).
 *
 * The merge always takes the head with the smaller event time (a status before a location on a tie), so the
 * order does not depend on how deliveries of the two topics interleave. When one side has nothing buffered it
 * waits, like Kafka Streams' task idling: while that side's broker log is known to hold more (position below
 * the high watermark) up to `lagWaitMs`, otherwise up to `idleWaitMs`; then it runs ahead on the other side.
 * Records that do not decode or break an admission rule (`core/admission.ts`) are handed to `deadLetter` in
 * offset order, except below `resumeAt` (a replay after a restart), where they were already dead-lettered.
 *
 * A replay must judge every record as the first run did. Decoding, the key rule and the age rule (by stream
 * time) depend only on the records; the future rule depends on the wall clock, so the offsets it refused are
 * kept (`futureRefused`, written into the checkpoint) and a replay refuses exactly those again
 * (`replayFutureRefused`) instead of asking the clock.
 */

import { partitionForKey } from '../bus/partitioner.js';
import { ageReason, futureReason, keyReason } from '../core/admission.js';
import { type Decoded, decodeLocation, decodeStatus, type LocationEvent, type StatusEvent } from '../core/decode.js';
import type { PartitionTopology, Side } from '../core/topology.js';
import type { FetchedRecord } from './fetcher.js';

/** One flat entry per fetched record: queues can hold many thousands, and fewer objects mean cheaper GC. */
interface Queued {
  offset: number;
  /** The decoded event, or null when the record is to be dead-lettered. */
  event: LocationEvent | StatusEvent | null;
  /** Why it is refused. */
  reason: string | null;
  /** The raw record, for a dead letter: refusals by stream time are only known when the record is processed. */
  record: FetchedRecord;
}

class Queue {
  #items: Queued[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: Queued): void {
    this.#items.push(item);
  }

  peek(): Queued | undefined {
    return this.#items[this.#head];
  }

  shift(): Queued | undefined {
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    // Released at once: a taken item's record is a view of a whole fetch response, which it would keep alive.
    (this.#items as (Queued | undefined)[])[this.#head] = undefined;
    this.#head++;
    if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

/** What a task feeds the merged events to: the pipeline's topology, or the alert detector's partition. */
export interface EventProcessor {
  processLocation(event: LocationEvent, offset: number): void;
  processStatus(event: StatusEvent, offset: number): void;
  /** The largest event time processed so far (the age rule measures from it). */
  readonly streamTime: number;
}

export interface TaskOptions<P extends EventProcessor> {
  partition: number;
  /** Partitions of the source topics: a record whose key Kafka's partitioner puts elsewhere is counted. */
  partitionCount: number;
  /** The processing this partition's events go through, with its state. */
  topology: P;
  /** Largest lead of `event_ts` over the wall clock. */
  maxFutureMs: number;
  /** Largest lag of `event_ts` behind the partition's stream time (`Infinity`: no limit). */
  maxAgeMs: number;
  deadLetter(side: Side, partition: number, record: FetchedRecord, reason: string): void;
  /** A record Kafka's default partitioner would have put on `expected` (it is processed all the same). */
  onMisrouted?(side: Side, partition: number, record: FetchedRecord, expected: number): void;
}

/** Future-refused offsets remembered per side for replays; beyond it the oldest are forgotten (docs/processor.md). */
export const MAX_REMEMBERED_REFUSALS = 10_000;

export interface MergeTiming {
  now: number;
  idleWaitMs: number;
  lagWaitMs: number;
}

const SIDES: Side[] = ['location', 'status'];

export class PartitionTask<P extends EventProcessor = EventProcessor> {
  readonly partition: number;
  readonly topology: P;
  readonly #queues: Record<Side, Queue> = { location: new Queue(), status: new Queue() };
  readonly #deadLetter: TaskOptions<P>['deadLetter'];
  /** Next offset to fetch per side. */
  readonly position: Record<Side, number> = { location: 0, status: 0 };
  /** High watermark per side from the latest fetch. */
  readonly highWatermark: Record<Side, number> = { location: 0, status: 0 };
  /** Whether each side has been fetched once: until then its high watermark is unknown, not 0. */
  readonly #fetched: Record<Side, boolean> = { location: false, status: false };
  /** Next offset after the last processed record per side (what a checkpoint covers). */
  readonly processed: Record<Side, number> = { location: 0, status: 0 };
  /** Records below these offsets are a replay (see `PartitionTopology.beginReplay`): no dead letters for them. */
  resumeAt: Record<Side, number> = { location: 0, status: 0 };
  /** Offsets the future rule refused, ascending (checkpointed so that a replay refuses the same records). */
  readonly futureRefused: Record<Side, number[]> = { location: [], status: [] };
  /** The refusals of the checkpoint being replayed: below `resumeAt` they replace the clock. */
  replayFutureRefused: Record<Side, ReadonlySet<number>> = { location: new Set(), status: new Set() };
  #blockedSince: number | null = null;
  readonly #options: TaskOptions<P>;
  deadLettered = 0;
  /** Records whose key Kafka's default partitioner would have put on another partition. */
  misrouted = 0;

  constructor(options: TaskOptions<P>) {
    this.partition = options.partition;
    this.#options = options;
    this.topology = options.topology;
    this.#deadLetter = options.deadLetter;
  }

  /** Forgets refusals below `low` (a checkpoint's replay point): no replay can reach them any more. */
  refusalsFrom(low: Record<Side, number>): Record<Side, number[]> {
    for (const side of SIDES) {
      const list = this.futureRefused[side];
      let drop = 0;
      while (drop < list.length && (list[drop] as number) < low[side]) drop++;
      if (drop > 0) list.splice(0, drop);
    }
    return { location: [...this.futureRefused.location], status: [...this.futureRefused.status] };
  }

  /** Positions all sides at `offsets` (a fresh start or a checkpoint's low-water marks). */
  seek(offsets: Record<Side, number>): void {
    for (const side of SIDES) {
      this.position[side] = offsets[side];
      this.processed[side] = offsets[side];
    }
  }

  queued(side: Side): number {
    return this.#queues[side].length;
  }

  /** Decodes fetched records and applies the admission rules that do not depend on processing order. */
  enqueue(side: Side, records: FetchedRecord[], nextOffset: number, highWatermark: number, now: number): void {
    const decode = side === 'location' ? decodeLocation : decodeStatus;
    const queue = this.#queues[side];
    for (const record of records) {
      const reason = this.#admit(side, record, decode(record.value), now);
      if (typeof reason === 'string') queue.push({ offset: record.offset, event: null, reason, record });
      else queue.push({ offset: record.offset, event: reason, reason: null, record });
    }
    if (nextOffset > this.position[side]) this.position[side] = nextOffset;
    this.highWatermark[side] = highWatermark;
    this.#fetched[side] = true;
  }

  /** The event, or why the record is refused. */
  #admit(
    side: Side,
    record: FetchedRecord,
    decoded: Decoded<LocationEvent> | Decoded<StatusEvent>,
    now: number,
  ): LocationEvent | StatusEvent | string {
    if (!decoded.ok) return decoded.reason;
    const event = decoded.event;
    const key = record.key === null ? null : record.key.toString('utf8');
    const wrongKey = keyReason(key, event.deviceId);
    if (wrongKey !== null) return wrongKey;
    if (record.key !== null && record.offset >= this.resumeAt[side]) {
      const expected = partitionForKey(record.key, this.#options.partitionCount);
      if (expected !== this.partition) {
        this.misrouted++;
        this.#options.onMisrouted?.(side, this.partition, record, expected);
      }
    }
    if (record.offset < this.resumeAt[side]) {
      // A replay: the checkpoint says what the clock said the first time.
      return this.replayFutureRefused[side].has(record.offset)
        ? "event_ts: ahead of the processor's clock (PROCESSOR_MAX_FUTURE_MS)"
        : event;
    }
    const ahead = futureReason(event.eventTs, now, this.#options.maxFutureMs);
    if (ahead === null) return event;
    const refused = this.futureRefused[side];
    refused.push(record.offset);
    if (refused.length > MAX_REMEMBERED_REFUSALS) refused.shift();
    return ahead;
  }

  /** Processes what the merge allows now; returns the number of records taken. */
  drive(timing: MergeTiming): number {
    let taken = 0;
    for (;;) {
      const location = this.#queues.location.peek();
      const status = this.#queues.status.peek();
      if (location && location.event === null) {
        this.#reject('location');
        taken++;
        continue;
      }
      if (status && status.event === null) {
        this.#reject('status');
        taken++;
        continue;
      }
      let side: Side;
      if (location && status) {
        this.#blockedSince = null;
        side = eventTs(status) <= eventTs(location) ? 'status' : 'location';
      } else if (location || status) {
        const other: Side = location ? 'status' : 'location';
        const moreOnBroker = this.position[other] < this.highWatermark[other];
        const limit = moreOnBroker ? timing.lagWaitMs : timing.idleWaitMs;
        if (this.#blockedSince === null) this.#blockedSince = timing.now;
        if (timing.now - this.#blockedSince < limit) break;
        side = location ? 'location' : 'status';
      } else {
        this.#blockedSince = null;
        break;
      }
      this.#process(side);
      taken++;
    }
    return taken;
  }

  #process(side: Side): void {
    const item = this.#queues[side].peek() as Queued;
    const { offset, event } = item as { offset: number; event: LocationEvent | StatusEvent };
    // Judged here, in processing order, against the stream time every earlier record has set.
    const tooOld = ageReason(event.eventTs, this.topology.streamTime, this.#options.maxAgeMs);
    if (tooOld !== null) {
      item.event = null;
      item.reason = tooOld;
      this.#reject(side);
      return;
    }
    this.#queues[side].shift();
    if (side === 'location') this.topology.processLocation(event as LocationEvent, offset);
    else this.topology.processStatus(event as StatusEvent, offset);
    this.processed[side] = offset + 1;
  }

  #reject(side: Side): void {
    const item = this.#queues[side].shift() as Queued;
    if (item.reason !== null && item.offset >= this.resumeAt[side]) {
      this.deadLettered++;
      this.#deadLetter(side, this.partition, item.record, item.reason);
    }
    this.processed[side] = item.offset + 1;
  }

  /** Records fetched but not processed, plus what the broker holds beyond the fetch position. */
  /** Nothing queued and nothing more on the broker, on both sides, as far as fetches have shown. */
  caughtUp(): boolean {
    return this.#fetched.location && this.#fetched.status && this.lag() === 0;
  }

  lag(): number {
    let lag = 0;
    for (const side of SIDES) {
      lag += this.#queues[side].length + Math.max(0, this.highWatermark[side] - this.position[side]);
    }
    return lag;
  }
}

function eventTs(item: Queued): number {
  return (item.event as LocationEvent | StatusEvent).eventTs;
}

/** A task of the pipeline's processor: its events go through the specification's topology. */
export type PipelineTask = PartitionTask<PartitionTopology>;
