/**
 * A scripted run through POST /simulate on the real broker: the silent device writes nothing to either topic inside
 * its silent window and resumes after it, the wandering device's fixes go outside lat 8–10 / lon 106–108 and come
 * back, GET /simulate reports which devices and when, and the alert detector fed with what the broker holds raises
 * all three alert types (sensor anomalies come from the default anomaly rates).
 */
import { describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/app.js';
import { createApplication } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { AlertDetector } from '../../src/core/alerts/alert-detector.js';
import type { AlertRecord } from '../../src/core/alerts/alert-record.js';
import { DEFAULT_ALERT_RULES, degreesOutside } from '../../src/core/alerts/alert-rules.js';
import { decodeLocation, decodeStatus } from '../../src/core/decode.js';
import { OPERATIONAL_BOX } from '../../src/core/movement.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import type { SimulationStatus } from '../../src/simulators/simulation-status.js';
import { createSimulatorFromConfig } from '../../src/simulators/simulator-from-config.js';
import { databaseUrl } from '../helpers/db.js';
import { brokers, createTestTopics, readRecords } from '../helpers/kafka.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Short intervals keep the run to 5 s: a fix every 200 ms, so the way out and back take 1 s each.
const request = {
  seed: 'scripted',
  location_interval_ms: 200,
  status_interval_ms: 100,
  duration_ms: 5000,
  silent_devices: 1,
  silent_after_ms: 1000,
  silent_for_ms: 1500,
  wander_devices: 1,
  wander_after_ms: 500,
  wander_for_ms: 2000,
};

describe('a scripted run on the real broker', () => {
  it('silences dev-1 for its window, walks dev-2 out of the box and back, and reports both', async () => {
    const topics = await createTestTopics({ location: 'script_location', status: 'script_status' });
    const config = loadConfig({ KAFKA_BROKERS: brokers().join(','), DATABASE_URL: databaseUrl() });
    const logger = createSilentLogger();
    const application = createApplication(config, logger);
    const simulator = createSimulatorFromConfig(config, application.services.kafka, logger, { topics });
    const api = createApi({ ...application.services, simulator });
    const call = async (method: string, body?: unknown) => {
      const init =
        body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
      const res = await api.request('/simulate', { method, ...init });
      return { status: res.status, body: (await res.json()) as SimulationStatus };
    };
    try {
      const started = await call('POST', request);
      expect(started.status).toBe(202);
      const t0 = Date.parse(started.body.started_at!);
      const at = (ms: number) => new Date(t0 + ms).toISOString();
      expect(started.body.scenario).toEqual({
        silent: { devices: ['dev-1'], from: at(1000), until: at(2500), state: 'pending' },
        wander: {
          devices: ['dev-2'],
          from: at(500),
          away_from: at(1500),
          until: at(2500),
          back_by: at(3500),
          state: 'pending',
        },
      });

      let final = started.body;
      for (let waited = 0; final.state !== 'completed' && waited < 20_000; waited += 200) {
        await sleep(200);
        final = (await call('GET')).body;
      }
      expect(final.state).toBe('completed');
      expect(final.scenario).toMatchObject({ silent: { state: 'over' }, wander: { state: 'over' } });
      const t = final.topics!;
      // dev-1 skips 1500 ms of fixes (8 ticks at 33 + 200·k) and statuses (15 at 8 + 100·k), fewer if the machine
      // stalled for over a second (then ticks are skipped late instead).
      expect(t.location.skipped_silent + t.location.skipped_late).toBeGreaterThanOrEqual(8);
      expect(t.status.skipped_silent + t.status.skipped_late).toBeGreaterThanOrEqual(15);
      expect(t.location.skipped_silent).toBeGreaterThan(0);

      const records = await readRecords([topics.location, topics.status], t.location.sent + t.status.sent);
      const events = records.map((r) => ({ topic: r.topic, key: r.key, value: JSON.parse(r.value) }));
      const of = (topic: string, device: string) =>
        events.filter((e) => e.topic === topic && e.key === device).map((e) => e.value);

      for (const topic of [topics.location, topics.status]) {
        const offsets = of(topic, 'dev-1').map((v) => v.event_ts - t0);
        expect(offsets.filter((ms) => ms >= 1000 && ms < 2500)).toEqual([]);
        expect(offsets.some((ms) => ms < 1000)).toBe(true);
        expect(offsets.some((ms) => ms >= 2500)).toBe(true);
      }
      const outside = (v: { latitude: number; longitude: number }) =>
        degreesOutside(v.latitude, v.longitude, OPERATIONAL_BOX);
      const fixes = of(topics.location, 'dev-2').map((v) => ({ ms: v.event_ts - t0, outside: outside(v) }));
      const away = fixes.filter((f) => f.ms >= 1500 && f.ms < 2500);
      expect(away.length).toBeGreaterThan(0);
      for (const f of away) expect(f.outside).toBeGreaterThanOrEqual(0.5);
      const before = fixes.filter((f) => f.ms < 500);
      const after = fixes.filter((f) => f.ms >= 3500);
      expect(before.length).toBeGreaterThan(0);
      expect(after.length).toBeGreaterThan(0);
      for (const f of [...before, ...after]) expect(f.outside).toBe(0);
      for (const v of of(topics.location, 'dev-3')) expect(outside(v)).toBe(0);

      // The detector, fed in event-time order, opens all three types (inactivity judged after 1 s here).
      const alerts = new Map<string, AlertRecord>();
      const detector = new AlertDetector({ ...DEFAULT_ALERT_RULES, inactiveAfterMs: 1000 }, (a) =>
        alerts.set(a.alert_id, a),
      );
      const ordered = [...records].sort(
        (a, b) => JSON.parse(a.value).event_ts - JSON.parse(b.value).event_ts || Number(a.offset - b.offset),
      );
      for (const r of ordered) {
        if (r.topic === topics.location) {
          const decoded = decodeLocation(r.value);
          if (!decoded.ok) throw new Error(decoded.reason);
          detector.advanceTime(decoded.event.eventTs);
          detector.processLocation(decoded.event, Number(r.offset));
        } else {
          const decoded = decodeStatus(r.value);
          if (!decoded.ok) throw new Error(decoded.reason);
          detector.advanceTime(decoded.event.eventTs);
          detector.processStatus(decoded.event, Number(r.offset));
        }
      }
      const kinds = new Set([...alerts.values()].map((a) => `${a.device_id}/${a.type}/${a.status}`));
      expect(kinds).toContain('dev-1/inactive/cleared');
      expect(kinds).toContain('dev-2/outside_geofence/cleared');
      expect([...alerts.values()].some((a) => a.type === 'sensor_anomaly')).toBe(true);
      expect([...alerts.values()].filter((a) => a.type === 'inactive' || a.type === 'outside_geofence').length).toBe(2);
    } finally {
      await simulator.close();
      await application.stop();
    }
  });
});
