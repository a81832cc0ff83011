import { describe, expect, it } from 'vitest';
import { readRecords } from '../helpers/kafka.js';
import { createProcessorTopics, produce, readFinalState, testProcessor, waitForDrain } from './helpers.js';

describe('processor dead letters', () => {
  it('skips malformed records, counts them and writes them to the dead-letter topic with the reason', async () => {
    const topics = await createProcessorTopics();
    const good = { id: 'l1', device_id: 'dev-1', latitude: 9.5, longitude: 107.5, event_ts: 1000 };
    await produce(topics, [
      { topic: 'location', key: 'dev-1', value: 'this is not json' },
      { topic: 'location', key: 'dev-1', value: { id: 'x', device_id: 'dev-1', latitude: 9, longitude: 107 } },
      { topic: 'status', key: 'dev-1', value: { device_id: 'dev-1', temperature: 'hot', event_ts: 1200 } },
      { topic: 'status', key: 'dev-1', value: null },
      { topic: 'location', key: 'dev-1', value: good },
      {
        topic: 'status',
        key: 'dev-1',
        value: { id: 's1', device_id: 'dev-1', sound: 40, temperature: 25, altitude: 1000, event_ts: 1500 },
      },
    ]);
    const processor = testProcessor(topics);
    await processor.start();
    try {
      await waitForDrain([processor], 6);
    } finally {
      await processor.stop();
    }
    expect(processor.stats().deadLetters).toBe(4);
    expect(processor.stats().recordsIn).toBe(2);

    const dead = await readRecords([topics.deadLetters], 4);
    const reasons = dead.map((r) => r.headers.get('reason')).sort();
    expect(reasons).toEqual([
      'empty value',
      'event_ts: expected a non-negative integer (epoch ms)',
      'temperature: expected a number or null',
      'value is not JSON',
    ]);
    const notJson = dead.find((r) => r.headers.get('reason') === 'value is not JSON');
    expect(notJson?.value).toBe('this is not json');
    expect(notJson?.headers.get('source.topic')).toBe(topics.location);

    // The good records still went through: one null-padded row, then the joined one.
    const state = await readFinalState(topics);
    expect(state.joinRows).toBe(2);
    expect(state.devices.get('dev-1')).toMatchObject({ LATITUDE: 9.5, TEMPERATURE: 25 });
    expect([...state.windows.values()]).toEqual([expect.objectContaining({ ID: 'dev-1_0_2000', EVENT_COUNT: 2 })]);
  });
});
