/**
 * The alert component on the real broker with a scripted scenario (records produced straight to the source
 * topics): exactly the expected episodes, open and clear times, for the three types, including a status that
 * arrives late and out of order; and a restart in the middle gives the same alerts as an uninterrupted run.
 */
import { describe, expect, it } from 'vitest';
import { createAlertComponent } from '../../src/alerts/alert-component.js';
import { type AlertRecord, decodeAlertRecord } from '../../src/core/alerts/alert-record.js';
import { DEFAULT_ALERT_RULES } from '../../src/core/alerts/alert-rules.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { brokers, createTestTopics, readRecords, uniqueName } from '../helpers/kafka.js';
import { type Event, produce } from '../processor/helpers.js';
import { expectedAlerts, type Fix, type Reading, SPECIFIED_RULES } from './reference-model.js';

const B = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const fix = (device: string, t: number, latitude = 9, longitude = 107): Event => ({
  topic: 'location',
  key: device,
  value: { id: `${device}-l${t}`, device_id: device, latitude, longitude, event_ts: B + t },
});
const status = (device: string, t: number, sound: number): Event => ({
  topic: 'status',
  key: device,
  value: { id: `${device}-s${t}`, device_id: device, sound, temperature: 25, altitude: 1500, event_ts: B + t },
});

function scenario(): Event[] {
  const events: Event[] = [];
  for (let t = 0; t <= 20_000; t += 2000) {
    events.push(fix('dev-1', t));
    const outside = t === 6000 ? 10.2 : t === 8000 ? 10.3 : 9.5;
    events.push(fix('dev-2', t, outside, 107.5));
    if (t <= 4000) events.push(fix('dev-3', t));
  }
  for (let t = 0; t <= 20_000; t += 500) {
    const sound = t === 3000 ? 55 : t === 3500 ? 58 : 40;
    events.push(status('dev-1', t, sound));
    // Late and out of order: the reading of 3200 arrives after the one of 3500.
    if (t === 3500) events.push(status('dev-1', 3200, 70));
  }
  return events;
}

const expected = [
  {
    alert_id: `dev-1/inactive/-/${B + 30_000}`,
    status: 'active',
    opened_at: B + 30_000,
    cleared_at: null,
    readings: 0,
  },
  {
    alert_id: `dev-1/sensor_anomaly/sound/${B + 3000}`,
    status: 'cleared',
    severity: 'critical',
    opened_at: B + 3000,
    cleared_at: B + 8500,
    updated_at: B + 8500,
    readings: 3,
    worst_value: 70,
  },
  { alert_id: `dev-2/inactive/-/${B + 30_000}`, status: 'active', opened_at: B + 30_000, cleared_at: null },
  {
    alert_id: `dev-2/outside_geofence/-/${B + 6000}`,
    status: 'cleared',
    severity: 'critical',
    opened_at: B + 6000,
    cleared_at: B + 10_000,
    readings: 2,
    latitude: 10.2,
  },
  {
    alert_id: `dev-3/inactive/-/${B + 14_000}`,
    status: 'active',
    opened_at: B + 14_000,
    cleared_at: null,
    latitude: 9,
  },
];

async function topics() {
  const t = await createTestTopics({ location: 'a_location', status: 'a_status', alerts: 'a_alerts' });
  const { state } = await createTestTopics({ state: 'a_state' }, 3, { 'cleanup.policy': 'compact' });
  return { ...t, state };
}

function component(
  t: Awaited<ReturnType<typeof topics>>,
  groupId: string,
  extra: Partial<Parameters<typeof createAlertComponent>[0]> = {},
) {
  return createAlertComponent({
    brokers: brokers(),
    clientId: 'alerts-test',
    groupId,
    topics: t,
    rules: DEFAULT_ALERT_RULES,
    logger: createSilentLogger(),
    sessionTimeoutMs: 6000,
    flushIntervalMs: 100,
    ...extra,
  });
}

/** Every change written, and the final revision of each alert. */
async function readAlerts(topic: string, changes: number) {
  const all = (await readRecords([topic], changes, 20_000)).map((r) => {
    const decoded = decodeAlertRecord(Buffer.from(r.key), Buffer.from(r.value));
    if (!decoded.ok) throw new Error(decoded.reason);
    return decoded.alert;
  });
  const final = new Map<string, AlertRecord>();
  for (const a of all) if ((final.get(a.alert_id)?.revision ?? 0) < a.revision) final.set(a.alert_id, a);
  return { all, final: [...final.values()].sort((a, b) => a.alert_id.localeCompare(b.alert_id)) };
}

async function until(what: string, timeoutMs: number, check: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the reference model of the other alert tests', () => {
  it('gives the hand-derived episodes of the scenario', () => {
    const events = scenario();
    const fixes = events.filter((e) => e.topic === 'location').map((e) => e.value as unknown as Fix);
    const readings = events.filter((e) => e.topic === 'status').map((e) => e.value as unknown as Reading);
    const model = expectedAlerts(fixes, readings, SPECIFIED_RULES, Number.POSITIVE_INFINITY);
    expect(model.map((a) => a.alert_id)).toEqual(expected.map((a) => a.alert_id));
    for (const [i, alert] of model.entries()) {
      const { latitude: _lat, ...without } = expected[i] as Record<string, unknown>;
      expect(alert).toMatchObject(without);
    }
  });
});

describe('the alert component on a scripted scenario', () => {
  it('raises exactly the expected episodes with their open and clear times', async () => {
    const t = await topics();
    const events = scenario();
    await produce(t, events);
    const alerts = component(t, uniqueName('alerts'));
    await alerts.start();
    try {
      await until('every record judged and every silence raised', 45_000, () => {
        const s = alerts.stats();
        return s.recordsIn >= events.length && s.opened['inactive'] === 3 && s.lag === 0;
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await alerts.stop();
    }
    const { final, all } = await readAlerts(t.alerts, alerts.stats().alertChanges);
    expect(final).toEqual(expected.map((e) => expect.objectContaining(e)));
    // Every revision of every alert exactly once, in order.
    const revisions = new Map<string, number[]>();
    for (const a of all) revisions.set(a.alert_id, [...(revisions.get(a.alert_id) ?? []), a.revision]);
    for (const list of revisions.values()) expect(list).toEqual(list.map((_, i) => i + 1));
  }, 90_000);

  it('gives the same alerts across a restart in the middle, opening nothing twice', async () => {
    // Judged by stream time only (no wall clock), so the silences the events show are the only ones raised, and
    // small fetches of small batches let the first run stop half-way.
    const t = await topics();
    const events = scenario();
    await produce(t, events, 10);
    const groupId = uniqueName('alerts');
    const options = { latenessMs: Number.POSITIVE_INFINITY, fetch: { partitionMaxBytes: 256 } };
    const first = component(t, groupId, options);
    await first.start();
    try {
      await until('part of the input judged', 45_000, () => first.stats().recordsIn >= events.length / 3);
    } finally {
      await first.stop();
    }
    expect(first.stats().recordsIn).toBeLessThan(events.length);
    const second = component(t, groupId, options);
    await second.start();
    try {
      await until('the rest judged', 45_000, () => {
        const s = second.stats();
        return s.lag === 0 && first.stats().recordsIn + s.recordsIn >= events.length && second.active().length >= 1;
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await second.stop();
    }
    const written = first.stats().alertChanges + second.stats().alertChanges;
    const { final, all } = await readAlerts(t.alerts, written);
    // Stream time never passes B + 20 s, so the silences of dev-1 and dev-2 after the script are not raised.
    const byStreamTime = expected.filter((e) => e.opened_at !== B + 30_000);
    expect(final).toEqual(byStreamTime.map((e) => expect.objectContaining(e)));
    const opens = all.filter((a) => a.revision === 1).map((a) => a.alert_id);
    expect(new Set(opens).size).toBe(opens.length);
    const revisions = all.map((a) => `${a.alert_id}#${a.revision}`);
    expect(new Set(revisions).size).toBe(revisions.length);
  }, 120_000);
});
