/**
 * One partition number `p` of both source topics: the two fetched-but-unprocessed queues, the event-time
 * merge between them, and the topology that holds the state (ksqldb-semantics.md §1.7).
 *
 * The merge always takes the head with the smaller event time (a status before a location on a tie), so the
 * order does not depend on how deliveries of the two topics interleave. When one side has nothing buffered it
 * waits, like Kafka Streams' task idling: while that side's broker log is known to hold more (position below
 * the high watermark) up to `lagWaitMs`, otherwise up to `idleWaitMs`; then it runs ahead on the other side.
 * Records that do not decode are handed to `deadLetter` in offset order, except below `resumeAt` (a replay
 * after a restart), where they were already dead-lettered.
 */
import { type Decoded, decodeLocation, decodeStatus, type LocationEvent, type StatusEvent } from '../core/decode.js';
import { PartitionTopology, type Side, type TopologyOptions, type TopologyOutput } from '../core/topology.js';
import type { FetchedRecord } from './fetcher.js';

/** One flat entry per fetched record: queues can hold many thousands, and fewer objects mean cheaper GC. */
interface Queued {
  offset: number;
  /** The decoded event, or null when the record is to be dead-lettered. */
  event: LocationEvent | StatusEvent | null;
  /** Why it does not decode, with the raw record kept for the dead letter. */
  reason: string | null;
  record: FetchedRecord | null;
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
    this.#head++;
    if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

export interface TaskOptions {
  partition: number;
  topology: TopologyOptions;
  output: TopologyOutput;
  deadLetter(side: Side, partition: number, record: FetchedRecord, reason: string): void;
}

export interface MergeTiming {
  now: number;
  idleWaitMs: number;
  lagWaitMs: number;
}

const SIDES: Side[] = ['location', 'status'];

export class PartitionTask {
  readonly partition: number;
  readonly topology: PartitionTopology;
  readonly #queues: Record<Side, Queue> = { location: new Queue(), status: new Queue() };
  readonly #deadLetter: TaskOptions['deadLetter'];
  /** Next offset to fetch per side. */
  readonly position: Record<Side, number> = { location: 0, status: 0 };
  /** High watermark per side from the latest fetch. */
  readonly highWatermark: Record<Side, number> = { location: 0, status: 0 };
  /** Next offset after the last processed record per side (what a checkpoint covers). */
  readonly processed: Record<Side, number> = { location: 0, status: 0 };
  /** Records below these offsets are a replay (see `PartitionTopology.beginReplay`). */
  resumeAt: Record<Side, number> = { location: 0, status: 0 };
  #blockedSince: number | null = null;
  deadLettered = 0;

  constructor(options: TaskOptions) {
    this.partition = options.partition;
    this.topology = new PartitionTopology(options.topology, options.output);
    this.#deadLetter = options.deadLetter;
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

  /** `latestEventTs`: event times beyond it are refused (the broker rejects outputs stamped more than 1 h ahead). */
  enqueue(
    side: Side,
    records: FetchedRecord[],
    nextOffset: number,
    highWatermark: number,
    latestEventTs: number,
  ): void {
    const decode = side === 'location' ? decodeLocation : decodeStatus;
    const queue = this.#queues[side];
    for (const record of records) {
      const decoded: Decoded<LocationEvent> | Decoded<StatusEvent> = decode(record.value);
      if (!decoded.ok) {
        queue.push({ offset: record.offset, event: null, reason: decoded.reason, record });
      } else if (decoded.event.eventTs > latestEventTs) {
        const reason = 'event_ts: too far in the future (the broker refuses output records stamped with it)';
        queue.push({ offset: record.offset, event: null, reason, record });
      } else {
        // Keep the raw bytes only for a dead letter: they pin the whole fetch response in memory.
        queue.push({ offset: record.offset, event: decoded.event, reason: null, record: null });
      }
    }
    if (nextOffset > this.position[side]) this.position[side] = nextOffset;
    this.highWatermark[side] = highWatermark;
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
    const item = this.#queues[side].shift() as Queued;
    const { offset, event } = item;
    if (event !== null) {
      if (side === 'location') this.topology.processLocation(event as LocationEvent, offset);
      else this.topology.processStatus(event as StatusEvent, offset);
    }
    this.processed[side] = offset + 1;
  }

  #reject(side: Side): void {
    const item = this.#queues[side].shift() as Queued;
    if (item.record !== null && item.reason !== null && item.offset >= this.resumeAt[side]) {
      this.deadLettered++;
      this.#deadLetter(side, this.partition, item.record, item.reason);
    }
    this.processed[side] = item.offset + 1;
  }

  /** Records fetched but not processed, plus what the broker holds beyond the fetch position. */
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
