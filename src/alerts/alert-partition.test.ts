import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_RULES } from '../core/alerts/alert-rules.js';
import type { LocationEvent, StatusEvent } from '../core/decode.js';
import { AlertPartition } from './alert-partition.js';

const T0 = 1_796_000_000_000;
const fix = (deviceId: string, ts: number): LocationEvent => ({
  id: null,
  deviceId,
  latitude: 9,
  longitude: 107,
  eventTs: ts,
});
const status = (deviceId: string, ts: number): StatusEvent => ({
  id: `s${ts}`,
  deviceId,
  sound: 40,
  temperature: 25,
  altitude: 1500,
  eventTs: ts,
});

describe('the inactivity clock of a partition', () => {
  it('while lagging, is not moved by statuses that run ahead of the fixes', () => {
    const p = new AlertPartition(DEFAULT_ALERT_RULES);
    p.processLocation(fix('dev-1', T0), 0);
    for (let t = 0; t <= 30_000; t += 500) p.processStatus(status('dev-1', T0 + t), t);
    p.advance(false, T0 + 60_000, 1000);
    expect(p.drain().alerts).toEqual([]);
  });

  it('while lagging, moves with the fixes of the other devices', () => {
    const p = new AlertPartition(DEFAULT_ALERT_RULES);
    p.processLocation(fix('dev-1', T0), 0);
    p.processLocation(fix('dev-2', T0 + 9_999), 1);
    p.advance(false, T0 + 60_000, 1000);
    expect(p.drain().alerts).toEqual([]);
    p.processLocation(fix('dev-2', T0 + 10_000), 2);
    p.advance(false, T0 + 60_000, 1000);
    expect(p.drain().alerts.map((a) => [a.alert_id, a.status])).toEqual([
      [`dev-1/inactive/-/${T0 + 10_000}`, 'active'],
    ]);
  });

  it('caught up, follows the wall clock less the lateness', () => {
    const p = new AlertPartition(DEFAULT_ALERT_RULES);
    p.processLocation(fix('dev-1', T0), 0);
    p.advance(true, T0 + 10_999, 1000);
    expect(p.drain().alerts).toEqual([]);
    p.advance(true, T0 + 11_000, 1000);
    expect(p.drain().alerts.map((a) => a.opened_at)).toEqual([T0 + 10_000]);
  });
});
