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
  /** For `histogram`, name each sample `<family>_bucket` (with an `le` label), `<family>_sum` or `<family>_count`. */
  type: 'counter' | 'gauge' | 'histogram';
  value: number;
  labels?: Record<string, string>;
}

export interface MetricsSource {
  metrics(): MetricSample[];
}

/**
 * Renders every source's samples as Prometheus text exposition format (version 0.0.4). Samples of one family
 * share one `# HELP`/`# TYPE` header; histogram samples are named `<family>_bucket|_sum|_count`. A source that
 * throws is skipped (and reported through `onError`), so one broken component never empties the scrape.
 */
export function renderPrometheus(sources: MetricsSource[], onError?: (err: unknown) => void): string {
  const families = new Map<string, { help: string; type: MetricSample['type']; lines: string[] }>();
  for (const source of sources) {
    let samples: MetricSample[];
    try {
      samples = source.metrics();
    } catch (err) {
      onError?.(err);
      continue;
    }
    for (const sample of samples) {
      const family = sample.type === 'histogram' ? sample.name.replace(/_(bucket|sum|count)$/, '') : sample.name;
      let entry = families.get(family);
      if (!entry) {
        entry = { help: sample.help, type: sample.type, lines: [] };
        families.set(family, entry);
      }
      entry.lines.push(`${sample.name}${renderLabels(sample.labels)} ${renderValue(sample.value)}`);
    }
  }
  let out = '';
  for (const [name, { help, type, lines }] of families) {
    out += `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`;
    out += `${lines.join('\n')}\n`;
  }
  return out;
}

function renderLabels(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const body = entries
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
    .join(',');
  return `{${body}}`;
}

function renderValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** Process-level gauges every scrape includes. */
export function createProcessMetrics(): MetricsSource {
  return {
    metrics() {
      const mem = process.memoryUsage();
      return [
        { name: 'process_resident_memory_bytes', help: 'Resident set size in bytes', type: 'gauge', value: mem.rss },
        { name: 'nodejs_heap_used_bytes', help: 'V8 heap in use, bytes', type: 'gauge', value: mem.heapUsed },
        {
          name: 'process_uptime_seconds',
          help: 'Seconds since the process started',
          type: 'gauge',
          value: process.uptime(),
        },
      ];
    },
  };
}
