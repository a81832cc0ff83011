/**
 * The processor's options and public shapes, and the settings derived from them (defaults applied once).
 */

import type { WallClock } from '../clock.js';
import type { Side } from '../core/topology.js';
import type { Component, ReadinessCheck } from '../lifecycle.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsSource } from '../observability/metrics.js';
import type { EmitMode } from './emitter.js';
import type { FetchLimits } from './fetcher.js';

export interface ProcessorTopics {
  location: string;
  status: string;
  joinEvents: string;
  per2s: string;
  perDevice: string;
  deadLetters: string;
  checkpoints: string;
}

export interface StreamProcessorOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: ProcessorTopics;
  logger: Logger;
  /** Window grace; the join keeps records for grace + 2 s. */
  graceMs: number;
  /** Overrides `graceMs + 2000` for the join (ksqlDB-exact runs pass 24 h). */
  joinRetentionMs?: number;
  emitMode: EmitMode;
  flushIntervalMs: number;
  /** How long the merge waits for an idle side before running ahead on the other. */
  idleWaitMs: number;
  /** @default 30_000 — wait for a side whose broker log is known to hold more records. */
  lagWaitMs?: number;
  /** Partitions for topics this processor creates when the sources do not exist yet. @default 3 */
  partitions?: number;
  replicas?: number;
  /** `retention.ms` of the streams and the per2s changelog this processor creates (-1: forever). @default 7 days */
  retentionMs?: number;
  createTopics?: boolean;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Static group membership: a restarted instance with the same id takes its partitions back at once. */
  groupInstanceId?: string;
  /** How often the group's lag and state are read from the broker. @default 5000 */
  monitorIntervalMs?: number;
  /** A group stuck outside a stable generation this long is joined afresh. @default 2 × session + 5 s */
  stallAfterMs?: number;
  fetch?: Partial<FetchLimits>;
  /**
   * Records with an event time further ahead of the wall clock are dead-lettered (`core/admission.ts`): one such
   * record would advance stream time and close every window of its partition early. Keep it below `graceMs`.
   * @default 30_000
   */
  maxFutureMs?: number;
  /**
   * Records with an event time further behind their partition's stream time are dead-lettered
   * (`core/admission.ts`). `Infinity` turns the rule off. @default 86_400_000
   */
  maxEventAgeMs?: number;
  /**
   * The per-device table forgets a device whose last row is this far behind its partition's aggregation stream
   * time (docs/processor.md, "Bounded per-device state"). @default Infinity (never, as ksqlDB)
   */
  deviceIdleHorizonMs?: number;
  /** Most devices the per-device table holds per partition (the least recently seen go). @default Infinity */
  maxDevicesPerPartition?: number;
  /** Stop fetching a partition while this many of its records wait in memory. @default 20_000 */
  maxQueuedPerPartition?: number;
  /** A flush not acknowledged by then fails, and the processor rebuilds and retries. @default 30_000 */
  writeTimeoutMs?: number;
  /** Flush early once this many output records are buffered. @default 20_000 */
  maxPendingOutputs?: number;
  /**
   * exactly-once: outputs, checkpoints and source offsets in one Kafka transaction per flush, fenced by the group
   * generation; at-least-once: idempotent writes, checkpoints after outputs. @default 'exactly-once'
   */
  guarantee?: DeliveryGuarantee;
  /** Exactly-once: the broker aborts a transaction left open this long (a crashed instance's). @default 10_000 */
  transactionTimeoutMs?: number;
  clock?: WallClock;
}

export interface StreamProcessor extends Component, MetricsSource {
  readonly readiness: ReadinessCheck;
  /** Partitions currently owned. */
  assignedPartitions(): number[];
  /** Counters since start (also exposed as metrics). */
  stats(): ProcessorStats;
}

export interface ProcessorStats {
  /** Output records buffered, not yet written. */
  pendingOutputs: number;
  recordsIn: number;
  joinRows: number;
  deadLetters: number;
  lateRowsDropped: number;
  /** Source records on another partition than Kafka's default partitioner gives their key (still processed). */
  misrouted: number;
  lag: number;
  flushes: number;
  /** Flushes that failed (the processor then rebuilt its state from the checkpoints). */
  flushFailures: number;
  /** Devices the per-device tables forgot: idle beyond the horizon, or beyond the cap. */
  devicesEvictedIdle: number;
  devicesEvictedCap: number;
}

export type DeliveryGuarantee = 'exactly-once' | 'at-least-once';

export const SIDES: readonly Side[] = ['location', 'status'];

/** The two source topics. */
export type SourceTopics = Pick<ProcessorTopics, 'location' | 'status'>;

/** The source topic of a side. */
export const sourceTopic = (topics: SourceTopics, side: Side) =>
  side === 'location' ? topics.location : topics.status;

export const DEFAULT_FETCH_LIMITS: FetchLimits = {
  maxWaitMs: 100,
  maxBytes: 16 * 1024 * 1024,
  // Per-partition fetch size (compressed bytes). Small fetches keep each step's records few enough to die young
  // (1 MiB fetched ~35,000 records per partition at once and the processor spent a third of its time in GC);
  // the next fetch is in flight while a step processes, so small fetches cost no waiting. 64 and 192 KiB
  // measured alike in `npm run bench:processor`; 64 KiB holds less memory.
  partitionMaxBytes: 64 * 1024,
};

/** Group timing of a stream application: the rebalance timeout is the session, the stall bound twice it + 5 s. */
export function membershipTiming(sessionTimeoutMs = 10_000, heartbeatIntervalMs = 1000, stallAfterMs?: number) {
  return { sessionTimeoutMs, heartbeatIntervalMs, stallAfterMs: stallAfterMs ?? 2 * sessionTimeoutMs + 5000 };
}

/** The options with every default applied. */
export function processorSettings(options: StreamProcessorOptions) {
  const limits: FetchLimits = { ...DEFAULT_FETCH_LIMITS, ...options.fetch };
  return {
    limits,
    /** Restores read whole partitions: larger fetches, fewer round trips. */
    restoreLimits: { ...limits, partitionMaxBytes: Math.max(limits.partitionMaxBytes, 1024 * 1024) },
    topology: {
      windowGraceMs: options.graceMs,
      joinRetentionMs: options.joinRetentionMs ?? options.graceMs + 2000,
      deviceIdleHorizonMs: options.deviceIdleHorizonMs ?? Number.POSITIVE_INFINITY,
      maxDevices: options.maxDevicesPerPartition ?? Number.POSITIVE_INFINITY,
    },
    maxQueued: options.maxQueuedPerPartition ?? 20_000,
    maxPending: options.maxPendingOutputs ?? 20_000,
    lagWaitMs: options.lagWaitMs ?? 30_000,
    maxFutureMs: options.maxFutureMs ?? 30_000,
    maxEventAgeMs: options.maxEventAgeMs ?? 86_400_000,
    guarantee: options.guarantee ?? ('exactly-once' as DeliveryGuarantee),
    transactionTimeoutMs: options.transactionTimeoutMs ?? 10_000,
    ...membershipTiming(options.sessionTimeoutMs, options.heartbeatIntervalMs, options.stallAfterMs),
  };
}

export type ProcessorSettings = ReturnType<typeof processorSettings>;
