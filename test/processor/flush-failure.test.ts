import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { brokers } from '../helpers/kafka.js';
import { createProcessorTopics, produce, readFinalState, testProcessor, waitForDrain } from './helpers.js';

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const isReady = (check: () => Promise<void>) =>
  check().then(
    () => true,
    () => false,
  );

describe('processor flush failures', () => {
  it('reports not ready while the broker refuses its outputs, then recovers without losing them', async () => {
    const topics = await createProcessorTopics();
    const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: brokers() });
    const limitJoinEvents = (operation: 'set' | 'delete') =>
      admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topics.joinEvents,
            configs: [
              operation === 'set'
                ? { name: 'max.message.bytes', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '100' }
                : { name: 'max.message.bytes', configOperation: IncrementalAlterConfigOperationTypes.DELETE },
            ],
          },
        ],
      });
    const location = { id: 'l1', device_id: 'dev-1', latitude: 9.5, longitude: 107.5, event_ts: 1000 };
    const status = { id: 's1', device_id: 'dev-1', sound: 40, temperature: 25, altitude: 1000, event_ts: 1500 };
    const processor = testProcessor(topics, { writeTimeoutMs: 5000 });
    try {
      // No JOIN_EVENTS batch fits in 100 bytes: every flush with a row fails. A transaction marker (about 80
      // bytes) still fits: the broker can abort the refused transactions (below 78 bytes it never could, and the
      // transactional id would stay blocked on the broker).
      await limitJoinEvents('set');
      await produce(topics, [
        { topic: 'location', key: 'dev-1', value: location },
        { topic: 'status', key: 'dev-1', value: status },
      ]);
      await processor.start();
      await until(() => processor.stats().flushFailures >= 2, 'two failed flushes');
      expect(await isReady(() => processor.readiness.check())).toBe(false);

      await limitJoinEvents('delete');
      await until(() => isReady(() => processor.readiness.check()), 'readiness after the broker accepts again');
      await waitForDrain([processor], 2);
      await until(() => processor.stats().pendingOutputs === 0, 'outputs written');
    } finally {
      await processor.stop();
      await admin.close();
    }
    const state = await readFinalState(topics);
    // The rows refused earlier were replayed from the (absent) checkpoint and written once accepted.
    expect(state.joinRows).toBeGreaterThanOrEqual(2);
    expect([...state.windows.values()].map((w) => w.EVENT_COUNT)).toEqual([2]);
    expect(state.devices.get('dev-1')).toMatchObject({ TEMPERATURE: 25, LATITUDE: 9.5 });
  });
});
