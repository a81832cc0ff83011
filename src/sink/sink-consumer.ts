/**
 * The warehouse sink's membership of its consumer group: subscribing (retried while the topics or Kafka are
 * missing), watching the group as the broker sees it, and starting over when the group is stuck.
 *
 * Why the watch: after a crash the dead member stays in the group until its session times out. The sink used
 * the client's default 60 s session, so a restarted member's JoinGroup waited longer than the client's 30 s
 * request timeout; the client then thought it had joined while the coordinator waited in a rebalance with
 * nothing assigned, and nothing was written for minutes while readiness said "ok" and the lag read 0 (issue 13).
 * Now the session is short (the JoinGroup always answers within the request timeout), the lag is the group's
 * (committed offsets against high watermarks, `bus/group-health.ts`), and a group that stays outside a stable
 * generation with this member for `stallAfterMs` makes this member close its consumer and join afresh.
 */
import { Consumer, FetchIsolationLevels, type MessagesStream, MessagesStreamModes } from '@platformatic/kafka';
import { createGroupMonitor, type GroupObservation } from '../bus/group-health.js';
import { createAdmin, type KafkaConnection } from '../bus/kafka-admin.js';
import type { Logger } from '../observability/logger.js';
import type { RawMessage } from './dead-letters.js';
import type { RetrySleeper } from './retry.js';

export type MembershipState = 'stopped' | 'starting' | 'running' | 'stalled';

export interface SinkConsumerOptions {
  kafka: KafkaConnection;
  groupId: string;
  topics: string[];
  logger: Logger;
  onMessage: (message: RawMessage) => void;
  sleeper: RetrySleeper;
  /** Records the consumer may buffer while paused. */
  highWaterMark: number;
  /** Group session timeout (the rebalance timeout is the same); the broker's minimum is 6000 by default. */
  sessionTimeoutMs: number;
  /** Static membership: a restarted member with the same id takes over at once instead of after a session. */
  groupInstanceId?: string;
  /** How often the group is observed. @default 5000 */
  monitorIntervalMs?: number;
  /** A group unhealthy this long is joined afresh. @default 2 × sessionTimeoutMs + 5000 */
  stallAfterMs?: number;
}

export interface SinkConsumer {
  start(): void;
  /** Leaves the group (bounded); nothing is committed by it. */
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  isPaused(): boolean;
  state(): MembershipState;
  /** The group's lag from the last observation, or undefined before the first one. */
  lag(): number | undefined;
  /** The last observation of the group and how long it has been unhealthy. */
  group(): { observation: GroupObservation | undefined; unhealthyForMs: number };
  /** Joins afresh after the group was found stuck (counted). */
  rejoins(): number;
  /** Why the last subscription attempt failed, if it did. */
  lastError(): unknown;
}

type Buffers = Consumer<Buffer, Buffer, Buffer, Buffer>;
type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

const CLOSE_TIMEOUT_MS = 3000;

export function createSinkConsumer(options: SinkConsumerOptions): SinkConsumer {
  const { logger, sleeper } = options;
  const monitorIntervalMs = options.monitorIntervalMs ?? 5000;
  const stallAfterMs = options.stallAfterMs ?? 2 * options.sessionTimeoutMs + 5000;
  const admin = createAdmin(options.kafka, 'sink-monitor');
  let consumer: Buffers | undefined;
  let stream: Stream | undefined;
  let subscribing: Promise<void> | undefined;
  let membership: MembershipState = 'stopped';
  let stopping = false;
  let paused = false;
  let lastError: unknown;
  let rejoins = 0;
  const monitor = createGroupMonitor({
    admin,
    groupId: options.groupId,
    topics: options.topics,
    memberId: () => consumer?.memberId ?? null,
    stallAfterMs,
    intervalMs: monitorIntervalMs,
    active: () => !stopping,
    onStalled: (observation, unhealthyForMs) =>
      membership === 'running' ? rejoin(unhealthyForMs, observation) : Promise.resolve(),
    onError: (err) => logger.debug({ err }, 'sink_group_observe_failed'),
  });

  function newConsumer(): Buffers {
    return new Consumer({
      clientId: `${options.kafka.clientId}-sink`,
      bootstrapBrokers: options.kafka.brokers,
      groupId: options.groupId,
      ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
      maxWaitTime: 500,
      // The processor writes its outputs in transactions: only committed ones reach the warehouse.
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      highWaterMark: options.highWaterMark,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      // A JoinGroup waits up to the rebalance timeout for the other members: the request must outlast it.
      requestTimeout: Math.max(30_000, options.sessionTimeoutMs + 10_000),
    });
  }

  /** Subscribes to the topics, retrying with backoff while they do not exist or Kafka is down. */
  async function subscribe(c: Buffers): Promise<void> {
    for (let attempt = 0; !stopping && consumer === c; attempt++) {
      try {
        const s = (await c.consume({
          topics: options.topics,
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: MessagesStreamModes.EARLIEST,
          autocommit: false,
        })) as Stream;
        if (stopping || consumer !== c) {
          await s.close().catch(() => undefined);
          return;
        }
        stream = s;
        if (paused) s.pause();
        s.on('data', options.onMessage);
        s.on('error', (err: unknown) => logger.error({ err }, 'sink_consumer_failed'));
        s.on('close', () => {
          if (stopping || stream !== s) return;
          // The client gave up on this stream (e.g. a fatal group error): subscribe again. Nothing it delivered
          // after the last offset commit is lost; it comes again.
          logger.warn({}, 'sink_stream_closed');
          stream = undefined;
          membership = 'starting';
          subscribing = subscribe(c);
        });
        membership = 'running';
        lastError = undefined;
        monitor.reset();
        logger.info({ topics: options.topics, groupId: options.groupId, memberId: c.memberId }, 'sink_subscribed');
        return;
      } catch (err) {
        lastError = err;
        if (attempt === 0) logger.warn({ err, topics: options.topics }, 'sink_subscribe_failed');
        await sleeper.sleep(attempt);
      }
    }
  }

  function connect(): void {
    const c = newConsumer();
    consumer = c;
    membership = 'starting';
    subscribing = subscribe(c);
  }

  /**
   * Closes a consumer in bounded time: forced, so its partitions move to another member at once. A consumer
   * still joining a group (behind a crashed member's session) may not answer the close, nor its subscription
   * end; neither may hold a shutdown or a rejoin longer than `CLOSE_TIMEOUT_MS`.
   */
  async function closeConsumer(c: Buffers | undefined, s: Stream | undefined, joining: Promise<void> | undefined) {
    await s?.close().catch((err: unknown) => logger.warn({ err }, 'sink_stream_close_failed'));
    const closed = new Promise<void>((resolve) => {
      if (!c) return resolve();
      c.close(true, (err) => {
        if (err) logger.warn({ err }, 'sink_consumer_close_failed');
        resolve();
      });
    });
    const ended = joining?.catch((err: unknown) => logger.debug({ err }, 'sink_subscribe_ended'));
    let timer: NodeJS.Timeout | undefined;
    const bounded = await Promise.race([
      Promise.all([closed, ended]).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (!bounded) logger.warn({ closeTimeoutMs: CLOSE_TIMEOUT_MS }, 'sink_consumer_close_timed_out');
  }

  async function rejoin(unhealthyForMs: number, observation: GroupObservation): Promise<void> {
    rejoins++;
    membership = 'stalled';
    logger.error(
      { groupId: options.groupId, state: observation.state, members: observation.members.length, unhealthyForMs },
      'sink_group_stalled_rejoining',
    );
    const [c, s, joining] = [consumer, stream, subscribing];
    consumer = undefined;
    stream = undefined;
    await closeConsumer(c, s, joining);
    if (!stopping) connect();
  }

  return {
    start() {
      stopping = false;
      connect();
      monitor.start();
    },
    async stop() {
      stopping = true;
      await monitor.stop();
      const [c, s, joining] = [consumer, stream, subscribing];
      await closeConsumer(c, s, joining);
      await stream?.close().catch(() => undefined); // a stream the ended subscription opened meanwhile
      consumer = undefined;
      stream = undefined;
      membership = 'stopped';
      await admin.close().catch(() => undefined);
    },
    pause() {
      paused = true;
      stream?.pause();
    },
    resume() {
      paused = false;
      if (stream?.isPaused()) stream.resume();
    },
    isPaused: () => paused,
    state: () => membership,
    lag: () => monitor.lag(),
    group: () => monitor.health(),
    rejoins: () => rejoins,
    lastError: () => lastError,
  };
}
