/**
 * What a consumer group is doing, as the broker sees it: its lag from committed offsets and high watermarks,
 * and whether it is stuck outside a stable generation. Readiness and the lag metrics are built on this, not on
 * what the member itself believes: a member can think it is consuming while its group is stuck in a rebalance
 * with nothing assigned (@platformatic/kafka 1.35 after a JoinGroup request timed out), and a lag computed
 * from assigned partitions then reads 0.
 */
import type { Admin } from '@platformatic/kafka';

export interface GroupObservation {
  /** The coordinator's state: `STABLE`, `PREPARING_REBALANCE`, `COMPLETING_REBALANCE`, `EMPTY`, `DEAD`. */
  state: string;
  /** Member ids in the group. */
  members: string[];
  /**
   * Records in `topics` after the group's committed offsets, up to the high watermarks; a partition with no
   * committed offset counts from its first offset.
   */
  lag: number;
}

/** Reads the group's state and lag over `topics`; throws when the broker cannot answer. */
export async function observeGroup(admin: Admin, groupId: string, topics: string[]): Promise<GroupObservation> {
  const metadata = await admin.metadata({ topics });
  const request = (timestamp: bigint) =>
    admin.listOffsets({
      topics: topics.map((name) => ({
        name,
        partitions: Array.from({ length: metadata.topics.get(name)?.partitionsCount ?? 0 }, (_, partitionIndex) => ({
          partitionIndex,
          timestamp,
        })),
      })),
    });
  const [ends, starts, committed, groups] = await Promise.all([
    request(-1n),
    request(-2n),
    admin.listConsumerGroupOffsets({ groups: [groupId] }),
    admin.describeGroups({ groups: [groupId] }),
  ]);
  const position = new Map<string, bigint>();
  for (const topic of starts)
    for (const p of topic.partitions) position.set(`${topic.name}:${p.partitionIndex}`, p.offset);
  for (const group of committed) {
    for (const topic of group.topics) {
      for (const p of topic.partitions) {
        if (p.committedOffset >= 0n) position.set(`${topic.name}:${p.partitionIndex}`, p.committedOffset);
      }
    }
  }
  let lag = 0n;
  for (const topic of ends) {
    for (const p of topic.partitions) {
      const at = position.get(`${topic.name}:${p.partitionIndex}`) ?? 0n;
      if (p.offset > at) lag += p.offset - at;
    }
  }
  const group = groups.get(groupId);
  return { state: group?.state ?? 'DEAD', members: [...(group?.members.keys() ?? [])], lag: Number(lag) };
}

/**
 * Decides, from successive observations, whether a member's group is stalled: not `STABLE` (or stable without
 * this member) for longer than `stallAfterMs`. A rebalance that completes within its timeout never counts.
 * Pure: the caller passes the time.
 */
export class GroupWatch {
  readonly #stallAfterMs: number;
  #unhealthySince: number | null = null;
  #last: GroupObservation | undefined;

  constructor(stallAfterMs: number) {
    this.#stallAfterMs = stallAfterMs;
  }

  /** Records an observation; `memberId` is this member's id, null while it has none. */
  observe(observation: GroupObservation, memberId: string | null, now: number): void {
    this.#last = observation;
    const healthy = observation.state === 'STABLE' && memberId !== null && observation.members.includes(memberId);
    if (healthy) this.#unhealthySince = null;
    else this.#unhealthySince ??= now;
  }

  /** Forgets the history (a new member starts over). */
  reset(): void {
    this.#unhealthySince = null;
  }

  stalled(now: number): boolean {
    return this.#unhealthySince !== null && now - this.#unhealthySince > this.#stallAfterMs;
  }

  /** How long the group has been unhealthy, ms (0 when healthy). */
  unhealthyFor(now: number): number {
    return this.#unhealthySince === null ? 0 : now - this.#unhealthySince;
  }

  get last(): GroupObservation | undefined {
    return this.#last;
  }
}

export interface GroupMonitorOptions {
  admin: Admin;
  groupId: string;
  topics: string[];
  /** This member's id, null while it has none. */
  memberId: () => string | null;
  /** A group unhealthy this long calls `onStalled` (once per stall). */
  stallAfterMs: number;
  /** @default 5000 */
  intervalMs?: number;
  /** Called when the group has been unhealthy for `stallAfterMs`; the watch starts over once it resolves. */
  onStalled: (observation: GroupObservation, unhealthyForMs: number) => Promise<void>;
  /** Observations are skipped while this returns false (e.g. before the member has joined). */
  active?: () => boolean;
  onError?: (err: unknown) => void;
}

export interface GroupMonitor {
  start(): void;
  stop(): Promise<void>;
  /** The group's lag at the last observation, undefined before the first one. */
  lag(): number | undefined;
  /** The last observation and how long the group has been unhealthy (0 when healthy). */
  health(): { observation: GroupObservation | undefined; unhealthyForMs: number };
  /** Forgets the history, e.g. after this member joined afresh. */
  reset(): void;
}

/** Observes a group every `intervalMs` and calls `onStalled` when it stays unhealthy (see `GroupWatch`). */
export function createGroupMonitor(options: GroupMonitorOptions): GroupMonitor {
  const watch = new GroupWatch(options.stallAfterMs);
  let lag: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let observing: Promise<void> | undefined;
  let recovering: Promise<void> | undefined;

  async function observe(): Promise<void> {
    if (options.active && !options.active()) return;
    try {
      const observation = await observeGroup(options.admin, options.groupId, options.topics);
      lag = observation.lag;
      const now = Date.now();
      watch.observe(observation, options.memberId(), now);
      if (watch.stalled(now) && !recovering) {
        recovering = options
          .onStalled(observation, watch.unhealthyFor(now))
          .catch((err: unknown) => options.onError?.(err))
          .finally(() => {
            watch.reset();
            recovering = undefined;
          });
      }
    } catch (err) {
      // Kafka unreachable: the lag is unknown, which readiness reports through the Kafka check.
      options.onError?.(err);
    }
  }

  return {
    start() {
      timer = setInterval(() => {
        observing ??= observe().finally(() => {
          observing = undefined;
        });
      }, options.intervalMs ?? 5000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await observing;
      await recovering;
    },
    lag: () => lag,
    health: () => ({ observation: watch.last, unhealthyForMs: watch.unhealthyFor(Date.now()) }),
    reset: () => watch.reset(),
  };
}
