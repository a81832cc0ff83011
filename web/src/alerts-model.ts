/**
 * The active alerts as the page holds them: the `/alerts/events` snapshot, then each `alert` change applied by
 * revision (an older or equal revision is not a change; a cleared alert leaves). Labels carry words and a shape
 * as well as a colour, so the state reads without colour vision. Pure functions, no DOM.
 */
import type { Alert, Metric, Range } from './types.js';

export type ActiveAlerts = Map<string, Alert>;

export function applySnapshot(alerts: Alert[]): ActiveAlerts {
  const map: ActiveAlerts = new Map();
  for (const a of alerts) applyChange(map, a);
  return map;
}

/** Applies one change in place; returns whether it changed anything. */
export function applyChange(active: ActiveAlerts, alert: Alert): boolean {
  const known = active.get(alert.alert_id);
  if (known && known.revision >= alert.revision) return false;
  if (alert.status === 'cleared') return active.delete(alert.alert_id);
  active.set(alert.alert_id, alert);
  return true;
}

export type Severity = 'ok' | 'warning' | 'critical';

/** A device's marker state: the most severe of its active alerts. */
export function deviceSeverity(active: ActiveAlerts, deviceId: string): Severity {
  let severity: Severity = 'ok';
  for (const a of active.values()) {
    if (a.device_id !== deviceId) continue;
    if (a.severity === 'critical') return 'critical';
    severity = 'warning';
  }
  return severity;
}

export function alertsOf(active: ActiveAlerts, deviceId: string): Alert[] {
  return [...active.values()].filter((a) => a.device_id === deviceId);
}

/**
 * Every device's active alerts in one pass, for views that show all devices: asking `alertsOf` per device costs
 * devices × alerts per frame (a million steps at 1,000 devices).
 */
export function alertsByDevice(active: ActiveAlerts): Map<string, Alert[]> {
  const byDevice = new Map<string, Alert[]>();
  for (const a of active.values()) {
    const own = byDevice.get(a.device_id);
    if (own) own.push(a);
    else byDevice.set(a.device_id, [a]);
  }
  return byDevice;
}

/** The most severe of a device's alerts (its `alertsByDevice` entry). */
export function severityOf(own: readonly Alert[] | undefined): Severity {
  if (!own || own.length === 0) return 'ok';
  return own.some((a) => a.severity === 'critical') ? 'critical' : 'warning';
}

/** Newest opening first, as the API orders them. */
export function sortedAlerts(active: ActiveAlerts): Alert[] {
  return [...active.values()].sort((a, b) => b.opened_at - a.opened_at || (a.alert_id < b.alert_id ? 1 : -1));
}

const UNITS: Record<Metric, string> = { temperature: '°C', sound: 'dB', altitude: 'm' };

/** "sound high: 53.9 dB (30–50)", "outside geofence by 0.12°", "inactive (no fix)". */
export function alertText(alert: Alert): string {
  if (alert.type === 'inactive') return 'inactive: no location fix';
  if (alert.type === 'outside_geofence') {
    return alert.worst_value === null ? 'outside geofence' : `outside geofence by ${alert.worst_value.toFixed(3)}°`;
  }
  const metric = alert.metric ?? 'sensor';
  const unit = alert.metric ? UNITS[alert.metric] : '';
  const side =
    alert.worst_value !== null && alert.normal_max !== null && alert.worst_value > alert.normal_max ? 'high' : 'low';
  const value = alert.worst_value === null ? '' : `: ${alert.worst_value.toFixed(1)} ${unit}`;
  const range =
    alert.normal_min !== null && alert.normal_max !== null ? ` (${alert.normal_min}–${alert.normal_max})` : '';
  return `${metric} ${side}${value}${range}`;
}

/** Short text drawn beside a marker: "!" warning, "!!" critical. */
export function severityMark(severity: Severity): string {
  return severity === 'critical' ? '!!' : severity === 'warning' ? '!' : '';
}

export type RangeStatus = 'low' | 'normal' | 'high' | 'unknown';

/** A reading against its normal range (bounds inclusive, as the detector judges). */
export function rangeStatus(value: number | null | undefined, range: Range | undefined): RangeStatus {
  if (value === null || value === undefined || range === undefined || !Number.isFinite(value)) return 'unknown';
  if (value < range.min) return 'low';
  if (value > range.max) return 'high';
  return 'normal';
}
