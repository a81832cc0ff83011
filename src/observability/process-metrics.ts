/**
 * Process-level metrics: prom-client's default set (standard names: `process_resident_memory_bytes`,
 * `process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, `nodejs_eventloop_lag_seconds`, …) plus
 * `process_uptime_seconds`, which the default set does not have and earlier versions of `/metrics` did.
 *
 * They describe the process, not an application, so they are created once per process and shared by every
 * application's registry: the default set starts an event-loop delay monitor and a GC observer that are never
 * stopped, and creating them per application (tests build several in one process) would add one of each every
 * time.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

let shared: Registry | undefined;

/**
 * The process metrics, created on the first call. Merge them into an application's registry with
 * `Registry.merge([processMetricsRegistry(), …])`; never register application metrics on this one.
 */
export function processMetricsRegistry(): Registry {
  if (shared) return shared;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'process_uptime_seconds',
    help: 'Seconds since the process started',
    registers: [registry],
    collect() {
      this.set(process.uptime());
    },
  });
  shared = registry;
  return registry;
}
