/**
 * Scale-out on the real broker: two processors in one consumer group split the partition numbers (partition
 * p of both sources on the same instance), and a third joining later triggers a handover; the final outputs
 * equal those of a single processor over the same input.
 */
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/kafka.js';
import {
  createProcessorTopics,
  PARTITIONS,
  produce,
  readFinalState,
  testProcessor,
  waitForDrain,
  workload,
} from './helpers.js';

describe('processors sharing a consumer group', () => {
  it('split the partitions, hand them over on rebalance and match a single processor', async () => {
    const topics = await createProcessorTopics();
    const reference = await createProcessorTopics();
    const events = workload(30, 30);
    const half = Math.floor(events.length / 2);
    const groupId = uniqueName('shared');
    const a = testProcessor(topics, { groupId, idleWaitMs: 3000 });
    const b = testProcessor(topics, { groupId, idleWaitMs: 3000 });
    await produce(topics, events.slice(0, half));
    await Promise.all([a.start(), b.start()]);
    try {
      // Both own a disjoint, non-empty share of the partition numbers once the rebalance settles (while it
      // runs, the member giving a partition up may still list it for a moment).
      const deadline = Date.now() + 20_000;
      const settled = () => {
        const owned = new Set([...a.assignedPartitions(), ...b.assignedPartitions()]);
        const total = a.assignedPartitions().length + b.assignedPartitions().length;
        return (
          owned.size === PARTITIONS &&
          total === PARTITIONS &&
          a.assignedPartitions().length > 0 &&
          b.assignedPartitions().length > 0
        );
      };
      while (!settled()) {
        if (Date.now() > deadline) throw new Error('partitions were not split between the two processors');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const owned = [...a.assignedPartitions(), ...b.assignedPartitions()].sort();
      expect(owned).toEqual([0, 1, 2]);
      await produce(topics, events.slice(half));
      // One leaves: the other takes over its partitions from the checkpoints.
      await b.stop();
      await waitForDrain([a], 0);
      const until = Date.now() + 20_000;
      while (a.assignedPartitions().length < PARTITIONS) {
        if (Date.now() > until) throw new Error('the remaining processor did not take over');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await waitForDrain([a], 1);
      await new Promise((resolve) => setTimeout(resolve, 3500));
      await waitForDrain([a], 1);
    } finally {
      await a.stop();
      await b.stop().catch(() => undefined);
    }

    const single = testProcessor(
      { ...reference, location: topics.location, status: topics.status },
      { idleWaitMs: 3000 },
    );
    await single.start();
    try {
      await waitForDrain([single], events.length);
    } finally {
      await single.stop();
    }
    const [got, want] = await Promise.all([readFinalState(topics), readFinalState(reference)]);
    expect(want.windows.size).toBeGreaterThan(100);
    expect(got.windows).toEqual(want.windows);
    expect(got.devices).toEqual(want.devices);
  }, 90_000);
});
