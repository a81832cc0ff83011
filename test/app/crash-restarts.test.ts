/**
 * Three crashes in a row during a simulation (issue 13, finding 1): the app's process group is SIGKILLed and
 * started again, three times. Each time readiness must come back, and once it says ready the warehouse must
 * catch up with the stream layer within seconds; in the end both layers hold the same windows and latest state.
 * Before the fix, the sink's consumer group stayed in a rebalance with nothing assigned after the first crash:
 * nothing reached the warehouse for minutes while /ready said "sink ok" and the lag metric read 0.
 *
 * The app runs against a private broker and its own database, so it can use the real topic and group names.
 */
import { describe, expect, it } from 'vitest';
import { json, metric, sleep, waitFor, waitReady } from '../helpers/app-http.js';
import { type AppProcess, startApp } from '../helpers/app-process.js';
import { createTestDatabaseUrl } from '../helpers/db.js';
import { startPrivateKafka } from '../helpers/private-kafka.js';

interface Latest {
  device_id: string;
  event_ts: number | null;
}
interface Window {
  id: string;
  event_count: number;
}

describe('the app after three crashes in a row', () => {
  it('comes back ready each time, and the warehouse then catches up with the stream layer within seconds', async () => {
    const kafka = await startPrivateKafka('crash-kafka-');
    const env = {
      KAFKA_BROKERS: kafka.brokers.join(','),
      DATABASE_URL: await createTestDatabaseUrl(),
      SIMULATOR_AUTOSTART: 'true',
      LOG_LEVEL: 'info',
    };
    let app: AppProcess | undefined;
    const figures: { readyMs: number; catchUpMs: number }[] = [];
    try {
      for (let round = 0; round <= 3; round++) {
        if (app) await app.crash();
        const startedAt = Date.now();
        app = startApp(env);
        const port = await app.listening;
        await waitReady(port);
        const readyMs = Date.now() - startedAt;
        // What the stream layer shows now, the warehouse must show too, within seconds of readiness.
        const seen = await waitFor('stream-layer state', 10_000, async () => {
          const rows = await json<Latest[]>(port, '/stream/latest');
          return rows.length === 3 && rows.every((r) => r.event_ts !== null) ? rows : undefined;
        });
        await waitFor('the warehouse to catch up', 10_000, async () => {
          const stored = new Map(
            (await json<Latest[]>(port, '/stream/postgresql/latest')).map((r) => [r.device_id, r]),
          );
          return seen.every((r) => (stored.get(r.device_id)?.event_ts ?? 0) >= (r.event_ts ?? 0)) ? true : undefined;
        });
        figures.push({ readyMs, catchUpMs: Date.now() - startedAt - readyMs });
        // The lag is the group's, read from the broker: caught up, it is a handful of records, never a backlog.
        await sleep(5500);
        expect(await metric(port, 'sink_consumer_lag')).toBeLessThan(50);
        expect(await metric(port, 'processor_group_lag_records')).toBeLessThan(50);
        await sleep(2000); // a little more to lose at the next crash
      }
      const port = await (app as AppProcess).listening;
      await fetch(`http://127.0.0.1:${port}/simulate`, { method: 'DELETE' });
      // Once the simulation is stopped and flushed, both layers hold exactly the same state.
      await waitFor('equal latest state', 20_000, async () => {
        const stream = await json<Latest[]>(port, '/stream/latest');
        const stored = await json<Latest[]>(port, '/stream/postgresql/latest');
        return JSON.stringify(stream) === JSON.stringify(stored) ? true : undefined;
      });
      for (const device of ['dev-1', 'dev-2', 'dev-3']) {
        const q = `device_id=${device}&limit=1000`;
        const fromStream = await json<Window[]>(port, `/stream/raw?${q}`);
        const stored = await json<Window[]>(port, `/stream/postgresql/raw?${q}`);
        expect(fromStream.length).toBeGreaterThan(10);
        expect(stored).toEqual(fromStream);
      }
      console.log(`[crash-restarts] restart → ready, ready → warehouse caught up: ${JSON.stringify(figures)}`);
    } finally {
      await app?.crash();
    }
  }, 300_000);
});
