/**
 * Pull-based metrics: each component exposes a `MetricsSource` that returns its current samples, and each
 * application's `MetricsRegistry` (a prom-client `Registry`, never the global default one) serializes them at
 * scrape time, together with the application's own prom-client metrics (HTTP) and the process metrics.
 * Components keep plain counters and do not depend on prom-client.
 *
 * Names follow `<area>_<thing>_<unit|total>`, e.g. `processor_records_dead_lettered_total`.
 */
import { Registry } from 'prom-client';
import type { MetricsSource } from './metrics-source.js';
import { processMetricsRegistry } from './process-metrics.js';
import { createSourceFamilies } from './source-families.js';

export type { MetricSample, MetricsSource } from './metrics-source.js';

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
