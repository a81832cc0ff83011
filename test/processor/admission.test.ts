/**
 * The processor's input rules on the real broker (docs/processor.md, "Input rules"): records that would stall,
 * split or corrupt a partition's state are dead-lettered one by one with the reason, and everything else
 * goes through. Each case here was a way one record could silently damage the pipeline (issue 13).
 */
import { describe, expect, it } from 'vitest';
import { readRecords, uniqueName } from '../helpers/kafka.js';
import { createProcessorTopics, type Event, produce, readFinalState, testProcessor, waitForDrain } from './helpers.js';

const location = (id: string, eventTs: number, extra: Record<string, unknown> = {}): Event => ({
  topic: 'location',
  key: 'dev-1',
  value: { id, device_id: 'dev-1', latitude: 9.5, longitude: 107.5, event_ts: eventTs, ...extra },
});
const status = (id: string, eventTs: number, extra: Record<string, unknown> = {}): Event => ({
  topic: 'status',
  key: 'dev-1',
  value: { id, device_id: 'dev-1', sound: 40, temperature: 25, altitude: 1500, event_ts: eventTs, ...extra },
});

describe('processor input rules', () => {
  it('dead-letters a record stamped far ahead instead of letting it close the windows of its partition', async () => {
    const topics = await createProcessorTopics();
    // Whole seconds well inside the grace, so that every on-time row has an open window.
    const now = Math.floor(Date.now() / 10_000) * 10_000 - 20_000;
    const events: Event[] = [];
    for (let t = 0; t < 10_000; t += 2000) events.push(location(`l${t}`, now + t), status(`s${t}`, now + t + 100));
    // 50 minutes ahead: the old rule (55 minutes) accepted it, and every later window of the partition was late.
    events.push(location('future', Date.now() + 50 * 60_000));
    for (let t = 10_000; t < 20_000; t += 2000) events.push(location(`l${t}`, now + t), status(`s${t}`, now + t + 100));
    await produce(topics, events);
    const processor = testProcessor(topics, { graceMs: 120_000, maxFutureMs: 30_000 });
    await processor.start();
    try {
      await waitForDrain([processor], events.length);
    } finally {
      await processor.stop();
    }
    expect(processor.stats().lateRowsDropped).toBe(0);
    expect(processor.stats().deadLetters).toBe(1);
    const [dead] = await readRecords([topics.deadLetters], 1);
    expect(dead?.headers.get('reason')).toMatch(/^event_ts: \d+ ms ahead of the processor's clock \(at most 30000 ms/);
    const state = await readFinalState(topics);
    // Every location of the 20 seconds has its window: 10 windows of 2 s, each with a location and its status.
    expect(state.windows.size).toBe(10);
    for (const w of state.windows.values()) expect(w.EVENT_COUNT).toBe(2);
  });

  it('dead-letters wrong keys, bad device ids, impossible values and fixes from 1970; takes a location without id', async () => {
    const topics = await createProcessorTopics();
    const base = Math.floor(Date.now() / 10_000) * 10_000 - 60_000;
    const longId = 'd'.repeat(400_000);
    const events: Event[] = [
      location('l1', base),
      { ...location('wrong-key', base + 100), key: 'dev-2' },
      {
        topic: 'location',
        key: longId,
        value: { id: 'long', device_id: longId, latitude: 9, longitude: 107, event_ts: base + 200 },
      },
      location('north-pole+', base + 300, { latitude: 91 }),
      status('overflow-1', base + 400, { sound: 1e308 }),
      status('overflow-2', base + 500, { sound: 1e308 }),
      location('1970', 5000),
      status('s1', base + 600),
      {
        topic: 'location',
        key: 'dev-1',
        value: { device_id: 'dev-1', latitude: 9.6, longitude: 107.6, event_ts: base + 700 },
      },
    ];
    await produce(topics, events);
    const processor = testProcessor(topics);
    await processor.start();
    try {
      await waitForDrain([processor], events.length);
    } finally {
      await processor.stop();
    }
    const dead = await readRecords([topics.deadLetters], 6);
    const reasons = dead.map((r) => r.headers.get('reason')?.replace(/ \(.*$/, '')).sort();
    expect(reasons).toEqual([
      'device_id: expected a letter or digit, then letters, digits, _ . : -',
      `event_ts: ${base - 5000} ms older than the newest event of its partition`,
      'key: expected the record key to equal device_id "dev-1", got key "dev-2"',
      'latitude: expected decimal degrees within ±90',
      'sound: beyond ±1000000000, not a reading',
      'sound: beyond ±1000000000, not a reading',
    ]);
    expect(processor.stats().deadLetters).toBe(6);
    const state = await readFinalState(topics);
    // l1 (null-padded), l1 + s1, and the id-less location + s1: ksqlDB carries a missing ID as null.
    expect(state.joinRows).toBe(3);
    expect(state.devices.get('dev-1')).toMatchObject({ LATITUDE: 9.6, SOUND: 40, EVENT_TS: base + 700 });
    expect([...state.devices.keys()]).toEqual(['dev-1']);
    for (const w of state.windows.values()) expect(Number.isFinite(w.AVG_SOUND)).toBe(true);
  });
});

describe('a restart judges every replayed record as the first run did', () => {
  it('refuses a record that was too far ahead again, though the clock has since caught up with it', async () => {
    const topics = await createProcessorTopics();
    const now = Math.floor(Date.now() / 10_000) * 10_000;
    const ahead = now + 40_000;
    const first: Event[] = [location('l0', now - 4000), status('s0', now - 3900), location('ahead', ahead)];
    await produce(topics, first);
    const groupId = uniqueName('processor');
    const before = testProcessor(topics, { maxFutureMs: 30_000, groupId });
    await before.start();
    try {
      await waitForDrain([before], first.length);
    } finally {
      await before.stop();
    }
    expect(before.stats().deadLetters).toBe(1);

    // A minute later the record is no longer ahead: judged by the clock it would now be taken, in the replay too.
    const later = { now: () => Date.now() + 60_000 };
    const second: Event[] = [location('l1', ahead + 100), status('s1', ahead + 200)];
    await produce(topics, second);
    const after = testProcessor(topics, { maxFutureMs: 30_000, groupId, clock: later });
    await after.start();
    try {
      await waitForDrain([after], second.length);
    } finally {
      await after.stop();
    }
    const state = await readFinalState(topics);
    const window = state.windows.get(`dev-1_${ahead - (ahead % 2000)}_${ahead - (ahead % 2000) + 2000}`);
    // l1 null-padded, then l1 + s1; the refused record is in neither the replayed window nor a row.
    expect(window).toMatchObject({ EVENT_COUNT: 2 });
    expect(after.stats().deadLetters).toBe(0);
  });
});
