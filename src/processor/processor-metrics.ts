/** The processor's counters and gauges as `/metrics` renders them (`processor_<thing>_<unit|total>`). */
import type { MetricSample } from '../observability/metrics.js';
import type { ProcessorStats } from './processor-options.js';

export interface ProcessorGauges {
  restoreSkipped: number;
  groupLag: number;
  groupRejoins: number;
  partitions: number;
  joinRecords: number;
  windows: number;
  devices: number;
}

const counter = (name: string, help: string, value: number): MetricSample => ({ name, help, type: 'counter', value });
const gauge = (name: string, help: string, value: number): MetricSample => ({ name, help, type: 'gauge', value });

export function processorMetricSamples(s: ProcessorStats, g: ProcessorGauges): MetricSample[] {
  return [
    counter('processor_records_in_total', 'Source records processed (replays excluded)', s.recordsIn),
    counter('processor_join_rows_total', 'JOIN_EVENTS rows produced', s.joinRows),
    counter(
      'processor_records_dead_lettered_total',
      'Malformed source records sent to the dead-letter topic',
      s.deadLetters,
    ),
    counter(
      'processor_rows_late_total',
      'Joined rows dropped because their window was past the grace',
      s.lateRowsDropped,
    ),
    counter(
      'processor_records_misrouted_total',
      "Source records on another partition than Kafka's default partitioner gives their key: their producer " +
        'partitions unlike the Java client, and the device may be split across partitions',
      s.misrouted,
    ),
    counter('processor_flushes_total', 'Output flushes acknowledged by the broker', s.flushes),
    counter(
      'processor_flush_failures_total',
      'Output flushes that failed or timed out (state was rebuilt from the checkpoints)',
      s.flushFailures,
    ),
    counter(
      'processor_restore_records_skipped_total',
      'Per-device output records that did not decode when state was restored (skipped)',
      g.restoreSkipped,
    ),
    gauge('processor_pending_outputs', 'Output records buffered or being written', s.pendingOutputs),
    gauge('processor_lag_records', 'Source records not processed yet (buffered plus on the broker)', s.lag),
    gauge(
      'processor_group_lag_records',
      "Source records after the processor group's committed offsets (high watermark minus committed, from the broker)",
      g.groupLag,
    ),
    counter(
      'processor_group_rejoins_total',
      'Times the processor found its consumer group stuck outside a stable generation and joined it afresh',
      g.groupRejoins,
    ),
    gauge('processor_partitions_assigned', 'Source partition numbers owned by this instance', g.partitions),
    gauge('processor_state_join_records', 'Records held in the join state', g.joinRecords),
    gauge('processor_state_windows', 'Open 2-second windows held', g.windows),
    gauge(
      'processor_state_devices',
      'Devices held in the per-device tables (DEVICE_WINAGG_STATUS_PERDEVICE) of the partitions owned',
      g.devices,
    ),
    ...(['idle', 'cap'] as const).map(
      (reason): MetricSample => ({
        name: 'processor_devices_evicted_total',
        help:
          'Devices the per-device tables forgot: idle beyond PROCESSOR_DEVICE_IDLE_HORIZON_MS, or the least ' +
          'recently seen beyond PROCESSOR_MAX_DEVICES',
        type: 'counter',
        value: reason === 'idle' ? s.devicesEvictedIdle : s.devicesEvictedCap,
        labels: { reason },
      }),
    ),
  ];
}
