/**
 * Reading `/metrics` in tests with a parser independent of prom-client (`parse-prometheus-text-format`), which
 * also rejects lines that are not valid text exposition format.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export type ParsedFamily = parsePrometheusTextFormat.ParsedFamily;

export interface HistogramSeries {
  /** The series' labels, without `le`. */
  labels: Record<string, string>;
  /** Cumulative count per `le` bound, `+Inf` included. */
  buckets: Record<string, string>;
  sum: string | undefined;
  count: string | undefined;
}

/** Every family by name; a family that appears twice in the text is an error. */
export function parseFamilies(text: string): Map<string, ParsedFamily> {
  const byName = new Map<string, ParsedFamily>();
  for (const family of parsePrometheusTextFormat(text)) {
    if (byName.has(family.name)) throw new Error(`family ${family.name} appears more than once`);
    byName.set(family.name, family);
  }
  return byName;
}

/**
 * The series of histogram `family`, by their labels. The parser folds every series of a histogram into one
 * without labels (1.1.1, `flattenMetrics`), so the text is parsed again without its `# TYPE` lines: each
 * sample name (`<family>_bucket`, `_sum`, `_count`) is then an untyped family of its own, whose samples keep
 * their labels as the parser read them.
 */
export function histogramSeries(text: string, family: string): HistogramSeries[] {
  const untyped = parsePrometheusTextFormat(
    text
      .split('\n')
      .filter((line) => !line.startsWith('# TYPE '))
      .join('\n'),
  );
  const series = new Map<string, HistogramSeries>();
  const seriesOf = (labels: Record<string, string>) => {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    let entry = series.get(key);
    if (!entry) {
      entry = { labels, buckets: {}, sum: undefined, count: undefined };
      series.set(key, entry);
    }
    return entry;
  };
  for (const parsed of untyped) {
    for (const sample of parsed.metrics) {
      const { le, ...labels } = sample.labels ?? {};
      if (parsed.name === `${family}_bucket`) {
        if (le === undefined) throw new Error(`${family}_bucket sample without le`);
        seriesOf(labels).buckets[le] = sample.value ?? '';
      } else if (parsed.name === `${family}_sum`) {
        seriesOf(labels).sum = sample.value;
      } else if (parsed.name === `${family}_count`) {
        seriesOf(labels).count = sample.value;
      }
    }
  }
  return [...series.values()];
}

/** The `le` bounds the HTTP latency histogram is specified with (docs/api.md), in the text format's spelling. */
export const HTTP_LATENCY_BOUNDS = [
  '0.001',
  '0.0025',
  '0.005',
  '0.01',
  '0.025',
  '0.05',
  '0.1',
  '0.25',
  '0.5',
  '1',
  '2.5',
  '5',
  '10',
  '+Inf',
];
