/**
 * Alerts from the simulators, on the app as a user runs it (a real process, a private broker, its own database):
 * `POST /simulate {}` for 60 s with a SIGKILL and restart in the middle, then every device stopped, brought back
 * and stopped again. Checked against the source topics' records, recomputed by an independent model
 * (`test/alerts/reference-model.ts`):
 * - the fraction of anomalous readings per metric the detector counted lies within the binomial 99.9 % interval
 *   of the simulators' configured rates (sound 25 %, temperature 15 %, altitude 10 %);
 * - the warehouse's `device_alerts` is exactly the episodes the records imply (what an uninterrupted run gives),
 *   and in the topic no change of an alert differs from another copy of it, none is missing, none re-opens;
 * - a device stopped while nothing else sends gets its `inactive` alert (seen on `GET /alerts/active`) within
 *   ALERT_INACTIVE_AFTER_MS + 2 s of wall-clock time after its last fix, and the alert clears when it returns.
 */
import { Admin, Consumer } from '@platformatic/kafka';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { describePartitions } from '../../src/bus/kafka-admin.js';
import { readWholePartition } from '../../src/processor/fetcher.js';
import { DEFAULT_FETCH_LIMITS } from '../../src/processor/processor-options.js';
import {
  type ExpectedAlert,
  expectedAlerts,
  type Fix,
  type Reading,
  SPECIFIED_RULES,
} from '../alerts/reference-model.js';
import { json, metric, sleep, waitFor, waitReady } from '../helpers/app-http.js';
import { type AppProcess, startApp } from '../helpers/app-process.js';
import { createTestDatabaseUrl } from '../helpers/db.js';
import { startPrivateKafka } from '../helpers/private-kafka.js';

const DEVICES = ['dev-1', 'dev-2', 'dev-3'];
const RATES = { sound: 0.25, temperature: 0.15, altitude: 0.1 } as const;
/** Two-sided 99.9 % quantile of the normal distribution. */
const Z_999 = 3.2905;

interface TopicRecord {
  partition: number;
  offset: number;
  timestamp: number;
  value: Record<string, unknown>;
}

async function readTopic(brokers: string[], topic: string): Promise<TopicRecord[]> {
  const admin = new Admin({ clientId: 'alerts-run-admin', bootstrapBrokers: brokers });
  const consumer = new Consumer({
    clientId: 'alerts-run-reader',
    groupId: 'alerts-run-reader',
    bootstrapBrokers: brokers,
  });
  try {
    const partitions = (await describePartitions(admin, [topic])).get(topic) ?? 0;
    const out: TopicRecord[] = [];
    for (let partition = 0; partition < partitions; partition++) {
      for (const r of await readWholePartition(consumer, topic, partition, DEFAULT_FETCH_LIMITS)) {
        if (!r.value) continue;
        out.push({ partition, offset: r.offset, timestamp: r.timestamp, value: JSON.parse(r.value.toString('utf8')) });
      }
    }
    return out;
  } finally {
    await Promise.all([admin.close(), consumer.close()]);
  }
}

const MODEL_FIELDS = [
  'alert_id',
  'device_id',
  'type',
  'metric',
  'status',
  'severity',
  'opened_at',
  'cleared_at',
  'updated_at',
  'readings',
  'worst_value',
  'revision',
] as const;

/** bigint columns come back from postgres.js as strings. */
const BIGINTS = new Set(['opened_at', 'cleared_at', 'updated_at', 'readings', 'revision']);
const pick = (row: Record<string, unknown>): ExpectedAlert =>
  Object.fromEntries(
    MODEL_FIELDS.map((f) => [f, BIGINTS.has(f) && row[f] !== null ? Number(row[f]) : row[f]]),
  ) as unknown as ExpectedAlert;

describe('alerts from a simulation with a crash in the middle', () => {
  it('counts anomalies at the configured rates, stores exactly the episodes the records imply, and notices silence in time', async () => {
    const kafka = await startPrivateKafka('alerts-kafka-');
    const databaseUrl = await createTestDatabaseUrl();
    const env = { KAFKA_BROKERS: kafka.brokers.join(','), DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' };
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
    let app: AppProcess | undefined;
    const start = async () => {
      app = startApp(env);
      const port = await app.listening;
      await waitReady(port);
      return port;
    };
    const simulate = (port: number, method: 'POST' | 'DELETE') =>
      json(port, '/simulate', {
        method,
        headers: { 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
    const inactiveNow = async (status: 'active' | 'cleared', after: number) =>
      (
        await sql<{ device_id: string }[]>`select device_id from device_alerts
          where type = 'inactive' and status = ${status} and opened_at > ${after}`
      ).map((r) => r.device_id);
    try {
      let port = await start();
      await simulate(port, 'POST');
      await sleep(30_000);
      await app?.crash();
      port = await start();
      await simulate(port, 'POST');
      await sleep(30_000);

      // Every device stops at once: nothing sends. Each must be reported inactive within 10 s + 2 s of its last fix.
      await simulate(port, 'DELETE');
      const stoppedAt = Date.now();
      // Seen in the API's live state (GET /alerts/active, from the device_alerts topic), polled every 200 ms.
      const seenAt = new Map<string, { openedAt: number; at: number }>();
      await waitFor('an inactive alert for every device', 30_000, async () => {
        const active = await json<{ device_id: string; opened_at: number }[]>(port, '/alerts/active?type=inactive');
        for (const a of active) {
          if (a.opened_at > stoppedAt - 15_000 && !seenAt.has(a.device_id)) {
            seenAt.set(a.device_id, { openedAt: a.opened_at, at: Date.now() });
          }
        }
        return seenAt.size === DEVICES.length ? true : undefined;
      });
      const fixesSoFar = (await readTopic(kafka.brokers, 'device_location')).map((r) => r.value as unknown as Fix);
      const lags: number[] = [];
      for (const device of DEVICES) {
        const lastFix = Math.max(...fixesSoFar.filter((f) => f.device_id === device).map((f) => f.event_ts));
        const seen = seenAt.get(device);
        expect(seen?.openedAt, `${device}: opened at its last fix (${lastFix}) + 10 s`).toBe(lastFix + 10_000);
        lags.push((seen?.at ?? Number.POSITIVE_INFINITY) - lastFix);
      }
      console.log(`[alerts-run] last fix → inactive alert on GET /alerts/active, per device: ${lags.join(', ')} ms`);
      for (const lag of lags) expect(lag).toBeLessThanOrEqual(10_000 + 2000);

      // They come back: the alerts clear. Then they stop for good.
      await simulate(port, 'POST');
      await waitFor('every inactive alert cleared', 20_000, async () =>
        (await inactiveNow('cleared', stoppedAt - 15_000)).length === DEVICES.length ? true : undefined,
      );
      await sleep(2000);
      await simulate(port, 'DELETE');
      const finalStop = Date.now();
      await waitFor('the final inactive alerts', 30_000, async () =>
        (await inactiveNow('active', finalStop - 15_000)).length === DEVICES.length ? true : undefined,
      );

      // The warehouse holds exactly the episodes an uninterrupted reading of the records gives.
      const fixes = (await readTopic(kafka.brokers, 'device_location')).map((r) => r.value as unknown as Fix);
      const readings = (await readTopic(kafka.brokers, 'device_status')).map((r) => r.value as unknown as Reading);
      const expected = expectedAlerts(fixes, readings, SPECIFIED_RULES, Number.POSITIVE_INFINITY);
      const stored = async () =>
        (await sql`select * from device_alerts order by alert_id collate "C"`).map((r) => pick(r));
      await waitFor('the warehouse to hold every episode', 20_000, async () =>
        (await metric(port, 'alerts_lag_records')) === 0 && JSON.stringify(await stored()) === JSON.stringify(expected)
          ? true
          : undefined,
      ).catch(() => undefined); // the assertion below shows the difference
      expect(await stored()).toEqual(expected);
      expect(expected.filter((a) => a.type === 'sensor_anomaly').length).toBeGreaterThan(20);

      // The topic: every copy of one revision is the same change; revisions run 1..n; nothing after a clear.
      const changes = new Map<string, Map<number, string>>();
      let copies = 0;
      for (const r of await readTopic(kafka.brokers, 'device_alerts')) {
        const id = r.value['alert_id'] as string;
        const revision = r.value['revision'] as number;
        const byRevision = changes.get(id) ?? new Map<number, string>();
        const text = JSON.stringify(r.value);
        if (byRevision.has(revision)) {
          copies++;
          expect(text, `${id} revision ${revision} written twice differently`).toBe(byRevision.get(revision));
        }
        byRevision.set(revision, text);
        changes.set(id, byRevision);
      }
      for (const [id, byRevision] of changes) {
        const revisions = [...byRevision.keys()].sort((a, b) => a - b);
        expect(revisions, id).toEqual(revisions.map((_, i) => i + 1));
        const clearedAt = revisions.find((n) => JSON.parse(byRevision.get(n) as string).status === 'cleared');
        if (clearedAt !== undefined) expect(revisions.at(-1), `${id} changed after its clear`).toBe(clearedAt);
      }
      console.log(`[alerts-run] ${changes.size} alerts, ${copies} repeated copies of a change after the crash`);

      // The anomalous readings the detector counted, per metric, against the configured rate.
      for (const m of ['sound', 'temperature', 'altitude'] as const) {
        const n = readings.filter((r) => r[m] !== null).length;
        const counted = (await stored())
          .filter((a) => a.type === 'sensor_anomaly' && a.metric === m)
          .reduce((sum, a) => sum + a.readings, 0);
        const p = RATES[m];
        const halfWidth = Z_999 * Math.sqrt((p * (1 - p)) / n);
        console.log(`[alerts-run] ${m}: ${counted} of ${n} readings anomalous (${((100 * counted) / n).toFixed(1)} %)`);
        expect(n).toBeGreaterThan(300);
        expect(Math.abs(counted / n - p), `${m}: ${counted}/${n} against ${p}`).toBeLessThanOrEqual(halfWidth);
      }
    } finally {
      await app?.crash();
      await sql.end();
    }
  }, 240_000);
});
