import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { isAppError } from '../errors.js';
import type { OutgoingRecord } from './batching-sender.js';
import { createSimulatorController } from './simulator-controller.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(limits = { maxDevices: 10, maxEventsPerSecond: 100 }) {
  const clock = createManualClock(1_764_000_000_000);
  const delivered: OutgoingRecord[] = [];
  let down = false;
  let closed = 0;
  const controller = createSimulatorController({
    kafka: { brokers: ['127.0.0.1:1'], clientId: 'test' },
    topics: { location: 'loc', status: 'st' },
    limits,
    clock,
    stopTimeoutMs: 1000,
    producer: { lingerMs: 5 },
    createSender: () => ({
      send: async (records) => {
        if (down) throw new Error('Connection to 127.0.0.1:9092 failed');
        delivered.push(...records);
      },
      close: async () => {
        closed++;
      },
    }),
  });
  const step = async (ms: number, by = 5) => {
    for (let t = 0; t < ms; t += by) {
      clock.advance(by);
      await settle();
    }
  };
  return { clock, controller, delivered, step, setDown: (v: boolean) => (down = v), closed: () => closed };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isAppError(err) ? err.code : 'not an AppError';
  }
  return undefined;
}

describe('simulator controller', () => {
  it('reports idle before any run', () => {
    expect(setup().controller.status()).toMatchObject({ state: 'idle', run_id: null, topics: null });
  });

  it('starts the specification defaults from {}, counts what was sent, and stops after flushing', async () => {
    const { controller, delivered, step, closed } = setup();
    const started = controller.startRun({});
    expect(started.state).toBe('running');
    expect(started.config?.devices).toEqual(['dev-1', 'dev-2', 'dev-3']);
    expect(started.config?.location_interval_ms).toBe(2000);
    expect(started.config?.status_interval_ms).toBe(500);
    expect(typeof started.config?.seed).toBe('number');
    await step(10_000);
    const running = controller.status();
    expect(running.topics?.location.sent).toBe(15);
    expect(running.topics?.status.sent).toBe(60);
    expect(running.topics?.status.events_per_second_per_device).toBeCloseTo(2, 1);
    const stopped = await controller.stopRun();
    expect(stopped.state).toBe('stopped');
    expect(stopped.topics!.location.sent + stopped.topics!.status.sent).toBe(delivered.length);
    expect(stopped.buffered).toBe(0);
    expect(closed()).toBe(1);
    await step(5000);
    expect(controller.status().topics!.status.sent).toBe(stopped.topics!.status.sent);
  });

  it('exposes sent counters that keep growing across runs, and the running state', async () => {
    const { controller, step } = setup();
    const sample = (name: string, topic?: string) =>
      controller.metrics().find((m) => m.name === name && (topic === undefined || m.labels?.['topic'] === topic))
        ?.value;
    expect(sample('simulator_running')).toBe(0);
    controller.startRun({ seed: 1 });
    await step(10_000);
    expect(sample('simulator_running')).toBe(1);
    expect(sample('simulator_events_sent_total', 'st')).toBe(60);
    await controller.stopRun();
    const afterFirst = sample('simulator_events_sent_total', 'st')!;
    controller.startRun({ seed: 2 });
    await step(10_000);
    await controller.stopRun();
    expect(sample('simulator_events_sent_total', 'st')).toBeGreaterThan(afterFirst);
    expect(sample('simulator_events_sent_total', 'loc')).toBeGreaterThanOrEqual(30);
    expect(sample('simulator_running')).toBe(0);
  });

  it('refuses a second run with a conflict while one is active, and allows one after stopping', async () => {
    const { controller } = setup();
    controller.startRun({ seed: 1 });
    expect(codeOf(() => controller.startRun({ seed: 2 }))).toBe('CONFLICT');
    await controller.stopRun();
    expect(controller.startRun({ seed: 3 }).config?.seed).toBe(3);
    await controller.close();
  });

  it('refuses runs over the device or event-rate limit', () => {
    const { controller } = setup({ maxDevices: 5, maxEventsPerSecond: 100 });
    expect(codeOf(() => controller.startRun({ device_count: 6 }))).toBe('UNPROCESSABLE');
    // 3 devices × (1/2 s + 1/0.01 s) = 301.5 events/s > 100
    expect(codeOf(() => controller.startRun({ status_interval_ms: 10 }))).toBe('UNPROCESSABLE');
    expect(controller.status().state).toBe('idle');
  });

  it('completes on its own when the duration is used up', async () => {
    const { controller, step } = setup();
    controller.startRun({ duration_ms: 3000 });
    await step(4000);
    const status = controller.status();
    expect(status.state).toBe('completed');
    expect(status.topics!.status.sent).toBe(18);
    expect(status.stopped_at).not.toBeNull();
  });

  it('keeps running while the broker is down, reports the error, and resumes without losing events', async () => {
    const { controller, step, setDown, delivered } = setup();
    controller.startRun({ seed: 5 });
    await step(2000);
    const before = delivered.length;
    setDown(true);
    await step(3000);
    const during = controller.status();
    expect(during.state).toBe('running');
    expect(during.errors.failed_sends).toBeGreaterThan(0);
    expect(during.errors.last_error).toContain('9092');
    expect(during.topics!.status.failed).toBeGreaterThan(0);
    expect(during.buffered).toBeGreaterThan(0);
    expect(delivered.length).toBe(before);

    setDown(false);
    await step(6000);
    const after = controller.status();
    expect(after.buffered).toBeLessThan(5);
    const stopped = await controller.stopRun();
    const generated = stopped.topics!.location.generated + stopped.topics!.status.generated;
    expect(stopped.topics!.location.sent + stopped.topics!.status.sent).toBe(generated);
    expect(delivered.length).toBe(generated);
    expect(new Set(delivered.map((r) => JSON.parse(r.value).id)).size).toBe(generated);
  });

  it('reports events the broker never took as abandoned when stopped during an outage', async () => {
    const { controller, step, setDown } = setup();
    controller.startRun({ seed: 5 });
    await step(1000);
    setDown(true);
    await step(1000);
    const stopping = controller.stopRun();
    await step(1500);
    const stopped = await stopping;
    expect(stopped.state).toBe('stopped');
    const abandoned = stopped.topics!.location.abandoned + stopped.topics!.status.abandoned;
    const sent = stopped.topics!.location.sent + stopped.topics!.status.sent;
    const generated = stopped.topics!.location.generated + stopped.topics!.status.generated;
    expect(abandoned).toBeGreaterThan(0);
    expect(sent + abandoned).toBe(generated);
  });
});
