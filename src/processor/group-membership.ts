/**
 * A stream application's membership of its consumer group (the processor's, and the alert component's): joining with the co-partitioned assignor, the assignment,
 * committing what the checkpoints cover, and the broker's view of the group (`bus/group-health.ts`) with a
 * fresh join when it stays stuck.
 *
 * Data never goes through this member's client: its connection carries JoinGroup requests that block for a whole
 * rebalance, and fetches queued behind them would stall (the processor fetches with a second client).
 */
import { type Admin, Consumer } from '@platformatic/kafka';
import { createGroupMonitor, type GroupMonitor, type GroupObservation } from '../bus/group-health.js';
import type { Side } from '../core/topology.js';
import type { Logger } from '../observability/logger.js';
import { copartitionedAssigner } from './assigner.js';
import { type ProcessorSettings, SIDES, type SourceTopics, sourceTopic } from './processor-options.js';

export interface GroupMembershipOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  groupInstanceId?: string;
  topics: SourceTopics;
  settings: Pick<ProcessorSettings, 'sessionTimeoutMs' | 'heartbeatIntervalMs' | 'stallAfterMs'>;
  monitorIntervalMs?: number;
  admin: Admin;
  log: Logger;
  /** Observations are skipped while this is false. */
  active: () => boolean;
}

/** What one checkpoint covers: the next offset to process per side. */
export interface CoveredOffsets {
  partition: number;
  high: Record<Side, number>;
}

export interface MemberIdentity {
  generationId: number;
  memberId: string;
  coordinatorId: number;
}

export class GroupMembership {
  readonly #options: GroupMembershipOptions;
  readonly #consumer: Consumer;
  readonly #monitor: GroupMonitor;
  #rejoins = 0;

  constructor(options: GroupMembershipOptions) {
    this.#options = options;
    const { settings } = options;
    this.#consumer = new Consumer({
      clientId: `${options.clientId}-processor`,
      bootstrapBrokers: options.brokers,
      groupId: options.groupId,
      ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      rebalanceTimeout: settings.sessionTimeoutMs,
      // A JoinGroup waits up to the rebalance timeout for the other members: the request must outlast it.
      requestTimeout: Math.max(30_000, settings.sessionTimeoutMs + 10_000),
    });
    this.#monitor = createGroupMonitor({
      admin: options.admin,
      groupId: options.groupId,
      topics: [options.topics.location, options.topics.status],
      memberId: () => this.#consumer.memberId,
      stallAfterMs: settings.stallAfterMs,
      ...(options.monitorIntervalMs ? { intervalMs: options.monitorIntervalMs } : {}),
      active: options.active,
      onStalled: (observation, unhealthyForMs) => this.#rejoin(observation, unhealthyForMs),
      onError: (err) => options.log.debug({ err }, 'processor_group_observe_failed'),
    });
  }

  async join(): Promise<void> {
    const { topics } = this.#options;
    this.#consumer.topics.trackAll(topics.location, topics.status);
    await this.#consumer.joinGroup(this.#joinOptions());
    this.#monitor.start();
  }

  /** The group generation this member is in; a change means the assignment changed. */
  get generationId(): number {
    return this.#consumer.generationId;
  }

  /**
   * The membership the current assignment was given in: exactly-once transactions commit source offsets with it,
   * so that the coordinator refuses them once the group has moved to another generation.
   */
  membership(): MemberIdentity {
    return {
      generationId: this.#consumer.generationId,
      memberId: this.#consumer.memberId ?? '',
      coordinatorId: this.#consumer.coordinatorId ?? -1,
    };
  }

  /** Partition numbers assigned for both source topics (the assignor always gives both). */
  assignedPartitions(): number[] {
    const { topics } = this.#options;
    const assignment = this.#consumer.assignments ?? [];
    const of = (topic: string) => assignment.find((a) => a.topic === topic)?.partitions ?? [];
    const status = of(topics.status);
    return of(topics.location).filter((p) => status.includes(p));
  }

  /**
   * Commits what the checkpoints cover to the group, so that the group's lag as the broker (and every standard
   * tool) sees it is the processor's. Restarts read the checkpoints, not these offsets; a commit refused after a
   * rebalance (another generation) is harmless and only logged.
   */
  async commit(covered: CoveredOffsets[]): Promise<void> {
    if (covered.length === 0) return;
    const offsets = covered.flatMap(({ partition, high }) =>
      SIDES.map((side) => ({
        topic: sourceTopic(this.#options.topics, side),
        partition,
        offset: BigInt(high[side]),
        leaderEpoch: -1,
      })),
    );
    await this.#consumer
      .commit({ offsets })
      .catch((err: unknown) => this.#options.log.debug({ err }, 'source_offset_commit_failed'));
  }

  /** The group's committed offsets of `partitions` per side (-1 where none was committed). */
  async committedOffsets(partitions: number[]): Promise<Map<number, Record<Side, number>>> {
    const { topics } = this.#options;
    const offsets = await this.#consumer.listCommittedOffsets({
      topics: SIDES.map((side) => ({ topic: sourceTopic(topics, side), partitions })),
    });
    const out = new Map<number, Record<Side, number>>();
    for (const p of partitions) {
      const at = (side: Side) => Number(offsets.get(sourceTopic(topics, side))?.[p] ?? -1n);
      out.set(p, { location: at('location'), status: at('status') });
    }
    return out;
  }

  /** The broker's view of the group and its lag from the committed offsets. */
  health(): ReturnType<GroupMonitor['health']> {
    return this.#monitor.health();
  }

  lag(): number | undefined {
    return this.#monitor.lag();
  }

  get rejoins(): number {
    return this.#rejoins;
  }

  async stop(): Promise<void> {
    await this.#monitor.stop();
    // leaveGroup() first: it also stops the membership, so an in-flight heartbeat cannot rejoin the group after
    // close (observed with @platformatic/kafka 1.35 when closing a member while the group rebalances).
    await this.#leave();
    await Promise.resolve(this.#consumer.close(true)).catch(() => undefined);
  }

  #joinOptions() {
    const { settings } = this.#options;
    return {
      partitionAssigner: copartitionedAssigner,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      rebalanceTimeout: settings.sessionTimeoutMs,
    };
  }

  async #leave(): Promise<void> {
    const leave = this.#consumer.leaveGroup as (force?: boolean) => Promise<void>;
    await leave
      .call(this.#consumer, true)
      .catch((err: unknown) => this.#options.log.warn({ err }, 'leave_group_failed'));
  }

  /** The group has stayed outside a stable generation with this member: leave it and join afresh. */
  async #rejoin(observation: GroupObservation, unhealthyForMs: number): Promise<void> {
    this.#rejoins++;
    this.#options.log.error(
      { state: observation.state, members: observation.members.length, unhealthyForMs },
      'processor_group_stalled_rejoining',
    );
    await this.#leave();
    await this.#consumer.joinGroup(this.#joinOptions());
  }
}
