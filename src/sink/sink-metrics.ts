/**
 * The sink's counters and how `/metrics` renders them (`sink_<thing>_<unit|total>`).
 */
import type { MetricSample } from '../observability/metrics.js';

export type SinkState = 'stopped' | 'starting' | 'running' | 'stalled' | 'retrying';

export interface SinkStats {
  state: SinkState;
  rowsWritten: { windows: number; devices: number; alerts: number };
  recordsConsumed: number;
  /** Records whose batch is in the database and whose offsets were committed. */
  recordsCommitted: number;
  batches: number;
  retries: number;
  deadLettered: number;
  offsetCommitFailures: number;
  /** Records of the output topics after the group's committed offsets (read from the broker). */
  consumerLag: number;
  /** Times the sink found its consumer group stuck and joined it afresh. */
  groupRejoins: number;
}

const counter = (name: string, help: string, value: number, labels?: Record<string, string>): MetricSample => ({
  name,
  help,
  type: 'counter',
  value,
  ...(labels ? { labels } : {}),
});

export function sinkMetricSamples(stats: SinkStats): MetricSample[] {
  const written = 'Warehouse rows inserted or changed (versions the guard rejected are not counted)';
  return [
    counter('sink_rows_written_total', written, stats.rowsWritten.windows, { table: 'device_winagg_status_per2s' }),
    counter('sink_rows_written_total', written, stats.rowsWritten.devices, { table: 'device_winagg_status_perdevice' }),
    counter('sink_rows_written_total', written, stats.rowsWritten.alerts, { table: 'device_alerts' }),
    counter('sink_records_consumed_total', 'Records read from the output topics', stats.recordsConsumed),
    counter('sink_records_committed_total', 'Records written and offset-committed', stats.recordsCommitted),
    counter('sink_batches_total', 'Database transactions committed', stats.batches),
    counter('sink_retries_total', 'Failed write attempts that were retried', stats.retries),
    counter('sink_records_dead_lettered_total', 'Records sent to the dead-letter topic', stats.deadLettered),
    counter(
      'sink_offset_commit_failures_total',
      'Offset commits that failed (the records are redelivered and ignored by the guard)',
      stats.offsetCommitFailures,
    ),
    {
      name: 'sink_consumer_lag',
      help: "Records in the output topics after the sink group's committed offsets (high watermark minus committed)",
      type: 'gauge',
      value: stats.consumerLag,
    },
    counter(
      'sink_group_rejoins_total',
      'Times the sink found its consumer group stuck outside a stable generation and joined it afresh',
      stats.groupRejoins,
    ),
    {
      name: 'sink_database_available',
      help: '1 while the sink can write to PostgreSQL, 0 while it retries',
      type: 'gauge',
      value: stats.state === 'retrying' ? 0 : 1,
    },
  ];
}
