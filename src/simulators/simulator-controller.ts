/**
 * The simulator controller: at most one simulation run at a time, started, observed and stopped by the
 * HTTP API (`/simulate`) or the CLI.
 *
 * Starting while a run is active is refused (`CONFLICT`, HTTP 409): replacing a run silently
 * would hide that someone else's run was stopped; stop it first with `stopRun`. Stopping halts the
 * schedules, then waits (at most `stopTimeoutMs`) until everything generated is acknowledged; what the
 * broker never took is reported as abandoned. While the broker is unreachable a run keeps its state and
 * schedules, retries the same batch with backoff, counts the failed sends and reports the last error.
 */
import { randomInt } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import type { KafkaConnection } from '../bus/kafka-admin.js';
import { type Clock, systemClock } from '../clock.js';
import { TOPICS } from '../core/topics.js';
import { AppError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { MetricSample } from '../observability/metrics.js';
import { type BatchingSender, createBatchingSender, type SendBatch } from './batching-sender.js';
import { createKafkaBatchSender, type SimulatorCompression } from './kafka-producer.js';
import { reportScenario } from './scenario.js';
import {
  checkLimits,
  describeSimulation,
  resolveSimulation,
  type SimulationConfig,
  type SimulationDefaults,
  type SimulationLimits,
  type SimulationRequest,
  SPEC_DEFAULTS,
} from './simulation-config.js';
import { type RunTopics, type SimulationRun, startSimulationRun } from './simulation-run.js';
import { idleStatus, type SimulationStatus, type TopicReport } from './simulation-status.js';

export interface SimulatorControllerOptions {
  kafka: KafkaConnection;
  /** @default { location: 'device_location', status: 'device_status' } */
  topics?: RunTopics;
  /** @default SPEC_DEFAULTS */
  defaults?: SimulationDefaults;
  limits: SimulationLimits;
  /** Producer batching: records per batch, linger, queue capacity, compression. */
  producer?: { batchSize?: number; lingerMs?: number; capacity?: number; compression?: SimulatorCompression };
  /** Bound on the flush when a run stops. @default 10000 */
  stopTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Replaces the Kafka producer (tests of failure handling); called once per run. */
  createSender?: () => { send: SendBatch; close(): Promise<void> };
}

export interface SimulatorController {
  /** Starts a run; throws `CONFLICT` if one is active, `UNPROCESSABLE` over a limit. */
  startRun(request: SimulationRequest): SimulationStatus;
  /** Stops the active run after flushing; returns the final status (a no-op without an active run). */
  stopRun(): Promise<SimulationStatus>;
  status(): SimulationStatus;
  /** Stops any run; for application shutdown. */
  close(): Promise<void>;
  /** Prometheus samples: events sent/failed/abandoned per topic over the process's life, and the run state. */
  metrics(): MetricSample[];
}

interface ActiveRun {
  id: string;
  config: SimulationConfig;
  run: SimulationRun;
  sender: BatchingSender;
  closeProducer: () => Promise<void>;
  state: 'running' | 'stopping' | 'stopped' | 'completed';
  stoppedAt: number | undefined;
  finalizing: Promise<void> | undefined;
  /** Set once the run's final counts are added to the process totals. */
  accounted: boolean;
}

type Totals = Record<'location' | 'status', { sent: number; failed: number; abandoned: number }>;

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function createSimulatorController(options: SimulatorControllerOptions): SimulatorController {
  const clock = options.clock ?? systemClock;
  const topics = options.topics ?? { location: TOPICS.DEVICE_LOCATION, status: TOPICS.DEVICE_STATUS };
  const defaults = options.defaults ?? SPEC_DEFAULTS;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const logger = options.logger;
  let current: ActiveRun | undefined;
  // Counters must not go back when a new run starts: finished runs are folded into these totals.
  const finished: Totals = {
    location: { sent: 0, failed: 0, abandoned: 0 },
    status: { sent: 0, failed: 0, abandoned: 0 },
  };

  function runTotals(active: ActiveRun): Totals {
    const stats = active.sender.stats();
    const pick = (topic: string) => {
      const t = stats.topics[topic] ?? { sent: 0, failed: 0, abandoned: 0 };
      return { sent: t.sent, failed: t.failed, abandoned: t.abandoned };
    };
    return { location: pick(topics.location), status: pick(topics.status) };
  }

  /** Flushes, closes the producer and settles the final state; idempotent. Never touches `active.run`. */
  function finalize(active: ActiveRun, final: 'stopped' | 'completed') {
    active.finalizing ??= (async () => {
      active.state = 'stopping';
      const flushed = await active.sender.flush(stopTimeoutMs);
      active.sender.close();
      await active.closeProducer().catch((err: unknown) => logger?.warn({ err }, 'simulator_producer_close_failed'));
      active.stoppedAt = clock.now();
      active.state = final;
      const totals = runTotals(active);
      for (const kind of ['location', 'status'] as const) {
        finished[kind].sent += totals[kind].sent;
        finished[kind].failed += totals[kind].failed;
        finished[kind].abandoned += totals[kind].abandoned;
      }
      active.accounted = true;
      logger?.info({ runId: active.id, state: final, flushed }, 'simulation_stopped');
    })();
    return active.finalizing;
  }

  function report(active: ActiveRun): SimulationStatus {
    const stats = active.sender.stats();
    const counters = active.run.counters();
    const end = active.stoppedAt ?? clock.now();
    const elapsedMs = Math.max(0, end - active.run.startedAt);
    const devices = active.config.devices.length;
    const topicReport = (topic: string, kind: 'location' | 'status'): TopicReport => {
      const t = stats.topics[topic] ?? { sent: 0, failed: 0, abandoned: 0 };
      const rate = elapsedMs > 0 ? t.sent / (elapsedMs / 1000) : 0;
      return {
        topic,
        generated: counters[kind].generated,
        sent: t.sent,
        failed: t.failed,
        abandoned: t.abandoned,
        skipped_backpressure: counters[kind].skippedBackpressure,
        skipped_late: counters[kind].skippedLate,
        skipped_silent: counters[kind].skippedSilent,
        events_per_second: rate,
        events_per_second_per_device: rate / devices,
      };
    };
    return {
      state: active.state,
      run_id: active.id,
      started_at: iso(active.run.startedAt),
      stopped_at: iso(active.stoppedAt),
      elapsed_ms: elapsedMs,
      config: describeSimulation(active.config),
      topics: { location: topicReport(topics.location, 'location'), status: topicReport(topics.status, 'status') },
      scenario: reportScenario(active.run.schedule, end),
      buffered: stats.buffered,
      errors: {
        failed_sends: stats.failedSends,
        last_error: stats.lastError?.message ?? null,
        last_error_at: iso(stats.lastError?.at),
      },
    };
  }

  return {
    startRun(request) {
      if (current && (current.state === 'running' || current.state === 'stopping')) {
        throw new AppError('CONFLICT', 'a simulation is already running; DELETE /simulate first', {
          details: { run_id: current.id, state: current.state },
        });
      }
      const config = resolveSimulation(request, defaults, () => randomInt(0, 2 ** 31 - 1));
      checkLimits(config, options.limits);
      const producer =
        options.createSender?.() ?? createKafkaBatchSender({ kafka: options.kafka, ...options.producer });
      let failuresLogged = 0;
      const sender = createBatchingSender({
        send: producer.send,
        clock,
        ...options.producer,
        onSendFailed: (err) => {
          // Log the first failures and then every 100th: a long broker outage must not flood the log.
          if (failuresLogged++ % 100 === 0) logger?.warn({ err, failures: failuresLogged }, 'simulator_send_failed');
        },
      });
      const id = uuidv7();
      const active: ActiveRun = {
        id,
        config,
        sender,
        closeProducer: () => producer.close(),
        state: 'running',
        stoppedAt: undefined,
        finalizing: undefined,
        accounted: false,
        // Assigned just below; `finalize` (which `onFinished` may call synchronously) does not read it.
        run: undefined as unknown as SimulationRun,
      };
      current = active;
      active.run = startSimulationRun({
        config,
        clock,
        sender,
        topics,
        onFinished: () => void finalize(active, 'completed'),
      });
      logger?.info({ runId: id, devices: config.devices.length, seed: config.seed, topics }, 'simulation_started');
      return report(active);
    },
    async stopRun() {
      const active = current;
      if (!active) return { ...idleStatus };
      if (active.state === 'running' || active.state === 'stopping') {
        active.run.halt();
        await finalize(active, 'stopped');
      }
      return report(active);
    },
    status: () => (current ? report(current) : { ...idleStatus }),
    async close() {
      if (current && (current.state === 'running' || current.state === 'stopping')) {
        current.run.halt();
        await finalize(current, 'stopped');
      }
    },
    metrics() {
      const live = current && !current.accounted ? runTotals(current) : undefined;
      const samples: MetricSample[] = [];
      for (const kind of ['location', 'status'] as const) {
        const topic = kind === 'location' ? topics.location : topics.status;
        for (const outcome of ['sent', 'failed', 'abandoned'] as const) {
          samples.push({
            name: `simulator_events_${outcome}_total`,
            help: `Simulated events ${outcome} to Kafka since the process started`,
            type: 'counter',
            value: finished[kind][outcome] + (live?.[kind][outcome] ?? 0),
            labels: { topic },
          });
        }
      }
      const running = current?.state === 'running' || current?.state === 'stopping';
      samples.push(
        {
          name: 'simulator_running',
          help: '1 while a simulation run is active',
          type: 'gauge',
          value: running ? 1 : 0,
        },
        {
          name: 'simulator_buffered_events',
          help: 'Events generated but not yet acknowledged by Kafka',
          type: 'gauge',
          value: current ? current.sender.stats().buffered : 0,
        },
      );
      return samples;
    },
  };
}
