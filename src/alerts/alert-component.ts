/**
 * The alert component: consumes the source topics with a consumer group of its own, merges each partition's two
 * topics in event-time order exactly as the processor does (`processor/task.ts`: same decoding, same admission
 * rules), runs the detector of its devices (`alert-partition.ts`), and writes every alert change to
 * `device_alerts` (keyed by device id, to the partition number of its source). Because it reads only the source
 * topics it runs unchanged beside ksqlDB (`ENGINE=ksqldb`).
 *
 * Restart safety (no alert lost, none duplicated, none re-opened): each flush writes the alert changes, then each
 * changed device's whole detector state to the compacted changelog `telemetry_alert_state` (keyed by device id),
 * then commits the source offsets the flush covers. A restart restores the devices from the changelog and resumes
 * from the committed offsets; every device state records the next offset it has not applied per topic, so records
 * read again after a crash change nothing. A crash between the writes, or a failed write, can only write alert
 * changes again: the same ids and revisions, after the first copies and in the same order, with the same content
 * unless the replay decides differently where the wall clock decided the first time (the inactivity timer once
 * caught up, the merge running ahead of a silent topic, the future rule, whose refusals are not kept here).
 * docs/warehouse.md says what each warehouse sink makes of that.
 *
 * Records that do not decode or break an admission rule are skipped and counted; dead-lettering them is the
 * processor's job (twice would duplicate the dead letters).
 */
import { Admin, Consumer } from '@platformatic/kafka';
import { createProducer, type Producer, sendInChunks } from '../bus/producer.js';
import { DEFAULT_RETENTION_MS } from '../bus/topic-configs.js';
import { systemClock, type WallClock } from '../clock.js';
import type { DeviceAlertState } from '../core/alerts/alert-detector.js';
import { ALERT_TYPES, type AlertRecord } from '../core/alerts/alert-record.js';
import type { AlertRules } from '../core/alerts/alert-rules.js';
import { Backoff } from '../core/backoff.js';
import type { Side } from '../core/topology.js';
import { AppError } from '../errors.js';
import type { Component, ReadinessCheck } from '../lifecycle.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsSource } from '../observability/metrics.js';
import {
  type FetchedPartition,
  type FetchLimits,
  fetchPartitions,
  type PartitionPosition,
  partitionBounds,
} from '../processor/fetcher.js';
import { GroupMembership } from '../processor/group-membership.js';
import { DEFAULT_FETCH_LIMITS, membershipTiming, SIDES, sourceTopic } from '../processor/processor-options.js';
import { PartitionTask } from '../processor/task.js';
import { type AlertComponentStats, alertMetricSamples } from './alert-metrics.js';
import { AlertPartition } from './alert-partition.js';
import { readDeviceStates } from './alert-state.js';
import { type AlertTopics, ensureAlertTopics } from './alert-topics.js';

export type { AlertTopics } from './alert-topics.js';

export interface AlertComponentOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: AlertTopics;
  rules: AlertRules;
  logger: Logger;
  /** @default 200 — alert changes wait at most this long before they are written. */
  flushIntervalMs?: number;
  /** @default 500 — the merge's wait for a silent topic (as the processor's). */
  idleWaitMs?: number;
  /** @default 500 — caught up, the inactivity timer runs this far behind the wall clock. */
  latenessMs?: number;
  sessionTimeoutMs?: number;
  groupInstanceId?: string;
  monitorIntervalMs?: number;
  maxFutureMs?: number;
  maxEventAgeMs?: number;
  partitions?: number;
  replicas?: number;
  /** `retention.ms` of the streams this component creates (-1: forever). @default 7 days */
  retentionMs?: number;
  createTopics?: boolean;
  /**
   * Devices silent this long are forgotten or retired by the detector (`core/alerts/alert-detector.ts`); at least
   * the rules' `inactiveAfterMs`. @default Infinity
   */
  deviceIdleHorizonMs?: number;
  /** Most devices the detector holds per partition, and most it retires. @default Infinity */
  maxDevicesPerPartition?: number;
  /** Overrides the processor's fetch sizes (tests make them small to stop mid-way). */
  fetch?: Partial<FetchLimits>;
  clock?: WallClock;
}

export type { AlertComponentStats } from './alert-metrics.js';

export interface AlertComponent extends Component, MetricsSource {
  readonly readiness: ReadinessCheck;
  stats(): AlertComponentStats;
  /** The active alerts of the partitions this instance owns. */
  active(): AlertRecord[];
}

type AlertTask = PartitionTask<AlertPartition>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createAlertComponent(options: AlertComponentOptions): AlertComponent {
  const { topics, groupId } = options;
  const clock = options.clock ?? systemClock;
  const log = options.logger.child({ component: 'alerts', groupId });
  const limits: FetchLimits = { ...DEFAULT_FETCH_LIMITS, ...options.fetch };
  const timing = membershipTiming(options.sessionTimeoutMs);
  const maxQueued = 20_000;
  const lagWaitMs = 30_000;
  const maxFutureMs = options.maxFutureMs ?? 30_000;
  const maxEventAgeMs = options.maxEventAgeMs ?? 86_400_000;
  const flushIntervalMs = options.flushIntervalMs ?? 200;
  const idleWaitMs = options.idleWaitMs ?? 500;
  const latenessMs = options.latenessMs ?? 500;
  const base = { clientId: `${options.clientId}-alerts`, bootstrapBrokers: options.brokers };
  const admin = new Admin({ ...base, clientId: `${options.clientId}-alerts-admin` });
  const fetcher = new Consumer({ ...base, clientId: `${options.clientId}-alerts-fetch`, groupId: `${groupId}-fetch` });
  let producer: Producer | undefined;
  let tasks = new Map<number, AlertTask>();
  let running = false;
  let ready = false;
  let generation = -1;
  let loop: Promise<void> | undefined;
  let prefetch: Promise<FetchedPartition[]> | null = null;
  let lastError: unknown;
  let nextFlushAt = 0;
  let partitionCount = options.partitions ?? 3;
  const counters = { recordsIn: 0, recordsSkipped: 0, alertChanges: 0, flushes: 0 };
  /** Device evictions of the detectors of earlier assignments (a rebuild replaces them). */
  const retiredEvictions = { idle: 0, cap: 0 };
  let capEvictions = 0;
  const bounds = {
    idleHorizonMs: options.deviceIdleHorizonMs ?? Number.POSITIVE_INFINITY,
    maxDevices: options.maxDevicesPerPartition ?? Number.POSITIVE_INFINITY,
    onCapEviction: (deviceId: string) => {
      capEvictions++;
      // Sampled: once the cap bites, every new device evicts one.
      if (capEvictions === 1 || capEvictions % 10_000 === 0) {
        log.warn(
          { deviceId, maxDevices: options.maxDevicesPerPartition, capEvictions },
          'alert_device_cap_reached: the alert detector forgot its least recently seen device (ALERT_MAX_DEVICES); ' +
            'its active alerts will not clear',
        );
      }
    },
  };
  const opened: Record<string, number> = Object.fromEntries(ALERT_TYPES.map((t) => [t, 0]));
  const cleared: Record<string, number> = Object.fromEntries(ALERT_TYPES.map((t) => [t, 0]));

  const membership = new GroupMembership({
    brokers: options.brokers,
    clientId: `${options.clientId}-alerts`,
    groupId,
    ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
    topics,
    settings: timing,
    ...(options.monitorIntervalMs ? { monitorIntervalMs: options.monitorIntervalMs } : {}),
    admin,
    log,
    active: () => running,
  });

  const newTask = (partition: number) =>
    new PartitionTask({
      partition,
      partitionCount,
      maxFutureMs,
      maxAgeMs: maxEventAgeMs,
      topology: new AlertPartition(options.rules, bounds),
      deadLetter: () => {
        counters.recordsSkipped++;
      },
    });

  /** Alert changes, then the changed devices' states, then the offsets they cover: see the module comment. */
  async function flush(): Promise<void> {
    nextFlushAt = clock.now() + flushIntervalMs;
    const alerts: { partition: number; alert: AlertRecord }[] = [];
    const states: { partition: number; state: DeviceAlertState }[] = [];
    const forgotten: { partition: number; deviceId: string }[] = [];
    const covered: { partition: number; high: Record<Side, number> }[] = [];
    for (const task of tasks.values()) {
      const drained = task.topology.drain();
      for (const alert of drained.alerts) alerts.push({ partition: task.partition, alert });
      for (const state of drained.states) states.push({ partition: task.partition, state });
      for (const deviceId of drained.forgotten) forgotten.push({ partition: task.partition, deviceId });
      covered.push({ partition: task.partition, high: { ...task.processed } });
    }
    producer ??= createProducer({ ...base, clientId: `${options.clientId}-alerts-out`, idempotent: true });
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    if (alerts.length > 0) {
      await sendInChunks(
        producer,
        alerts.map(({ partition, alert }) => ({
          topic: topics.alerts,
          partition,
          key: Buffer.from(alert.device_id),
          value: json(alert),
          timestamp: BigInt(alert.updated_at),
        })),
      );
    }
    if (states.length > 0) {
      // Bounded requests: a backlog changes thousands of devices' states in one flush (1 MiB broker limit).
      await sendInChunks(
        producer,
        states.map(({ partition, state }) => ({
          topic: topics.state,
          partition,
          key: Buffer.from(state.deviceId),
          value: json(state),
        })),
      );
    }
    if (forgotten.length > 0) {
      // Tombstones: a forgotten device leaves the changelog, so a restart does not bring it back.
      await sendInChunks(
        producer,
        forgotten.map(({ partition, deviceId }) => ({
          topic: topics.state,
          partition,
          key: Buffer.from(deviceId),
          value: null as unknown as Buffer,
        })),
      );
    }
    await membership.commit(covered);
    counters.flushes++;
    for (const { alert } of alerts) {
      counters.alertChanges++;
      if (alert.revision === 1) opened[alert.type] = (opened[alert.type] ?? 0) + 1;
      if (alert.status === 'cleared') cleared[alert.type] = (cleared[alert.type] ?? 0) + 1;
    }
  }

  /** State for the current assignment: device states from the changelog, positions from the committed offsets. */
  async function rebuild(): Promise<void> {
    const target = membership.generationId;
    if (tasks.size > 0 && ready)
      await flush().catch((err: unknown) => log.warn({ err }, 'flush_before_rebalance_failed'));
    for (const task of tasks.values()) {
      counters.recordsIn += task.topology.recordsProcessed;
      const { evictions } = task.topology.detector.stateSize;
      retiredEvictions.idle += evictions.idle;
      retiredEvictions.cap += evictions.cap;
    }
    tasks = new Map();
    ready = false;
    const partitions = membership.assignedPartitions();
    if (partitions.length > 0) {
      const described = await admin.metadata({ topics: [topics.location] });
      partitionCount = described.topics.get(topics.location)?.partitionsCount ?? partitionCount;
    }
    const committed = await membership.committedOffsets(partitions);
    const next = new Map<number, AlertTask>();
    for (const partition of partitions) {
      const task = newTask(partition);
      task.topology.restore(await readDeviceStates(fetcher, topics.state, partition));
      const at = committed.get(partition) ?? { location: -1, status: -1 };
      const start = async (side: Side) =>
        at[side] >= 0 ? at[side] : (await partitionBounds(fetcher, sourceTopic(topics, side), partition)).start;
      task.seek({ location: await start('location'), status: await start('status') });
      next.set(partition, task);
    }
    tasks = next;
    generation = target;
    ready = true;
    log.info({ partitions }, 'alert_partitions_assigned');
  }

  function positions(): PartitionPosition[] {
    const out: PartitionPosition[] = [];
    for (const task of tasks.values()) {
      for (const side of SIDES) {
        if (task.queued(side) >= maxQueued) continue;
        out.push({ topic: sourceTopic(topics, side), partition: task.partition, offset: task.position[side] });
      }
    }
    return out;
  }

  function dropPrefetch(): void {
    prefetch?.catch(() => undefined);
    prefetch = null;
  }

  async function step(): Promise<void> {
    if (membership.generationId !== generation) {
      dropPrefetch();
      await rebuild();
    }
    if (tasks.size === 0) {
      await sleep(limits.maxWaitMs);
      return;
    }
    const fetched = await (prefetch ?? fetchPartitions(fetcher, positions(), limits));
    prefetch = null;
    if (membership.generationId !== generation) return;
    for (const f of fetched) {
      const task = tasks.get(f.partition);
      if (!task) continue;
      const side: Side = f.topic === topics.location ? 'location' : 'status';
      if (f.errorCode === 1) {
        task.position[side] = (await partitionBounds(fetcher, f.topic, f.partition)).start;
        continue;
      }
      if (f.errorCode !== 0) throw new Error(`fetch ${f.topic}/${f.partition} failed with error ${f.errorCode}`);
      task.enqueue(side, f.records, f.nextOffset, f.highWatermark, clock.now());
    }
    const next = fetchPartitions(fetcher, positions(), limits);
    next.catch(() => undefined);
    prefetch = next;
    const now = clock.now();
    for (const task of tasks.values()) {
      task.drive({ now, idleWaitMs, lagWaitMs });
      // Caught up only once both sides were fetched: a restored partition is not caught up before it has looked.
      task.topology.advance(task.caughtUp(), now, latenessMs);
    }
    if (now >= nextFlushAt) await flush();
  }

  async function run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
    while (running) {
      try {
        await step();
        backoff.reset();
        lastError = undefined;
      } catch (err) {
        // What was drained but not written is lost from memory: rebuild from the changelog and committed offsets.
        // Not ready, so that neither the rebuild nor stop() flushes first: that flush would find nothing left to
        // write and commit the offsets of the records whose alert changes and device states the failed one took.
        ready = false;
        if (!running) break;
        lastError = err;
        const delay = backoff.next();
        log.error({ err, retryInMs: delay }, 'alerts_step_failed');
        await sleep(delay);
        generation = -1;
        dropPrefetch();
      }
    }
  }

  const stats = (): AlertComponentStats => {
    let recordsIn = counters.recordsIn;
    let lag = 0;
    const devices = { held: 0, retired: 0, evictedIdle: retiredEvictions.idle, evictedCap: retiredEvictions.cap };
    for (const task of tasks.values()) {
      recordsIn += task.topology.recordsProcessed;
      lag += task.lag();
      const size = task.topology.detector.stateSize;
      devices.held += size.devices;
      devices.retired += size.retired;
      devices.evictedIdle += size.evictions.idle;
      devices.evictedCap += size.evictions.cap;
    }
    return { ...counters, recordsIn, lag, opened: { ...opened }, cleared: { ...cleared }, devices };
  };

  const active = () => [...tasks.values()].flatMap((t) => t.topology.detector.active());

  return {
    name: 'alerts',
    async start() {
      if (options.createTopics !== false) {
        await ensureAlertTopics(admin, topics, {
          partitions: options.partitions ?? 3,
          replicas: options.replicas ?? 1,
          retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
        });
      }
      await membership.join();
      running = true;
      nextFlushAt = clock.now() + flushIntervalMs;
      loop = run();
    },
    async stop() {
      running = false;
      await loop;
      dropPrefetch();
      if (ready) await flush().catch((err: unknown) => log.warn({ err }, 'final_alert_flush_failed'));
      await membership.stop();
      await Promise.allSettled([fetcher.close(true), admin.close(), producer?.close()]);
      ready = false;
    },
    readiness: {
      name: 'alerts',
      async check() {
        if (!ready || lastError !== undefined) {
          throw new AppError('UNAVAILABLE', 'the alert component is not consuming or not writing its alerts', {
            details: { dependency: 'alerts' },
          });
        }
        const { observation, unhealthyForMs } = membership.health();
        if (observation && unhealthyForMs > 0) {
          throw new AppError(
            'UNAVAILABLE',
            `the alert component's consumer group is ${observation.state.toLowerCase()} (for ${Math.round(unhealthyForMs / 1000)} s)`,
            { details: { dependency: 'alerts' } },
          );
        }
      },
    },
    stats,
    active,
    metrics: () => alertMetricSamples(stats(), active(), membership.lag() ?? 0),
  };
}
