/**
 * The bridge from the components' pull-based `MetricsSource`s to a prom-client registry. The families a source
 * returns are known only when it is read (a simulator names `simulator_events_<outcome>_total` per outcome it
 * has seen), so `collect()` reads every source once per scrape and then makes the registry hold exactly the
 * families read: new ones are registered, gone ones removed, the others get the new values.
 */
import type { Metric, Registry } from 'prom-client';
import type { MetricSample, MetricsSource } from './metrics-source.js';

interface FamilyValue {
  /** The sample's own name: `<family>_bucket|_sum|_count` in a histogram family. */
  metricName: string;
  labels: Record<string, string>;
  value: number;
}

interface FamilyData {
  help: string;
  type: MetricSample['type'];
  values: FamilyValue[];
}

/**
 * One family as read at the last scrape, in the shape prom-client's registry serializes: it reads `name` and
 * calls `get()` for `{ name, help, type, values }` (prom-client 15 `lib/registry.js`, `getMetricsAsString`),
 * and `reset()` from `resetMetrics()`.
 */
class SourceFamily implements FamilyData {
  readonly aggregator = 'sum';
  help = '';
  type: MetricSample['type'] = 'gauge';
  values: FamilyValue[] = [];

  constructor(readonly name: string) {}

  get() {
    // Captured when the registry calls get(), which it does for every metric before it awaits anything: a
    // scrape that starts meanwhile cannot mix its values into this one.
    const { name, help, type, aggregator, values } = this;
    return Promise.resolve({ name, help, type, aggregator, values });
  }

  reset() {
    this.values = [];
  }
}

/** A histogram's samples are `<family>_bucket|_sum|_count`; the family is named without the suffix. */
const familyName = (sample: MetricSample) =>
  sample.type === 'histogram' ? sample.name.replace(/_(bucket|sum|count)$/, '') : sample.name;

export interface SourceFamilies {
  /**
   * Reads every source once and updates the registry to hold the families read. Call it right before
   * serializing the registry.
   */
  collect(): void;
}

/**
 * Serializes `sources` through `registry`: one family per name, with the help and type of the first sample
 * of that name, every sample's labels kept. A source that throws is skipped and reported through
 * `onSourceError`, so one broken component never empties the scrape; so is a family whose name the registry
 * already holds for a prom-client metric of the application (the HTTP metrics, the process metrics).
 *
 * `sources` is read at every `collect()`, so sources added to the array later are included.
 */
export function createSourceFamilies(
  registry: Registry,
  sources: readonly MetricsSource[],
  onSourceError: (err: unknown) => void,
): SourceFamilies {
  const families = new Map<string, SourceFamily>();

  function read(): Map<string, FamilyData> {
    const result = new Map<string, FamilyData>();
    for (const source of sources) {
      let samples: MetricSample[];
      try {
        samples = source.metrics();
      } catch (err) {
        onSourceError(err);
        continue;
      }
      for (const sample of samples) {
        const name = familyName(sample);
        let data = result.get(name);
        if (!data) {
          data = { help: sample.help, type: sample.type, values: [] };
          result.set(name, data);
        }
        data.values.push({ metricName: sample.name, labels: sample.labels ?? {}, value: sample.value });
      }
    }
    return result;
  }

  return {
    collect() {
      const current = read();
      for (const [name] of families) {
        if (current.has(name)) continue;
        registry.removeSingleMetric(name);
        families.delete(name);
      }
      for (const [name, data] of current) {
        let family = families.get(name);
        if (!family) {
          if (registry.getSingleMetric(name) !== undefined) {
            onSourceError(new Error(`metric family ${name} is already registered by the application; skipped`));
            continue;
          }
          family = new SourceFamily(name);
          // prom-client's typings name only its own four metric classes; the registry needs no more than the
          // shape SourceFamily has (see its comment).
          registry.registerMetric(family as unknown as Metric);
          families.set(name, family);
        }
        family.help = data.help;
        family.type = data.type;
        family.values = data.values;
      }
    },
  };
}
