/**
 * `/metrics` of the API on the real stack (Kafka → embedded stream layer, PostgreSQL), scraped over HTTP and
 * read with an independent parser: every family once with its type, the components' samples under their
 * names, the HTTP counter and histogram after a few requests, the process metrics, and a scrape that stays
 * whole when one source throws.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/app.js';
import { createLogger } from '../../src/observability/logger.js';
import type { MetricSample, MetricsSource } from '../../src/observability/metrics.js';
import { parseFamilies as families, HTTP_LATENCY_BOUNDS, histogramSeries } from './prometheus-text.js';
import { type ApiStack, startApiStack } from './support.js';

let stack: ApiStack;

const ROUTES = new Set([
  '/health',
  '/ready',
  '/metrics',
  '/openapi.json',
  '/docs',
  '/simulate',
  '/stream/raw',
  '/stream/latest',
  '/stream/postgresql/raw',
  '/stream/postgresql/latest',
  '/stream/latest/events',
  '/stream/raw/events',
  'unmatched',
]);

const familyName = (sample: MetricSample) =>
  sample.type === 'histogram' ? sample.name.replace(/_(bucket|sum|count)$/, '') : sample.name;

async function request(path: string) {
  const res = await fetch(`${stack.url}${path}`);
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  stack = await startApiStack();
});

describe('GET /metrics', () => {
  it('serves every family once, with its type, in the registry content type', async () => {
    const res = await fetch(`${stack.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const parsed = families(await res.text());

    // The components' sources, under the names and types they give (the names before prom-client).
    const sources = stack.services.metrics.flatMap((source) => source.metrics());
    expect(sources.map((s) => s.name)).toEqual(expect.arrayContaining(['sse_clients', 'stream_layer_records_total']));
    for (const sample of sources) {
      const family = parsed.get(familyName(sample));
      expect(family, sample.name).toMatchObject({ help: sample.help, type: sample.type.toUpperCase() });
      expect(
        family?.metrics.map((m) => m.labels ?? {}),
        sample.name,
      ).toContainEqual(sample.labels ?? {});
    }

    // Process metrics, standard names (docs/api.md lists the one rename).
    for (const [name, type] of [
      ['process_resident_memory_bytes', 'GAUGE'],
      ['nodejs_heap_size_used_bytes', 'GAUGE'],
      ['process_uptime_seconds', 'GAUGE'],
      ['process_cpu_seconds_total', 'COUNTER'],
      ['process_start_time_seconds', 'GAUGE'],
    ] as const) {
      expect(parsed.get(name)?.type, name).toBe(type);
      expect(Number(parsed.get(name)?.metrics[0]?.value), name).toBeGreaterThan(0);
    }
    // Measured after the scrape that asks for it (prom-client sets it in setImmediate): 0 on the first one.
    expect(parsed.get('nodejs_eventloop_lag_seconds')?.type).toBe('GAUGE');
    expect(parsed.get('http_requests_total')?.type).toBe('COUNTER');
    expect(parsed.get('http_request_duration_seconds')?.type).toBe('HISTOGRAM');
  });

  it('counts requests by route pattern and status, and observes their latency in the fixed buckets', async () => {
    for (let i = 0; i < 3; i++) expect(await request('/stream/latest')).toBe(200);
    expect(await request('/stream/raw?device_id=dev-metrics-1')).toBe(200);
    expect(await request('/stream/raw?device_id=dev-metrics-2&limit=5')).toBe(200);
    expect(await request('/stream/raw?limit=not-a-number')).toBe(400);
    expect(await request('/no/such/route/42')).toBe(404);
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    const parsed = families(text);

    const requests = parsed.get('http_requests_total');
    expect(requests?.help).toBe('HTTP requests by method, route pattern and status');
    const count = (labels: Record<string, string>) =>
      requests?.metrics.find((m) => JSON.stringify(m.labels) === JSON.stringify(labels))?.value;
    expect(count({ method: 'GET', route: '/stream/latest', status: '200' })).toBe('3');
    expect(count({ method: 'GET', route: '/stream/raw', status: '200' })).toBe('2');
    expect(count({ method: 'GET', route: '/stream/raw', status: '400' })).toBe('1');
    expect(count({ method: 'GET', route: 'unmatched', status: '404' })).toBe('1');
    for (const m of requests?.metrics ?? []) {
      expect(Object.keys(m.labels ?? {})).toEqual(['method', 'route', 'status']);
      expect(ROUTES, `route label ${m.labels?.['route']}`).toContain(m.labels?.['route']);
    }

    const duration = parsed.get('http_request_duration_seconds');
    expect(duration?.help).toBe('HTTP request duration in seconds (to the first byte for SSE)');
    const series = histogramSeries(text, 'http_request_duration_seconds');
    for (const m of series) {
      expect(Object.keys(m.labels).sort()).toEqual(['method', 'route']);
      expect(ROUTES).toContain(m.labels['route']);
      expect(Object.keys(m.buckets ?? {}).sort()).toEqual([...HTTP_LATENCY_BOUNDS].sort());
      const cumulative = HTTP_LATENCY_BOUNDS.map((le) => Number(m.buckets[le]));
      expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b));
      expect(m.buckets['+Inf']).toBe(m.count);
    }
    const latest = series.find((m) => m.labels['route'] === '/stream/latest');
    expect(latest?.labels).toEqual({ method: 'GET', route: '/stream/latest' });
    expect(latest?.count).toBe('3');
    expect(Number(latest?.sum)).toBeGreaterThan(0);
    expect(series.find((m) => m.labels['route'] === '/stream/raw')?.count).toBe('3');
  });

  it('keeps the other families when a source throws, and logs the failure', async () => {
    const lines: string[] = [];
    const broken: MetricsSource = {
      metrics: () => {
        throw new Error('source broke');
      },
    };
    const api = createApi({
      ...stack.services,
      logger: createLogger({ level: 'warn', destination: { write: (line: string) => lines.push(line) } }),
      metrics: [broken, ...stack.services.metrics],
    });
    const res = await api.request('/metrics');
    expect(res.status).toBe(200);
    const parsed = families(await res.text());
    for (const name of ['sse_clients', 'stream_layer_records_total', 'process_resident_memory_bytes']) {
      expect(parsed.has(name), name).toBe(true);
    }
    const failures = lines.map((line) => JSON.parse(line)).filter((log) => log.msg === 'metrics_source_failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 'warn', err: { message: 'source broke' } });
  });
});
