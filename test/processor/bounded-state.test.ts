/**
 * Issue 15, bounded state: the per-device table (DEVICE_WINAGG_STATUS_PERDEVICE's state) used to hold every device
 * id ever seen. Here 20,000 device ids churn through the processor on the real broker (each reports once, 50 ms of
 * event time after the previous one), then a burst of 3,000 new ones arrives within 3 s: the devices held stay
 * within the cap throughout, idle devices are forgotten by stream time, the cap evicts the least recently seen,
 * every device still gets its output row, and a restart restores exactly the devices the bound keeps.
 */
import { Consumer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import type { MetricSample } from '../../src/observability/metrics.js';
import { readWholePartition } from '../../src/processor/fetcher.js';
import type { StreamProcessor } from '../../src/processor/processor.js';
import { brokers, uniqueName } from '../helpers/kafka.js';
import {
  createProcessorTopics,
  type Event,
  PARTITIONS,
  produce,
  readFinalState,
  testProcessor,
  waitForDrain,
} from './helpers.js';

const HORIZON_MS = 60_000;
const CAP = 500;
const CHURNED = 20_000;
const BURST = 3000;

const sample = (p: StreamProcessor, name: string, reason?: string) =>
  p.metrics().find((m: MetricSample) => m.name === name && (reason === undefined || m.labels?.reason === reason))
    ?.value ?? Number.NaN;

function device(id: string, ts: number): Event[] {
  return [
    {
      topic: 'status',
      key: id,
      value: { id: `s-${id}`, device_id: id, sound: 40, temperature: 25, altitude: 1500, event_ts: ts },
    },
    {
      topic: 'location',
      key: id,
      value: { id: `l-${id}`, device_id: id, latitude: 9, longitude: 107, event_ts: ts + 10 },
    },
  ];
}

/** Drains while sampling the devices-held gauge every 20 ms; returns the largest value seen. */
async function drainSampling(p: StreamProcessor, records: number): Promise<number> {
  let most = 0;
  const timer = setInterval(() => {
    most = Math.max(most, sample(p, 'processor_state_devices'));
  }, 20);
  try {
    await waitForDrain([p], records, 120_000);
  } finally {
    clearInterval(timer);
  }
  return Math.max(most, sample(p, 'processor_state_devices'));
}

/** What the bound keeps per partition, from the per-device topic: the top CAP devices not idle at stream time. */
async function expectedHeld(perDevice: string): Promise<number> {
  const consumer = new Consumer({
    clientId: 'test-bound-reader',
    groupId: uniqueName('reader'),
    bootstrapBrokers: brokers(),
  });
  const limits = { maxWaitMs: 100, maxBytes: 16 * 1024 * 1024, partitionMaxBytes: 4 * 1024 * 1024 };
  let held = 0;
  try {
    for (let p = 0; p < PARTITIONS; p++) {
      const last = new Map<string, number>();
      for (const r of await readWholePartition(consumer, perDevice, p, limits)) {
        last.set(r.key?.toString() ?? '', Number(r.timestamp));
      }
      const streamTime = Math.max(...last.values());
      const live = [...last.values()].filter((ts) => ts > streamTime - HORIZON_MS).length;
      held += Math.min(CAP, live);
    }
  } finally {
    await consumer.close(true);
  }
  return held;
}

describe('processor bounded per-device state', () => {
  it('holds at most the cap while 20,000 device ids churn through, forgets idle ones, and restores the same', async () => {
    const topics = await createProcessorTopics();
    const groupId = uniqueName('processor');
    const options = { groupId, graceMs: 10_000, deviceIdleHorizonMs: HORIZON_MS, maxDevicesPerPartition: CAP };
    // Two hours ago: every event is in the past for the future rule, and the whole run is 1,004 s of event time.
    const t0 = Date.now() - 2 * 3600_000;
    const churn = Array.from({ length: CHURNED }, (_, i) => device(`churn-${i}`, t0 + i * 50)).flat();
    const burstAt = t0 + CHURNED * 50 + 1000;
    const burst = Array.from({ length: BURST }, (_, i) => device(`burst-${i}`, burstAt + i)).flat();

    const first = testProcessor(topics, options);
    await produce(topics, churn, 2000);
    await first.start();
    let heldAfterChurn: number;
    let mostAfterBurst: number;
    try {
      const mostDuringChurn = await drainSampling(first, churn.length);
      heldAfterChurn = sample(first, 'processor_state_devices');
      // 60 s of 20 devices/s is about 1,200 devices live at any time, 400 a partition: below the cap of 500.
      expect(mostDuringChurn).toBeLessThanOrEqual(PARTITIONS * CAP);
      expect(sample(first, 'processor_devices_evicted_total', 'idle')).toBeGreaterThan(CHURNED - PARTITIONS * CAP);

      await produce(topics, burst, 2000);
      mostAfterBurst = await drainSampling(first, churn.length + burst.length);
      expect(mostAfterBurst).toBeLessThanOrEqual(PARTITIONS * CAP);
      expect(sample(first, 'processor_devices_evicted_total', 'cap')).toBeGreaterThan(0);
    } finally {
      await first.stop();
    }
    expect(heldAfterChurn).toBeLessThanOrEqual(PARTITIONS * CAP);

    // Every device got its row: the bound forgets state, not outputs.
    const state = await readFinalState(topics);
    expect(state.devices.size).toBe(CHURNED + BURST);

    // A restart re-reads the per-device topic (23,000 keys) and keeps exactly what the bound keeps.
    const second = testProcessor(topics, options);
    await second.start();
    try {
      const deadline = Date.now() + 60_000;
      while (
        second.assignedPartitions().length < PARTITIONS ||
        !(await second.readiness.check().then(
          () => true,
          () => false,
        ))
      ) {
        if (Date.now() > deadline) throw new Error('the restarted processor did not become ready');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(sample(second, 'processor_state_devices')).toBe(await expectedHeld(topics.perDevice));
      expect(sample(second, 'processor_state_devices')).toBeLessThanOrEqual(PARTITIONS * CAP);
    } finally {
      await second.stop();
    }
  });
});
