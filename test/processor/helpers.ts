/**
 * Shared pieces of the processor's broker tests: unique topics, a processor wired to them, producing events,
 * waiting for the processor to drain, and reading the final keyed state of the output topics.
 */
import { Consumer } from '@platformatic/kafka';
import { expect } from 'vitest';
import { createProducer } from '../../src/bus/producer.js';
import { decodeLatestRecord } from '../../src/core/output-records.js';
import { decodeWindowedKey } from '../../src/core/results.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { readWholePartition } from '../../src/processor/fetcher.js';
import {
  createStreamProcessor,
  type ProcessorTopics,
  type StreamProcessor,
  type StreamProcessorOptions,
} from '../../src/processor/processor.js';
import { brokers, createTestTopics, uniqueName } from '../helpers/kafka.js';

export const PARTITIONS = 3;

export async function createProcessorTopics(on: string[] = brokers()): Promise<ProcessorTopics> {
  const main = await createTestTopics(
    {
      location: 'p_location',
      status: 'p_status',
      joinEvents: 'p_join',
      per2s: 'p_per2s',
      perDevice: 'p_perdevice',
      deadLetters: 'p_dlq',
    },
    PARTITIONS,
    {},
    on,
  );
  const { checkpoints } = await createTestTopics(
    { checkpoints: 'p_checkpoints' },
    1,
    { 'cleanup.policy': 'compact' },
    on,
  );
  return { ...main, checkpoints };
}

export function testProcessor(
  topics: ProcessorTopics,
  overrides: Partial<StreamProcessorOptions> = {},
): StreamProcessor {
  return createStreamProcessor({
    brokers: brokers(),
    clientId: 'test',
    groupId: uniqueName('processor'),
    topics,
    logger: createSilentLogger(),
    graceMs: 60_000,
    emitMode: 'coalesce',
    flushIntervalMs: 200,
    idleWaitMs: 500,
    sessionTimeoutMs: 6000,
    ...overrides,
  });
}

export interface Event {
  topic: 'location' | 'status';
  value: Record<string, unknown> | string | null;
  key: string;
}

export async function produce(
  topics: Pick<ProcessorTopics, 'location' | 'status'>,
  events: Event[],
  chunk = 500,
  on: string[] = brokers(),
): Promise<void> {
  // Idempotent: right after topic creation a send can be retried, and a plain producer would then duplicate it.
  const producer = createProducer({ clientId: 'test-producer', bootstrapBrokers: on, idempotent: true });
  try {
    for (let i = 0; i < events.length; i += chunk) {
      await producer.send({
        messages: events.slice(i, i + chunk).map((e) => {
          const value =
            e.value === null ? undefined : Buffer.from(typeof e.value === 'string' ? e.value : JSON.stringify(e.value));
          return { topic: topics[e.topic], key: Buffer.from(e.key), ...(value ? { value } : {}) };
        }),
      });
    }
  } finally {
    await producer.close();
  }
}

/** Waits until the processor has taken `records` source records (processed or dead-lettered), has no lag, and has written its outputs. */
export async function waitForDrain(processors: StreamProcessor[], records: number, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = processors.map((p) => p.stats());
    const taken = stats.reduce((n, s) => n + s.recordsIn + s.deadLetters, 0);
    // Drained means processed and written: outputs still buffered or in flight are not on the topics yet.
    if (taken >= records && stats.every((s) => s.lag === 0 && s.pendingOutputs === 0)) return;
    if (Date.now() > deadline) throw new Error(`processor took ${taken} of ${records} records before the timeout`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The oracle of the crash tests: one processor that is never interrupted reads the same sources and writes to
 * `reference`'s output topics, until it has taken all `records`.
 */
export async function runUninterrupted(
  sources: Pick<ProcessorTopics, 'location' | 'status'>,
  reference: ProcessorTopics,
  records: number,
  overrides: Partial<StreamProcessorOptions> = {},
): Promise<void> {
  const uninterrupted = testProcessor(
    { ...reference, location: sources.location, status: sources.status },
    { graceMs: 10_000, idleWaitMs: 3000, ...overrides },
  );
  await uninterrupted.start();
  try {
    await waitForDrain([uninterrupted], records);
  } finally {
    await uninterrupted.stop();
  }
}

export interface FinalState {
  windows: Map<string, Record<string, unknown>>;
  devices: Map<string, Record<string, unknown>>;
  joinRows: number;
}

/** Last value per key of the per2s (by window id) and per-device topics. */
export async function readFinalState(topics: ProcessorTopics, on: string[] = brokers()): Promise<FinalState> {
  const consumer = new Consumer({
    clientId: 'test-state-reader',
    groupId: uniqueName('reader'),
    bootstrapBrokers: on,
  });
  const limits = { maxWaitMs: 100, maxBytes: 16 * 1024 * 1024, partitionMaxBytes: 4 * 1024 * 1024 };
  try {
    const state: FinalState = { windows: new Map(), devices: new Map(), joinRows: 0 };
    for (let p = 0; p < PARTITIONS; p++) {
      for (const r of await readWholePartition(consumer, topics.per2s, p, limits)) {
        const value = JSON.parse(r.value?.toString() ?? 'null') as Record<string, unknown>;
        const key = decodeWindowedKey(r.key as Buffer);
        expect(value['ID']).toBe(`${key.deviceId}_${key.windowStart}_${key.windowStart + 2000}`);
        state.windows.set(value['ID'] as string, value);
      }
      for (const r of await readWholePartition(consumer, topics.perDevice, p, limits)) {
        // Only what the processor wrote: a test may put foreign records into the topic on purpose.
        const decoded = decodeLatestRecord(r.key, r.value);
        if (decoded.ok) state.devices.set(decoded.deviceId, decoded.record as unknown as Record<string, unknown>);
      }
      state.joinRows += (await readWholePartition(consumer, topics.joinEvents, p, limits)).length;
    }
    return state;
  } finally {
    await consumer.close(true);
  }
}

export interface OutputLog {
  /** Every JOIN_EVENTS value, sorted: equal lists mean no row lost and none repeated. */
  joinRows: string[];
  /** Per device, the EVENT_TS of each of its per-device records in topic order. */
  deviceHistory: Map<string, (number | null)[]>;
}

/** What a read_committed reader sees of the JOIN_EVENTS and per-device topics, record by record. */
export async function readOutputLog(topics: ProcessorTopics, on: string[] = brokers()): Promise<OutputLog> {
  const consumer = new Consumer({ clientId: 'test-log-reader', groupId: uniqueName('reader'), bootstrapBrokers: on });
  const limits = { maxWaitMs: 100, maxBytes: 16 * 1024 * 1024, partitionMaxBytes: 4 * 1024 * 1024 };
  try {
    const log: OutputLog = { joinRows: [], deviceHistory: new Map() };
    for (let p = 0; p < PARTITIONS; p++) {
      for (const r of await readWholePartition(consumer, topics.joinEvents, p, limits)) {
        log.joinRows.push(r.value?.toString() ?? '');
      }
      for (const r of await readWholePartition(consumer, topics.perDevice, p, limits)) {
        const decoded = decodeLatestRecord(r.key, r.value);
        if (!decoded.ok) continue;
        const history = log.deviceHistory.get(decoded.deviceId) ?? [];
        history.push(decoded.record?.EVENT_TS ?? null);
        log.deviceHistory.set(decoded.deviceId, history);
      }
    }
    log.joinRows.sort();
    return log;
  } finally {
    await consumer.close(true);
  }
}

/** Devices whose per-device record moved to an older event, with the step where it did. */
export function regressions(history: Map<string, (number | null)[]>): string[] {
  const found: string[] = [];
  for (const [device, times] of history) {
    for (let i = 1; i < times.length; i++) {
      const [before, after] = [times[i - 1] ?? -1, times[i] ?? -1];
      if (after < before) {
        found.push(`${device}: ${before} → ${after} at record ${i}`);
        break;
      }
    }
  }
  return found;
}

/** A simple device workload: per device a location every 2 s and a status every 0.5 s, in event-time order. */
export function workload(devices: number, seconds: number, start = 1_700_000_000_000): Event[] {
  const events: Event[] = [];
  for (let t = 0; t < seconds * 1000; t += 500) {
    for (let d = 0; d < devices; d++) {
      const device = `dev-${d}`;
      const ts = start + t + d * 7;
      events.push({
        topic: 'status',
        key: device,
        value: {
          id: `s-${d}-${t}`,
          device_id: device,
          sound: 30 + ((t / 500 + d) % 20),
          temperature: 20 + (t % 7),
          altitude: 1000 + d,
          event_ts: ts,
        },
      });
      if (t % 2000 === 0) {
        events.push({
          topic: 'location',
          key: device,
          value: {
            id: `l-${d}-${t}`,
            device_id: device,
            latitude: 9 + ((d % 10) - 5) / 10 + t / 1e7,
            longitude: 107 + t / 1e7,
            event_ts: ts + 3,
          },
        });
      }
    }
  }
  return events;
}
