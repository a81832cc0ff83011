/**
 * Interleaving independence on the real broker: the same events, delivered with different interleavings of
 * the two topics (each topic in its own order, chunked and delayed at random while the processor runs), end in
 * the same window and device state — the state the topology gives for the canonical event-time merge.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLocation, decodeStatus } from '../../src/core/decode.js';
import type { DeviceLatestRecord, WindowAggregateRecord } from '../../src/core/results.js';
import { PartitionTopology } from '../../src/core/topology.js';
import { createProcessorTopics, type Event, produce, readFinalState, testProcessor, waitForDrain } from './helpers.js';

const GRACE_MS = 60_000;

/** Four devices, 16 s: locations every 2 s and statuses every 0.5 s with per-device offsets; some sensors null. */
function events(): { location: Event[]; status: Event[] } {
  const location: Event[] = [];
  const status: Event[] = [];
  for (let t = 0; t < 16_000; t += 500) {
    for (let d = 0; d < 4; d++) {
      const device = `dev-${d}`;
      const ts = 1_000_000 + t + d * 113;
      status.push({
        topic: 'status',
        key: device,
        value: {
          id: `s${d}-${t}`,
          device_id: device,
          sound: 30 + d,
          temperature: t % 1500 === 0 ? null : 20 + (t % 9),
          altitude: 1000 + t / 100,
          event_ts: ts,
        },
      });
      if (t % 2000 === d * 500) {
        location.push({
          topic: 'location',
          key: device,
          value: {
            id: `l${d}-${t}`,
            device_id: device,
            latitude: 9 + d / 10,
            longitude: 107 + t / 1e5,
            event_ts: ts + 250,
          },
        });
      }
    }
  }
  const byTs = (a: Event, b: Event) => tsOf(a) - tsOf(b);
  return { location: location.sort(byTs), status: status.sort(byTs) };
}

const tsOf = (e: Event) => (e.value as { event_ts: number }).event_ts;

/** The topology over the canonical merge: event time, a status before a location on a tie. */
function expected(all: { location: Event[]; status: Event[] }) {
  const windows = new Map<string, WindowAggregateRecord>();
  const devices = new Map<string, DeviceLatestRecord>();
  const topology = new PartitionTopology(
    { windowGraceMs: GRACE_MS, joinRetentionMs: GRACE_MS + 2000 },
    {
      joinRow: () => undefined,
      windowUpdate: (_k, _w, _ts, snapshot) => {
        const r = snapshot();
        windows.set(r.ID, r);
      },
      deviceUpdate: (k, _ts, snapshot) => devices.set(k, snapshot()),
    },
  );
  const merged = [...all.status, ...all.location].sort((a, b) => tsOf(a) - tsOf(b) || (a.topic === 'status' ? -1 : 1));
  for (const e of merged) {
    const raw = JSON.stringify(e.value);
    if (e.topic === 'location') {
      const d = decodeLocation(raw);
      if (d.ok) topology.processLocation(d.event);
    } else {
      const d = decodeStatus(raw);
      if (d.ok) topology.processStatus(d.event);
    }
  }
  return { windows, devices };
}

describe('interleaving of the two source topics', () => {
  const all = events();
  const want = expected(all);

  it('does not change the final window and device state', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), {
          minLength: all.location.length + all.status.length,
          maxLength: all.location.length + all.status.length,
        }),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 40, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 40, maxLength: 40 }),
        async (picks, chunkSizes, delays) => {
          // Interleave the two topics as the picks say, keeping each topic's own order.
          const schedule: Event[] = [];
          let l = 0;
          let s = 0;
          for (const pickLocation of picks) {
            if ((pickLocation && l < all.location.length) || s >= all.status.length)
              schedule.push(all.location[l++] as Event);
            else schedule.push(all.status[s++] as Event);
          }
          const topics = await createProcessorTopics();
          const processor = testProcessor(topics, { graceMs: GRACE_MS, idleWaitMs: 2000, flushIntervalMs: 100 });
          await processor.start();
          try {
            let i = 0;
            for (let c = 0; i < schedule.length; c++) {
              const size = chunkSizes[c % chunkSizes.length] as number;
              await produce(topics, schedule.slice(i, i + size));
              i += size;
              await new Promise((resolve) => setTimeout(resolve, delays[c % delays.length]));
            }
            await waitForDrain([processor], schedule.length);
          } finally {
            await processor.stop();
          }
          const got = await readFinalState(topics);
          expect(got.windows).toEqual(want.windows);
          expect(got.devices).toEqual(want.devices);
        },
      ),
      { numRuns: 3 },
    );
  }, 120_000);
});
