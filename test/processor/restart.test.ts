/**
 * Restart safety on the real broker: a processor process is killed with SIGKILL in the middle of its input and
 * restarted with the same group; its final per-window and per-device outputs must equal those of an
 * uninterrupted processor over the same input — no window lost, none counted twice.
 */
import { describe, expect, it } from 'vitest';
import { brokers, uniqueName } from '../helpers/kafka.js';
import { startChild, until } from './child.js';
import { createProcessorTopics, produce, readFinalState, runUninterrupted, workload } from './helpers.js';

describe('processor restart after SIGKILL', () => {
  it('ends with the same windows and device rows as an uninterrupted run', async () => {
    const topics = await createProcessorTopics();
    const reference = await createProcessorTopics();
    const events = workload(40, 40);
    const chunks = 8;
    const size = Math.ceil(events.length / chunks);
    const options = {
      brokers: brokers(),
      clientId: 'restart-test',
      groupId: uniqueName('restart'),
      topics,
      graceMs: 10_000,
      emitMode: 'coalesce',
      flushIntervalMs: 150,
      idleWaitMs: 3000,
      sessionTimeoutMs: 6000,
    };

    const first = startChild(options);
    // Produce while it runs, and kill it once it has processed part of the input.
    for (let i = 0; i < chunks / 2; i++) {
      await produce(topics, events.slice(i * size, (i + 1) * size));
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await until(() => (first.stats()?.recordsIn ?? 0) > size && (first.stats()?.flushes ?? 0) > 2, 30_000, 'progress');
    first.child.kill('SIGKILL');
    await first.exited;
    await produce(topics, events.slice((chunks / 2) * size));

    const second = startChild(options);
    try {
      await until(
        () => (second.stats()?.lag ?? 1) === 0 && (second.stats()?.flushes ?? 0) > 3,
        45_000,
        'restart drain',
      );
      // It resumed from a checkpoint: what it processed anew is less than the whole input.
      expect(second.stats()?.recordsIn).toBeLessThan(events.length);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }

    await runUninterrupted(topics, reference, events.length);

    const [got, want] = await Promise.all([readFinalState(topics), readFinalState(reference)]);
    expect(want.windows.size).toBeGreaterThan(100);
    expect(got.windows).toEqual(want.windows);
    expect(got.devices).toEqual(want.devices);
    // Exactly once: the rows the killed run wrote after its last commit were aborted, and replayed once.
    expect(got.joinRows).toBe(want.joinRows);
  }, 120_000);
});
