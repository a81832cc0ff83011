/**
 * Follows topics in this process: every partition, with a throw-away consumer group (nothing is committed), so
 * any API instance sees every record. A topic is read from its beginning, or, when it has a horizon, from the
 * first record stamped at most that long before its partition's newest record (ListOffsets by timestamp: every
 * record with a later timestamp lies at or after that offset). It tells when it has caught up: once it has
 * reached the end offsets it saw at start-up, or when no record has arrived for `idleCaughtUpMs` after the first
 * one (transaction markers at the end of a partition are never delivered), or for `startupIdleMs` when none
 * arrived at all. A failing consumer is logged, counted and restarted with capped backoff; nothing crashes.
 *
 * The embedded stream layer (the output tables) and the alert feed (`device_alerts`) are built on it.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, type MessagesStream, MessagesStreamModes } from '@platformatic/kafka';
import { backoffDelay } from '../core/backoff.js';
import { AppError, UnavailableError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { KafkaConnection } from './kafka-admin.js';

export interface FollowedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer;
  value: Buffer;
}

export interface TopicFollowerOptions {
  kafka: KafkaConnection;
  /** Names the client, the group and the log lines (`stream-layer`, `alert-feed`). */
  name: string;
  /** How readiness messages call it (`stream layer`). @default name */
  label?: string;
  topics: string[];
  logger: Logger;
  onRecord: (record: FollowedRecord) => void;
  /**
   * Per topic, how much record time to read back from each partition's newest record; topics absent (or 0) are
   * read from their beginning. @default {}
   */
  horizonsMs?: Record<string, number>;
  /** @default 1000 */
  idleCaughtUpMs?: number;
  /** @default 15000 */
  startupIdleMs?: number;
}

export interface TopicFollower {
  start(): void;
  stop(): Promise<void>;
  caughtUp(): boolean;
  restarts(): number;
  /** Throws an `AppError` naming the problem while the follower cannot serve complete answers. */
  check(): void;
}

type Buffers = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

export function createTopicFollower(options: TopicFollowerOptions): TopicFollower {
  const idleCaughtUpMs = options.idleCaughtUpMs ?? 1000;
  const startupIdleMs = options.startupIdleMs ?? 15_000;
  const { logger, name } = options;
  const label = options.label ?? name;
  let consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  let stream: Buffers | undefined;
  let stopped = true;
  let caughtUp = false;
  let lastError: string | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let attempt = 0;
  let restarts = 0;
  // Per "topic/partition": the offset to reach before the follower counts as caught up.
  let targets = new Map<string, bigint>();

  function markCaughtUp(reason: string) {
    if (caughtUp) return;
    caughtUp = true;
    clearTimeout(idleTimer);
    logger.info({ reason, follower: name }, `${name.replaceAll('-', '_')}_caught_up`);
  }

  function armIdle(ms: number) {
    if (caughtUp) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => markCaughtUp('idle'), ms);
    idleTimer.unref();
  }

  function handle(message: FollowedRecord) {
    options.onRecord(message);
    if (caughtUp) return;
    const key = `${message.topic}/${message.partition}`;
    const target = targets.get(key);
    if (target !== undefined && message.offset + 1n >= target) targets.delete(key);
    if (targets.size === 0) markCaughtUp('end_offsets');
    else armIdle(idleCaughtUpMs);
  }

  /** Where each partition starts, and the end offsets it must reach to count as caught up. */
  async function startPositions(c: Consumer<Buffer, Buffer, Buffer, Buffer>) {
    const [starts, ends] = await Promise.all([
      c.listOffsets({ topics: options.topics, timestamp: -2n }),
      c.listOffsets({ topics: options.topics, timestamp: -1n }),
    ]);
    const positions: { topic: string; partition: number; offset: bigint }[] = [];
    const wanted = new Map<string, bigint>();
    for (const [topic, offsets] of starts) {
      const horizonMs = options.horizonsMs?.[topic] ?? 0;
      const newest = horizonMs > 0 ? await c.listOffsetsWithTimestamps({ topics: [topic], timestamp: -3n }) : undefined;
      await Promise.all(
        offsets.map(async (start, partition) => {
          const end = ends.get(topic)?.[partition] ?? start;
          let from = start;
          const newestTs = newest?.get(topic)?.get(partition)?.timestamp ?? -1n;
          if (end > start && newestTs >= 0n) {
            const at = await c.listOffsets({
              topics: [topic],
              partitions: { [topic]: [partition] },
              timestamp: newestTs - BigInt(horizonMs),
            });
            const offset = at.get(topic)?.[partition] ?? -1n;
            // -1: no record that late (cannot happen below the newest one, but then nothing is needed).
            from = offset < 0n ? end : offset > start ? offset : start;
          }
          positions.push({ topic, partition, offset: from });
          // A partition emptied by retention (or with nothing in the horizon) has from = end: nothing to wait for.
          if (end > from) wanted.set(`${topic}/${partition}`, end);
        }),
      );
    }
    return { positions, wanted };
  }

  async function connect() {
    const c = new Consumer({
      clientId: `${options.kafka.clientId}-${name}`,
      groupId: `${options.kafka.clientId}-${name}-${randomUUID()}`,
      bootstrapBrokers: options.kafka.brokers,
      maxWaitTime: 100,
      connectTimeout: 5000,
      requestTimeout: 10_000,
    });
    consumer = c;
    // Computed on every (re)connect, so a restarted consumer re-reads the horizon, not the whole topic.
    const { positions, wanted } = await startPositions(c);
    if (!caughtUp) targets = wanted;
    const s = (await c.consume({
      topics: options.topics,
      mode: MessagesStreamModes.MANUAL,
      offsets: positions,
      autocommit: false,
    })) as Buffers;
    stream = s;
    attempt = 0;
    lastError = undefined;
    if (targets.size === 0) markCaughtUp('empty_topics');
    else armIdle(startupIdleMs);
    s.on('data', handle);
    s.on('error', (err: unknown) => void restart(err));
  }

  async function closeConsumer() {
    const s = stream;
    const c = consumer;
    stream = undefined;
    consumer = undefined;
    // Closing a consumer whose broker is gone can reject; the instance is discarded either way.
    await s?.close().catch(() => undefined);
    await Promise.resolve(c?.close(true)).catch(() => undefined);
  }

  async function restart(err: unknown) {
    if (stopped) return;
    lastError = `Kafka consumer of the ${label} failed`;
    restarts++;
    logger.warn({ err, attempt, follower: name }, `${name.replaceAll('-', '_')}_consumer_failed`);
    await closeConsumer();
    scheduleConnect();
  }

  function scheduleConnect() {
    if (stopped) return;
    // The first connection at once, then capped backoff while it keeps failing.
    const delay = attempt === 0 ? 0 : backoffDelay(attempt, { initialMs: 250, maxMs: 30_000 });
    attempt++;
    retryTimer = setTimeout(() => {
      connect().catch((err: unknown) => void restart(err));
    }, delay);
    retryTimer.unref();
  }

  return {
    start() {
      stopped = false;
      // Not awaited: a missing topic or an absent broker must not block the HTTP server; readiness reports it.
      scheduleConnect();
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(idleTimer);
      await closeConsumer();
    },
    caughtUp: () => caughtUp,
    restarts: () => restarts,
    check() {
      if (stopped) throw new AppError('UNAVAILABLE', `${label} is not running`);
      if (lastError && !stream) throw new UnavailableError('kafka', lastError);
      if (!caughtUp) throw new AppError('UNAVAILABLE', `${label} is still reading its topics`);
    },
  };
}
