/**
 * A bounded, batching outbox between the simulators and Kafka.
 *
 * Records wait in a queue of fixed capacity; a batch leaves when `batchSize` records are queued or `lingerMs`
 * after the first one arrived, with at most one batch in flight (the idempotent producer allows one in-flight
 * request per connection anyway). When the queue is full `offer` refuses the record, so memory stays bounded
 * and the caller decides what to do (the simulators skip that tick and count it).
 *
 * A failed send is counted, its error kept, and the SAME batch is retried after a capped exponential backoff:
 * nothing is dropped while the broker is away, and the idempotent producer reuses the batch's sequence
 * numbers, so a retry of a batch the broker did write is de-duplicated. Records still queued when `close`
 * gives up are counted as abandoned.
 */

import type { Clock, TimerHandle } from '../clock.js';
import { Backoff } from '../core/backoff.js';

export interface OutgoingRecord {
  topic: string;
  key: string;
  value: string;
  /** Epoch ms, written as the Kafka record timestamp. */
  timestamp: number;
}

/** Sends one batch; resolves once every record is acknowledged, rejects otherwise. */
export type SendBatch = (records: OutgoingRecord[]) => Promise<void>;

export interface BatchingSenderOptions {
  send: SendBatch;
  clock: Clock;
  /** Largest batch. @default 1000 */
  batchSize?: number;
  /** How long the first queued record waits for company. @default 5 */
  lingerMs?: number;
  /** Most records queued or in flight. @default 50000 */
  capacity?: number;
  /** First retry delay after a failed send; doubles up to `retryMaxMs`. @default 100 */
  retryInitialMs?: number;
  /** @default 5000 */
  retryMaxMs?: number;
  /** Called after every failed send (for logging). */
  onSendFailed?: (error: unknown) => void;
}

export interface TopicCounts {
  /** Acknowledged by the broker. */
  sent: number;
  /** Records in send attempts that failed (they are retried, so one record can count more than once). */
  failed: number;
  /** Records left unsent when `close` gave up. */
  abandoned: number;
}

export interface SenderStats {
  topics: Record<string, TopicCounts>;
  failedSends: number;
  lastError: { message: string; at: number } | undefined;
  /** Queued or in flight right now. */
  buffered: number;
}

export interface BatchingSender {
  /** Queues a record; false when the queue is full (nothing is queued then). */
  offer(record: OutgoingRecord): boolean;
  /** Waits until everything queued is acknowledged; resolves false if `timeoutMs` passes first. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Stops timers and counts what is still queued as abandoned. Call after `flush`. */
  close(): void;
  stats(): SenderStats;
}

function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return `${error.message} ${error.errors.map((e: unknown) => errorMessage(e)).join('; ')}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function createBatchingSender(options: BatchingSenderOptions): BatchingSender {
  const { send, clock } = options;
  const batchSize = options.batchSize ?? 1000;
  const lingerMs = options.lingerMs ?? 5;
  const capacity = options.capacity ?? 50_000;
  const retryInitialMs = options.retryInitialMs ?? 100;
  const retryMaxMs = options.retryMaxMs ?? 5000;

  // A queue as an array plus a head index, compacted now and then: O(1) amortised at both ends.
  let queue: OutgoingRecord[] = [];
  let head = 0;
  let inFlight = 0;
  /** Length of the batch that failed: the next attempt sends exactly it again. */
  let retrying: number | undefined;
  let lingerTimer: TimerHandle | undefined;
  let retryTimer: TimerHandle | undefined;
  const backoff = new Backoff({ initialMs: retryInitialMs, maxMs: retryMaxMs, jitter: 'none' });
  let closed = false;
  let failedSends = 0;
  let lastError: SenderStats['lastError'];
  const topics: Record<string, TopicCounts> = {};
  const waiters = new Set<() => void>();

  const size = () => queue.length - head;
  const countsOf = (topic: string) => {
    let counts = topics[topic];
    if (!counts) {
      counts = { sent: 0, failed: 0, abandoned: 0 };
      topics[topic] = counts;
    }
    return counts;
  };
  const notify = () => {
    if (size() > 0) return;
    for (const waiter of waiters) waiter();
  };

  function sendNow(): void {
    if (lingerTimer) {
      clock.clearTimeout(lingerTimer);
      lingerTimer = undefined;
    }
    if (closed || inFlight > 0 || retryTimer || size() === 0) return;
    // A retry sends exactly the batch that failed, not the queue's head as it is now: the idempotent producer
    // reuses its sequence numbers, and the broker recognises a batch it already wrote only if the retry is the
    // same batch. A larger one starting at the same sequence is "out of order" forever (seen after a broker
    // restart whose last answer was lost: the app never produced again).
    const batch = queue.slice(head, head + (retrying ?? batchSize));
    inFlight = batch.length;
    send(batch).then(
      () => {
        inFlight = 0;
        retrying = undefined;
        head += batch.length;
        if (head > 4096 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        for (const record of batch) countsOf(record.topic).sent++;
        backoff.reset();
        notify();
        schedule();
      },
      (error: unknown) => {
        inFlight = 0;
        retrying = batch.length;
        failedSends++;
        for (const record of batch) countsOf(record.topic).failed++;
        lastError = { message: errorMessage(error), at: clock.now() };
        options.onSendFailed?.(error);
        if (closed) {
          for (const record of batch) countsOf(record.topic).abandoned++;
          queue = [];
          head = 0;
          return;
        }
        retryTimer = clock.setTimeout(() => {
          retryTimer = undefined;
          sendNow();
        }, backoff.next());
      },
    );
  }

  function schedule(): void {
    if (closed || inFlight > 0 || retryTimer || size() === 0) return;
    if (size() >= batchSize) sendNow();
    else if (!lingerTimer) lingerTimer = clock.setTimeout(sendNow, lingerMs);
  }

  return {
    offer(record) {
      if (closed || size() >= capacity) return false;
      queue.push(record);
      schedule();
      return true;
    },
    flush(timeoutMs) {
      if (size() === 0) return Promise.resolve(true);
      // Do not wait out the linger (or a pending backoff) when someone is waiting for the queue to drain.
      if (retryTimer) {
        clock.clearTimeout(retryTimer);
        retryTimer = undefined;
      }
      sendNow();
      return new Promise<boolean>((resolve) => {
        const timer = clock.setTimeout(() => {
          waiters.delete(done);
          resolve(size() === 0);
        }, timeoutMs);
        const done = () => {
          clock.clearTimeout(timer);
          waiters.delete(done);
          resolve(true);
        };
        waiters.add(done);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      if (lingerTimer) clock.clearTimeout(lingerTimer);
      if (retryTimer) clock.clearTimeout(retryTimer);
      // The batch in flight (if any) still gets its answer: counted as sent, or as abandoned if it fails.
      for (let i = head + inFlight; i < queue.length; i++) countsOf(queue[i]!.topic).abandoned++;
      queue = queue.slice(head, head + inFlight);
      head = 0;
    },
    stats: () => ({
      topics: Object.fromEntries(Object.entries(topics).map(([t, c]) => [t, { ...c }])),
      failedSends,
      lastError,
      buffered: size(),
    }),
  };
}
