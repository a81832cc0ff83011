/**
 * HTTP request metrics: a counter per (method, route, status) and a latency histogram per (method, route).
 * Routes are the registered patterns (`/stream/raw`), never raw URLs, so label cardinality stays bounded.
 * SSE requests count when their response starts (their duration is the time to first byte).
 */
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { MetricSample, MetricsSource } from '../../observability/metrics.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export interface HttpMetrics extends MetricsSource {
  middleware: MiddlewareHandler;
}

export function createHttpMetrics(): HttpMetrics {
  const requests = new Map<string, number>();
  const latency = new Map<string, Histogram>();

  function observe(method: string, route: string, status: number, seconds: number) {
    const key = `${method}\u0000${route}\u0000${status}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
    const hkey = `${method}\u0000${route}`;
    let h = latency.get(hkey);
    if (!h) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      latency.set(hkey, h);
    }
    for (let i = 0; i < BUCKETS.length; i++)
      if (seconds <= (BUCKETS[i] as number)) h.counts[i] = (h.counts[i] as number) + 1;
    h.sum += seconds;
    h.count++;
  }

  return {
    middleware: async (c, next) => {
      const started = performance.now();
      try {
        await next();
      } finally {
        const routes = matchedRoutes(c);
        const matched = routes[c.req.routeIndex]?.path;
        const route =
          c.res.status === 404 && (!matched || matched === '*' || matched === '/*')
            ? 'unmatched'
            : (matched ?? 'unmatched');
        observe(c.req.method, route, c.res.status, (performance.now() - started) / 1000);
      }
    },
    metrics() {
      const samples: MetricSample[] = [];
      for (const [key, value] of requests) {
        const [method = '', route = '', status = ''] = key.split('\u0000');
        samples.push({
          name: 'http_requests_total',
          help: 'HTTP requests by method, route pattern and status',
          type: 'counter',
          value,
          labels: { method, route, status },
        });
      }
      for (const [key, h] of latency) {
        const [method = '', route = ''] = key.split('\u0000');
        const help = 'HTTP request duration in seconds (to the first byte for SSE)';
        BUCKETS.forEach((le, i) => {
          samples.push({
            name: 'http_request_duration_seconds_bucket',
            help,
            type: 'histogram',
            value: h.counts[i] as number,
            labels: { method, route, le: String(le) },
          });
        });
        samples.push({
          name: 'http_request_duration_seconds_bucket',
          help,
          type: 'histogram',
          value: h.count,
          labels: { method, route, le: '+Inf' },
        });
        samples.push({
          name: 'http_request_duration_seconds_sum',
          help,
          type: 'histogram',
          value: h.sum,
          labels: { method, route },
        });
        samples.push({
          name: 'http_request_duration_seconds_count',
          help,
          type: 'histogram',
          value: h.count,
          labels: { method, route },
        });
      }
      return samples;
    },
  };
}
