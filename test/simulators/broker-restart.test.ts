/**
 * A run survives its broker going away and coming back. The shared broker is never touched: this file starts
 * a private single-node Kafka on free loopback ports (the same jars and scripts as `npm run infra:up`), stops
 * it in the middle of a run, and starts it again.
 */
import { Admin, Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { pingKafka } from '../../src/bus/kafka-admin.js';
import { createSimulatorController } from '../../src/simulators/simulator-controller.js';
import { startPrivateKafka } from '../helpers/private-kafka.js';

async function waitFor(what: string, timeoutMs: number, check: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function countIds(brokers: string[], topics: string[], expected: number): Promise<Set<string>> {
  const consumer = new Consumer({
    clientId: 'restart-reader',
    groupId: `restart-reader-${Date.now()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  const ids = new Set<string>();
  const stream = await consumer.consume({ topics, mode: MessagesStreamModes.EARLIEST, autocommit: false });
  const timer = setTimeout(() => void stream.close(), 15_000);
  let records = 0;
  try {
    for await (const m of stream) {
      records++;
      ids.add(JSON.parse(m.value).id);
      if (ids.size >= expected) break;
    }
  } finally {
    clearTimeout(timer);
    await stream.close().catch(() => undefined);
    await consumer.close(true);
  }
  expect(records).toBeGreaterThanOrEqual(ids.size);
  return ids;
}

describe('a simulation run when its broker restarts', () => {
  it('keeps its state while the broker is down, counts failed sends, and resumes without losing events', async () => {
    const kafka = await startPrivateKafka('sim-private-kafka-');
    const brokers = kafka.brokers;
    const topics = { location: 'restart_location', status: 'restart_status' };
    const admin = new Admin({ clientId: 'restart-admin', bootstrapBrokers: brokers });
    await admin.createTopics({ topics: Object.values(topics), partitions: 2, replicas: 1 });
    await admin.close();

    const pinger = new Admin({ clientId: 'restart-pinger', bootstrapBrokers: brokers });
    const controller = createSimulatorController({
      kafka: { brokers, clientId: 'restart-test' },
      topics,
      limits: { maxDevices: 10, maxEventsPerSecond: 1000 },
      stopTimeoutMs: 20_000,
    });
    try {
      controller.startRun({ seed: 11, location_interval_ms: 200, status_interval_ms: 100 });
      const sent = () => {
        const t = controller.status().topics!;
        return t.location.sent + t.status.sent;
      };
      await waitFor('first acknowledgements', 15_000, () => sent() > 20);

      // The readiness ping sees the outage too (it must not answer from the client's cached metadata).
      await pingKafka(pinger);
      await kafka.stop();
      await expect(pingKafka(pinger)).rejects.toThrow('Kafka is unreachable');
      await waitFor('failed sends', 30_000, () => controller.status().errors.failed_sends > 0);
      const during = controller.status();
      expect(during.state).toBe('running');
      expect(during.errors.last_error).not.toBeNull();
      const sentWhileDown = sent();

      await kafka.start();
      const progress = setInterval(() => {
        const st = controller.status();
        console.log(`[broker-restart] sent ${sent()} failed ${st.errors.failed_sends} last ${st.errors.last_error}`);
      }, 5000);
      try {
        await waitFor('production to resume', 60_000, () => sent() > sentWhileDown + 30);
      } finally {
        clearInterval(progress);
      }
      await pingKafka(pinger);
      const final = await controller.stopRun();
      const t = final.topics!;
      const generated = t.location.generated + t.status.generated;
      expect(final.errors.failed_sends).toBeGreaterThan(0);
      expect(t.location.abandoned + t.status.abandoned).toBe(0);
      expect(t.location.sent + t.status.sent).toBe(generated);

      // Every generated event reached the restarted broker (ids are unique per event).
      const ids = await countIds(brokers, Object.values(topics), generated);
      expect(ids.size).toBe(generated);
    } finally {
      await controller.close();
      await pinger.close();
    }
  }, 240_000);
});
