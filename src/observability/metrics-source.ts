/** What a component exposes to the metrics registry (`metrics.ts`): its current samples, read at scrape time. */
export interface MetricSample {
  name: string;
  help: string;
  /** For `histogram`, name each sample `<family>_bucket` (with an `le` label), `<family>_sum` or `<family>_count`. */
  type: 'counter' | 'gauge' | 'histogram';
  value: number;
  labels?: Record<string, string>;
}

export interface MetricsSource {
  metrics(): MetricSample[];
}
