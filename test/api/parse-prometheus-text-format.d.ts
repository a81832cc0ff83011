/**
 * Types for `parse-prometheus-text-format` (it ships none): the parser the metrics tests use to read `/metrics`
 * independently of prom-client. Values stay strings as written on the wire.
 */
declare module 'parse-prometheus-text-format' {
  namespace parsePrometheusTextFormat {
    interface ParsedSample {
      value?: string;
      labels?: Record<string, string>;
      /** Histograms: cumulative count per `le` bound, `+Inf` included. */
      buckets?: Record<string, string>;
      quantiles?: Record<string, string>;
      count?: string;
      sum?: string;
    }

    interface ParsedFamily {
      name: string;
      help: string;
      type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
      metrics: ParsedSample[];
    }
  }

  function parsePrometheusTextFormat(text: string): parsePrometheusTextFormat.ParsedFamily[];
  export = parsePrometheusTextFormat;
}
