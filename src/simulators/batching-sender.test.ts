import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { createBatchingSender, type OutgoingRecord } from './batching-sender.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const record = (i: number, topic = 't'): OutgoingRecord => ({ topic, key: `k${i}`, value: `v${i}`, timestamp: i });

function fakeBroker() {
  const batches: OutgoingRecord[][] = [];
  let down = false;
  return {
    batches,
    setDown: (value: boolean) => {
      down = value;
    },
    send: async (records: OutgoingRecord[]) => {
      if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      batches.push(records);
    },
  };
}

describe('batching sender', () => {
  it('sends a full batch at once and a partial batch after the linger', async () => {
    const clock = createManualClock();
    const broker = fakeBroker();
    const sender = createBatchingSender({ send: broker.send, clock, batchSize: 3, lingerMs: 5 });
    for (let i = 0; i < 4; i++) sender.offer(record(i));
    await settle();
    expect(broker.batches.map((b) => b.length)).toEqual([3]);
    clock.advance(4);
    await settle();
    expect(broker.batches.length).toBe(1);
    clock.advance(1);
    await settle();
    expect(broker.batches.map((b) => b.length)).toEqual([3, 1]);
    expect(sender.stats().topics['t']).toEqual({ sent: 4, failed: 0, abandoned: 0 });
  });

  it('refuses records beyond its capacity instead of growing', async () => {
    const clock = createManualClock();
    const broker = fakeBroker();
    broker.setDown(true);
    const sender = createBatchingSender({ send: broker.send, clock, batchSize: 2, capacity: 5 });
    const accepted = Array.from({ length: 8 }, (_, i) => sender.offer(record(i)));
    expect(accepted).toEqual([true, true, true, true, true, false, false, false]);
    expect(sender.stats().buffered).toBe(5);
  });

  it('counts failed sends, keeps the error, retries the same batch with backoff and resumes', async () => {
    const clock = createManualClock();
    const broker = fakeBroker();
    broker.setDown(true);
    const sender = createBatchingSender({ send: broker.send, clock, batchSize: 2, retryInitialMs: 100 });
    for (let i = 0; i < 3; i++) sender.offer(record(i));
    await settle();
    clock.advance(100);
    await settle();
    clock.advance(200);
    await settle();
    const stats = sender.stats();
    expect(stats.failedSends).toBe(3);
    expect(stats.topics['t']?.failed).toBe(6);
    expect(stats.lastError?.message).toContain('ECONNREFUSED');
    expect(stats.buffered).toBe(3);

    broker.setDown(false);
    clock.advance(400);
    await settle();
    clock.advance(5);
    await settle();
    // Nothing lost, order kept.
    expect(broker.batches.flat().map((r) => r.key)).toEqual(['k0', 'k1', 'k2']);
    expect(sender.stats().topics['t']?.sent).toBe(3);
    expect(sender.stats().buffered).toBe(0);
  });

  it('retries exactly the batch that failed, however many records arrived meanwhile', async () => {
    // The idempotent producer recognises a batch the broker already wrote only when the retry is the same batch.
    const clock = createManualClock();
    const attempts: string[][] = [];
    let down = true;
    const send = async (records: OutgoingRecord[]) => {
      attempts.push(records.map((r) => r.key));
      if (down) throw new Error('the answer was lost');
    };
    const sender = createBatchingSender({ send, clock, batchSize: 100, lingerMs: 5, retryInitialMs: 100 });
    sender.offer(record(0));
    clock.advance(5);
    await settle();
    for (let i = 1; i < 4; i++) sender.offer(record(i));
    clock.advance(100);
    await settle();
    down = false;
    clock.advance(200);
    await settle();
    clock.advance(5);
    await settle();
    expect(attempts).toEqual([['k0'], ['k0'], ['k0'], ['k1', 'k2', 'k3']]);
    expect(sender.stats().topics['t']?.sent).toBe(4);
  });

  it('flushes without waiting out the linger, and counts what close abandons', async () => {
    const clock = createManualClock();
    const broker = fakeBroker();
    const sender = createBatchingSender({ send: broker.send, clock, batchSize: 10, lingerMs: 1000 });
    sender.offer(record(1));
    expect(await sender.flush(50)).toBe(true);
    expect(broker.batches.length).toBe(1);

    broker.setDown(true);
    sender.offer(record(2, 'u'));
    const flushed = sender.flush(50);
    await settle();
    clock.advance(50);
    expect(await flushed).toBe(false);
    sender.close();
    expect(sender.stats().topics['u']).toEqual({ sent: 0, failed: 1, abandoned: 1 });
    expect(sender.offer(record(3))).toBe(false);
  });
});
