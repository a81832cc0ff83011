/** The alert component's counters and what `/metrics` reports of them. Pure. */
import { ALERT_TYPES, type AlertRecord } from '../core/alerts/alert-record.js';
import type { MetricSample } from '../observability/metrics.js';

export interface AlertComponentStats {
  recordsIn: number;
  recordsSkipped: number;
  alertChanges: number;
  opened: Record<string, number>;
  cleared: Record<string, number>;
  flushes: number;
  lag: number;
  /** The detectors' devices: held, retired (silent, only `inactive` active), and evictions by reason. */
  devices: { held: number; retired: number; evictedIdle: number; evictedCap: number };
}

/** `activeNow`: the active alerts of the partitions this instance owns; `groupLag` from the broker. */
export function alertMetricSamples(
  s: AlertComponentStats,
  activeNow: readonly AlertRecord[],
  groupLag: number,
): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const type of ALERT_TYPES) {
    const labels = { type };
    samples.push(
      {
        name: 'alerts_opened_total',
        help: 'Alert episodes opened',
        type: 'counter',
        value: s.opened[type] ?? 0,
        labels,
      },
      {
        name: 'alerts_cleared_total',
        help: 'Alert episodes cleared',
        type: 'counter',
        value: s.cleared[type] ?? 0,
        labels,
      },
      {
        name: 'alerts_active',
        help: 'Active alert episodes of the partitions this instance owns',
        type: 'gauge',
        value: activeNow.filter((a) => a.type === type).length,
        labels,
      },
    );
  }
  samples.push(
    {
      name: 'alerts_records_in_total',
      help: 'Source records judged by the alert detector',
      type: 'counter',
      value: s.recordsIn,
    },
    {
      name: 'alerts_records_skipped_total',
      help: 'Source records the alert detector skipped (undecodable or refused; the processor dead-letters them)',
      type: 'counter',
      value: s.recordsSkipped,
    },
    {
      name: 'alerts_changes_written_total',
      help: 'Alert changes written to device_alerts',
      type: 'counter',
      value: s.alertChanges,
    },
    {
      name: 'alerts_lag_records',
      help: 'Source records the alert detector has not judged yet',
      type: 'gauge',
      value: s.lag,
    },
    {
      name: 'alerts_devices',
      help: 'Devices the alert detectors of this instance hold in full',
      type: 'gauge',
      value: s.devices.held,
    },
    {
      name: 'alerts_devices_retired',
      help: 'Devices silent beyond ALERT_DEVICE_IDLE_HORIZON_MS held in compact form (only their inactive alert is open)',
      type: 'gauge',
      value: s.devices.retired,
    },
    ...(['idle', 'cap'] as const).map(
      (reason): MetricSample => ({
        name: 'alerts_devices_evicted_total',
        help:
          'Devices the alert detectors forgot or retired: silent beyond ALERT_DEVICE_IDLE_HORIZON_MS, or the least ' +
          'recently seen beyond ALERT_MAX_DEVICES (their open alerts then never clear)',
        type: 'counter',
        value: reason === 'idle' ? s.devices.evictedIdle : s.devices.evictedCap,
        labels: { reason },
      }),
    ),
    {
      name: 'alerts_group_lag_records',
      help: "Source records after the alert group's committed offsets (from the broker)",
      type: 'gauge',
      value: groupLag,
    },
  );
  return samples;
}
