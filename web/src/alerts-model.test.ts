import { describe, expect, it } from 'vitest';
import { alertText, applyChange, applySnapshot, deviceSeverity, rangeStatus, sortedAlerts } from './alerts-model.js';
import type { Alert } from './types.js';

const alert = (over: Partial<Alert>): Alert => ({
  alert_id: 'dev-1/sensor_anomaly/sound/1000',
  device_id: 'dev-1',
  type: 'sensor_anomaly',
  metric: 'sound',
  status: 'active',
  severity: 'warning',
  opened_at: 1000,
  cleared_at: null,
  updated_at: 1000,
  readings: 1,
  worst_value: 51,
  normal_min: 30,
  normal_max: 50,
  latitude: 9,
  longitude: 107,
  revision: 1,
  ...over,
});

describe('the active alerts', () => {
  it('applies changes by revision: newer replaces, older is ignored, cleared leaves', () => {
    const active = applySnapshot([alert({})]);
    expect(applyChange(active, alert({ revision: 2, readings: 2, worst_value: 53, severity: 'critical' }))).toBe(true);
    expect(applyChange(active, alert({ revision: 1 }))).toBe(false);
    expect(active.get('dev-1/sensor_anomaly/sound/1000')?.worst_value).toBe(53);
    expect(deviceSeverity(active, 'dev-1')).toBe('critical');
    expect(applyChange(active, alert({ revision: 3, status: 'cleared', cleared_at: 9000 }))).toBe(true);
    expect(active.size).toBe(0);
    expect(deviceSeverity(active, 'dev-1')).toBe('ok');
  });

  it('orders newest opening first and says what is wrong in words', () => {
    const active = applySnapshot([
      alert({}),
      alert({ alert_id: 'dev-2/inactive/-/5000', device_id: 'dev-2', type: 'inactive', metric: null, opened_at: 5000 }),
    ]);
    expect(sortedAlerts(active).map((a) => a.device_id)).toEqual(['dev-2', 'dev-1']);
    expect(alertText(alert({ worst_value: 53.94 }))).toBe('sound high: 53.9 dB (30–50)');
    expect(alertText(alert({ metric: 'temperature', worst_value: 18, normal_min: 20, normal_max: 30 }))).toBe(
      'temperature low: 18.0 °C (20–30)',
    );
    expect(alertText(alert({ type: 'outside_geofence', metric: null, worst_value: 0.12 }))).toBe(
      'outside geofence by 0.120°',
    );
  });

  it('judges a reading against its range with inclusive bounds', () => {
    const range = { min: 30, max: 50 };
    expect([29.99, 30, 50, 50.01].map((v) => rangeStatus(v, range))).toEqual(['low', 'normal', 'normal', 'high']);
    expect(rangeStatus(null, range)).toBe('unknown');
    expect(rangeStatus(40, undefined)).toBe('unknown');
  });
});
