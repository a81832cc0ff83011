/**
 * Pull-based metrics: each component exposes a `MetricsSource` that returns its current samples, and the
 * `/metrics` endpoint renders all sources as Prometheus text at scrape time. Components keep plain counters;
 * nothing here is global.
 *
 * Names follow `<area>_<thing>_<unit|total>`, e.g. `processor_records_dead_lettered_total`.
 */
export interface MetricSample {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  value: number;
  labels?: Record<string, string>;
}

export interface MetricsSource {
  metrics(): MetricSample[];
}
