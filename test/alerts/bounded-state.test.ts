/**
 * Issue 15, bounded state: the alert detector used to keep every device id ever seen. With a horizon, a device
 * silent that long is forgotten when it has nothing open (its changelog entry deleted with a tombstone) or
 * retired when only its `inactive` alert is open; after a restart from the changelog, the retired device's next
 * fix clears that alert exactly as if it had never been retired (revision 2), and the forgotten one stays gone.
 */
import { Consumer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { type AlertComponent, createAlertComponent } from '../../src/alerts/alert-component.js';
import type { AlertRecord } from '../../src/core/alerts/alert-record.js';
import { DEFAULT_ALERT_RULES } from '../../src/core/alerts/alert-rules.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { readWholePartition } from '../../src/processor/fetcher.js';
import { brokers, createTestTopics, readRecords, uniqueName } from '../helpers/kafka.js';
import { type Event, produce } from '../processor/helpers.js';

const B = Math.floor(Date.now() / 1000) * 1000 - 600_000;

const fix = (device: string, ts: number): Event => ({
  topic: 'location',
  key: device,
  value: { id: `l-${device}-${ts}`, device_id: device, latitude: 9, longitude: 107, event_ts: ts },
});

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the alert component with bounded device state', () => {
  it('forgets and retires silent devices, deletes the forgotten from the changelog, and clears a retired one after a restart', async () => {
    const t = await createTestTopics({ location: 'b_location', status: 'b_status', alerts: 'b_alerts' }, 1);
    const { state } = await createTestTopics({ state: 'b_state' }, 1, { 'cleanup.policy': 'compact' });
    const topics = { ...t, state };
    const groupId = uniqueName('alerts');
    const component = (): AlertComponent =>
      createAlertComponent({
        brokers: brokers(),
        clientId: 'alerts-bounded',
        groupId,
        topics,
        rules: DEFAULT_ALERT_RULES,
        logger: createSilentLogger(),
        sessionTimeoutMs: 6000,
        flushIntervalMs: 100,
        // The timer follows the fixes only, so the test decides what is silent.
        latenessMs: Number.POSITIVE_INFINITY,
        createTopics: false,
        deviceIdleHorizonMs: 30_000,
        maxDevicesPerPartition: 1000,
      });
    // `quiet` only sends a normal status; `gone` one fix; `ticker` a fix every 5 s moves the clock 100 s on.
    const quiet: Event = {
      topic: 'status',
      key: 'quiet',
      value: { id: 's-quiet', device_id: 'quiet', sound: 40, temperature: 25, altitude: 1500, event_ts: B },
    };
    const ticker = Array.from({ length: 21 }, (_, i) => fix('ticker', B + i * 5000));
    await produce(topics, [quiet, fix('gone', B), ...ticker]);

    const first = component();
    await first.start();
    try {
      await until('the silent devices to be forgotten and retired', () => {
        const { devices } = first.stats();
        return devices.evictedIdle >= 2 && devices.retired === 1;
      });
      expect(first.stats().devices).toMatchObject({ held: 1, retired: 1, evictedCap: 0 });
      // The retired device's inactive alert is still active.
      expect(first.active().map((a) => [a.alert_id, a.revision])).toEqual([[`gone/inactive/-/${B + 10_000}`, 1]]);
    } finally {
      await first.stop();
    }

    const consumer = new Consumer({
      clientId: 'test-state',
      groupId: uniqueName('reader'),
      bootstrapBrokers: brokers(),
    });
    try {
      const last = new Map<string, Buffer | null>();
      const limits = { maxWaitMs: 100, maxBytes: 1 << 20, partitionMaxBytes: 1 << 20 };
      for (const r of await readWholePartition(consumer, topics.state, 0, limits)) {
        last.set(r.key?.toString() ?? '', r.value ?? null);
      }
      expect(last.get('quiet')).toBeNull(); // a tombstone: it leaves the changelog
      expect(JSON.parse(last.get('gone')?.toString() ?? 'null')).toMatchObject({
        lastFix: { ts: B },
        inactive: { record: { opened_at: B + 10_000, status: 'active' } },
      });
    } finally {
      await consumer.close(true);
    }

    // After the restart, `gone` reports again.
    await produce(topics, [fix('gone', B + 200_000), fix('ticker', B + 200_000)]);
    const second = component();
    await second.start();
    try {
      await until('the inactive alert to clear', () => second.stats().recordsIn >= 2 && second.active().length === 0);
    } finally {
      await second.stop();
    }
    const written = (await readRecords([topics.alerts], 4, 30_000)).map((r) => JSON.parse(r.value) as AlertRecord);
    const gone = written.filter((a) => a.device_id === 'gone').map((a) => [a.alert_id, a.revision, a.status]);
    expect(gone).toEqual([
      [`gone/inactive/-/${B + 10_000}`, 1, 'active'],
      [`gone/inactive/-/${B + 10_000}`, 2, 'cleared'],
    ]);
    expect(written.filter((a) => a.device_id === 'quiet')).toEqual([]);
    expect(written.find((a) => a.device_id === 'gone' && a.revision === 2)?.cleared_at).toBe(B + 200_000);
  }, 90_000);
});
