import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HTTP_LATENCY_BOUNDS, histogramSeries, parseFamilies } from '../../../test/api/prometheus-text.js';
import { createHttpMetrics } from './http-metrics.js';

function appWithMetrics() {
  const registry = new Registry();
  const app = new Hono();
  app.use('*', createHttpMetrics(registry).middleware);
  // Answers a thrown error quietly (Hono's default handler logs it).
  app.onError((_err, c) => c.text('failed', 500));
  app.get('/devices/:id', (c) => c.json({ id: c.req.param('id') }));
  app.get('/slow', async (c) => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return c.text('done');
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  return { app, registry };
}

describe('createHttpMetrics', () => {
  it('counts requests per method, route pattern and status, never per raw URL', async () => {
    const { app, registry } = appWithMetrics();
    await app.request('/devices/a');
    await app.request('/devices/b?limit=3');
    await app.request('/devices/c', { method: 'POST' });
    await app.request('/nope/at/all');
    await app.request('/boom');
    const requests = parseFamilies(await registry.metrics()).get('http_requests_total');
    expect(requests?.type).toBe('COUNTER');
    expect(requests?.help).toBe('HTTP requests by method, route pattern and status');
    expect(requests?.metrics).toEqual(
      expect.arrayContaining([
        { value: '2', labels: { method: 'GET', route: '/devices/:id', status: '200' } },
        { value: '1', labels: { method: 'POST', route: 'unmatched', status: '404' } },
        { value: '1', labels: { method: 'GET', route: 'unmatched', status: '404' } },
        { value: '1', labels: { method: 'GET', route: '/boom', status: '500' } },
      ]),
    );
    expect(requests?.metrics).toHaveLength(4);
  });

  it('observes latency in the 1 ms … 10 s buckets per method and route pattern', async () => {
    const { app, registry } = appWithMetrics();
    await app.request('/devices/a');
    await app.request('/devices/b');
    await app.request('/slow');
    const text = await registry.metrics();
    const duration = parseFamilies(text).get('http_request_duration_seconds');
    expect(duration?.type).toBe('HISTOGRAM');
    expect(duration?.help).toBe('HTTP request duration in seconds (to the first byte for SSE)');
    const series = histogramSeries(text, 'http_request_duration_seconds');
    expect(series.map((s) => s.labels)).toEqual([
      { method: 'GET', route: '/devices/:id' },
      { method: 'GET', route: '/slow' },
    ]);
    // `le` last, as /metrics wrote it before prom-client (prom-client alone writes it first).
    expect(text).toContain('\nhttp_request_duration_seconds_bucket{method="GET",route="/devices/:id",le="0.001"} ');
    expect(text).toContain('\nhttp_request_duration_seconds_bucket{method="GET",route="/slow",le="+Inf"} 1\n');
    expect(text).toContain('\nhttp_request_duration_seconds_count{method="GET",route="/slow"} 1\n');
    const [devices, slow] = series;
    expect(Object.keys(devices?.buckets ?? {}).sort()).toEqual([...HTTP_LATENCY_BOUNDS].sort());
    expect(devices?.count).toBe('2');
    expect(devices?.buckets?.['+Inf']).toBe('2');
    // The slow route slept 30 ms: not within 25 ms, within 10 s.
    expect(slow?.buckets?.['0.025']).toBe('0');
    expect(slow?.buckets?.['10']).toBe('1');
    expect(Number(slow?.sum)).toBeGreaterThanOrEqual(0.025);
  });
});
