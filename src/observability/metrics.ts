/**
 * Pull-based metrics: each component exposes a `MetricsSource` that returns its current samples, and each
 * application's `MetricsRegistry` (a prom-client `Registry`, never the global default one) serializes them at
 * scrape time, together with the application's own prom-client metrics (HTTP) and the process metrics.
 * Components keep plain counters and do not depend on prom-client.
 *
 * Names follow `<area>_<thing>_<unit|total>`, e.g. `processor_records_dead_lettered_total`.
 */
import { Registry } from 'prom-client';
import { processMetricsRegistry } from './process-metrics.js';
import { createSourceFamilies } from './source-families.js';

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

export interface MetricsRegistry {
  /** The application's registry: register the application's own prom-client metrics here. */
  readonly registry: Registry;
  /** The content type of `scrape()`'s text: the registry's (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /**
   * Reads every source, then serializes the registry. Use this rather than `registry.metrics()`, which does
   * not read the sources.
   */
  scrape(): Promise<string>;
}

export interface MetricsRegistryOptions {
  /** Read at every scrape (the array too, so sources pushed later are included). */
  sources: readonly MetricsSource[];
  /** Told about each source that throws, and each source family whose name a prom-client metric already has. */
  onSourceError?: (err: unknown) => void;
}

/**
 * A registry for one application: the process metrics (shared by every application of the process), the
 * families of `sources`, and whatever the application registers on `registry`.
 *
 * @example
 * const metrics = createMetricsRegistry({ sources: services.metrics, onSourceError: (err) => log.warn({ err }) });
 * new Counter({ name: 'http_requests_total', help: '…', registers: [metrics.registry] });
 * const text = await metrics.scrape();
 */
export function createMetricsRegistry({ sources, onSourceError = () => {} }: MetricsRegistryOptions): MetricsRegistry {
  // merge() registers the process metrics' own objects in a new registry: they are not created again.
  const registry = Registry.merge([processMetricsRegistry(), new Registry()]);
  const families = createSourceFamilies(registry, sources, onSourceError);
  return {
    registry,
    contentType: registry.contentType,
    scrape() {
      families.collect();
      return registry.metrics();
    },
  };
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
