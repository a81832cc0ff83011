/**
 * One flush after a backlog changes thousands of devices at once: their alert changes and states are several MiB
 * for one partition, above the broker's 1 MiB limit of one request's record batch. They must be written in bounded
 * requests; before, the flush failed with MESSAGE_TOO_LARGE and was retried without end.
 */
import { describe, expect, it } from 'vitest';
import { createAlertComponent } from '../../src/alerts/alert-component.js';
import { DEFAULT_ALERT_RULES } from '../../src/core/alerts/alert-rules.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { brokers, createTestTopics, readRecords, uniqueName } from '../helpers/kafka.js';
import { type Event, produce } from '../processor/helpers.js';

const B = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const DEVICES = 4000;

describe('the alert component after a backlog of many devices', () => {
  it('writes every alert change and state of one large flush', async () => {
    const t = await createTestTopics({ location: 'g_location', status: 'g_status', alerts: 'g_alerts' }, 1);
    const { state } = await createTestTopics({ state: 'g_state' }, 1, { 'cleanup.policy': 'compact' });
    const events: Event[] = [];
    for (let d = 0; d < DEVICES; d++) {
      const device = `backlog-device-${String(d).padStart(5, '0')}`;
      events.push({
        topic: 'location',
        key: device,
        value: { id: `l${d}`, device_id: device, latitude: 9, longitude: 107, event_ts: B + d },
      });
      events.push({
        topic: 'status',
        key: device,
        value: { id: `s${d}`, device_id: device, sound: 60, temperature: 35, altitude: 2500, event_ts: B + d },
      });
    }
    await produce(t, events, 2000);
    const component = createAlertComponent({
      brokers: brokers(),
      clientId: 'alerts-large-flush',
      groupId: uniqueName('alerts'),
      topics: { ...t, state },
      rules: DEFAULT_ALERT_RULES,
      logger: createSilentLogger(),
      sessionTimeoutMs: 6000,
      // One flush for the whole backlog, and no inactivity by the wall clock meanwhile.
      flushIntervalMs: 3000,
      latenessMs: Number.POSITIVE_INFINITY,
    });
    await component.start();
    try {
      // Three sensor episodes per device: 12,000 alert changes, 4,000 device states of about 1.5 kB.
      const alerts = await readRecords([t.alerts], 3 * DEVICES, 60_000);
      expect(alerts).toHaveLength(3 * DEVICES);
      const states = await readRecords([state], DEVICES, 30_000);
      expect(new Set(states.map((s) => s.key)).size).toBe(DEVICES);
      expect(component.stats().alertChanges).toBe(3 * DEVICES);
    } finally {
      await component.stop();
    }
  }, 120_000);
});
