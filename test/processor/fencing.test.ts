/**
 * Exactly-once on the real broker, with two processor processes sharing the partitions:
 * 1. one is paused (SIGSTOP) past its session timeout while it owns partitions and has a transaction open; the
 *    other takes them over and goes on; the paused one is resumed (SIGCONT) and carries on with what it had in
 *    memory — a zombie of an older group generation;
 * 2. later the other is killed (SIGKILL) mid-stream and the first takes everything over.
 *
 * Oracle: one uninterrupted processor over the same input, on its own output topics. What read_committed readers
 * see must equal it: the same JOIN_EVENTS rows (none lost, none repeated), the same final windows and device rows,
 * and no device's per-device record ever moving to an older event (a zombie's stale write would do that).
 */
import { describe, expect, it } from 'vitest';
import { brokers, uniqueName } from '../helpers/kafka.js';
import { type ProcessorChild, startChild, until } from './child.js';
import {
  createProcessorTopics,
  PARTITIONS,
  produce,
  readFinalState,
  readOutputLog,
  regressions,
  runUninterrupted,
  workload,
} from './helpers.js';

const SESSION_TIMEOUT_MS = 6000;
const owns = (p: ProcessorChild) => p.stats()?.partitions.length ?? 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('exactly-once with a paused instance and a killed one', () => {
  it('fences the zombie: read_committed readers see what one uninterrupted processor writes', async () => {
    const topics = await createProcessorTopics();
    const reference = await createProcessorTopics();
    const events = workload(30, 80);
    const chunks = 10;
    const size = Math.ceil(events.length / chunks);
    const chunk = (i: number) => produce(topics, events.slice(i * size, (i + 1) * size));
    const options = {
      brokers: brokers(),
      clientId: 'fencing-test',
      groupId: uniqueName('fencing'),
      topics,
      graceMs: 10_000,
      emitMode: 'coalesce',
      flushIntervalMs: 150,
      idleWaitMs: 3000,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      transactionTimeoutMs: 10_000,
    };
    const a = startChild(options);
    const b = startChild(options);
    try {
      await chunk(0);
      await until(() => owns(a) > 0 && owns(b) > 0 && owns(a) + owns(b) === PARTITIONS, 60_000, 'a split');
      await chunk(1);
      await until(() => (a.stats()?.recordsIn ?? 0) > 0 && (a.stats()?.flushes ?? 0) > 2, 30_000, 'a at work');

      // 1. The zombie: paused while it owns partitions, with input arriving.
      a.child.kill('SIGSTOP');
      await chunk(2);
      await chunk(3);
      await until(() => owns(b) === PARTITIONS, 4 * SESSION_TIMEOUT_MS, 'b taking over');
      await chunk(4);
      await until(() => b.stats()?.lag === 0, 30_000, 'b catching up');
      a.child.kill('SIGCONT');
      await chunk(5);
      await until(() => owns(a) > 0, 40_000, 'a rejoining');
      await chunk(6);
      await sleep(1000);

      // 2. A crash mid-stream.
      b.child.kill('SIGKILL');
      await b.exited;
      await chunk(7);
      await chunk(8);
      await chunk(9);
      await until(() => owns(a) === PARTITIONS && a.stats()?.lag === 0, 60_000, 'a taking everything over');
      // Idle time lets the event-time merge run ahead on whatever side arrived last, as the reference does.
      await sleep(4000);
      await until(() => a.stats()?.lag === 0 && a.stats()?.pendingOutputs === 0, 30_000, 'a drained');
      await sleep(1000);
    } finally {
      a.child.kill('SIGCONT');
      a.child.kill('SIGTERM');
      b.child.kill('SIGKILL');
      await Promise.all([a.exited, b.exited]);
    }

    await runUninterrupted(topics, reference, events.length);

    const [got, want] = await Promise.all([readFinalState(topics), readFinalState(reference)]);
    const [gotLog, wantLog] = await Promise.all([readOutputLog(topics), readOutputLog(reference)]);
    expect(want.windows.size).toBeGreaterThan(500);
    expect(regressions(wantLog.deviceHistory)).toEqual([]);
    // No device's latest state ever went back to an older event.
    expect(regressions(gotLog.deviceHistory)).toEqual([]);
    // Every JOIN_EVENTS row exactly once.
    expect(gotLog.joinRows.length).toBe(wantLog.joinRows.length);
    expect(gotLog.joinRows).toEqual(wantLog.joinRows);
    expect(got.windows).toEqual(want.windows);
    expect(got.devices).toEqual(want.devices);
  }, 240_000);
});
