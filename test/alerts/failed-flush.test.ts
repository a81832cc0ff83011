/**
 * A flush whose device-state write fails must commit no source offsets: the alert changes it wrote are then
 * derived and written again from the last saved state, never lost with the states that were not saved.
 */
import { Admin } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { createAlertComponent } from '../../src/alerts/alert-component.js';
import { DEFAULT_ALERT_RULES } from '../../src/core/alerts/alert-rules.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { brokers, createTestTopics, readRecords, uniqueName } from '../helpers/kafka.js';
import { produce } from '../processor/helpers.js';

const B = Math.floor(Date.now() / 1000) * 1000 - 60_000;

describe('the alert component when the state changelog refuses its writes', () => {
  it('commits no offset past the last saved state, and writes the alert changes again from it', async () => {
    const t = await createTestTopics({ location: 'f_location', status: 'f_status', alerts: 'f_alerts' }, 1);
    // A device state is a few hundred bytes of JSON: every state write is refused (MESSAGE_TOO_LARGE).
    const { state } = await createTestTopics({ state: 'f_state' }, 1, {
      'cleanup.policy': 'compact',
      'max.message.bytes': '64',
    });
    const topics = { ...t, state };
    const events = [0, 500, 1000].map((ms, i) => ({
      topic: 'status' as const,
      key: 'dev-1',
      value: { id: `s${i}`, device_id: 'dev-1', sound: 60, temperature: 25, altitude: 1500, event_ts: B + ms },
    }));
    await produce(topics, events);
    const groupId = uniqueName('alerts');
    const failures: string[] = [];
    const logger = createSilentLogger();
    // The component logs each failed step; the test keeps the error messages.
    logger.error = ((fields: { err?: unknown }) => {
      failures.push(String(fields.err));
    }) as typeof logger.error;
    const alerts = createAlertComponent({
      brokers: brokers(),
      clientId: 'alerts-failed-flush',
      groupId,
      topics,
      rules: DEFAULT_ALERT_RULES,
      logger,
      sessionTimeoutMs: 6000,
      flushIntervalMs: 100,
      latenessMs: Number.POSITIVE_INFINITY,
      createTopics: false,
    });
    const admin = new Admin({ clientId: 'alerts-failed-flush-admin', bootstrapBrokers: brokers() });
    await alerts.start();
    try {
      // The opening and the two updates, written by the first flush and again after the rebuild it caused (and
      // after every further rebuild: each flush fails the same way).
      const written = await readRecords([topics.alerts], 6, 30_000);
      expect(written.slice(0, 6).map((r) => JSON.parse(r.value).revision)).toEqual([1, 2, 3, 1, 2, 3]);
      expect(failures[0]).toMatch(/Producing messages failed/);
      const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      const committed = (group?.topics ?? []).flatMap((topic) => topic.partitions.map((p) => p.committedOffset));
      // At most the position before the first record (an early flush with nothing processed commits 0).
      expect(committed.filter((offset) => offset > 0n)).toEqual([]);
    } finally {
      await alerts.stop();
      await admin.close();
    }
  }, 60_000);
});
