import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseFamilies as families } from '../../test/api/prometheus-text.js';
import { createMetricsRegistry, type MetricSample, type MetricsSource } from './metrics.js';

const broken: MetricsSource = {
  metrics: () => {
    throw new Error('broken');
  },
};

describe('createMetricsRegistry', () => {
  it('groups source samples into families with one HELP/TYPE each, escapes labels and skips failing sources', async () => {
    const errors: unknown[] = [];
    const metrics = createMetricsRegistry({
      sources: [
        { metrics: () => [{ name: 'a_total', help: 'A', type: 'counter', value: 1, labels: { path: 'x"y\\z' } }] },
        broken,
        {
          metrics: (): MetricSample[] => [
            { name: 'a_total', help: 'A', type: 'counter', value: 2, labels: { path: 'b' } },
            { name: 'lat_seconds_bucket', help: 'L', type: 'histogram', value: 1, labels: { le: '0.5' } },
            { name: 'lat_seconds_bucket', help: 'L', type: 'histogram', value: 3, labels: { le: '+Inf' } },
            { name: 'lat_seconds_sum', help: 'L', type: 'histogram', value: 2.25 },
            { name: 'lat_seconds_count', help: 'L', type: 'histogram', value: 3 },
            { name: 'odd_gauge', help: 'line one\nline two \\ end', type: 'gauge', value: Number.NaN },
            { name: 'inf_gauge', help: 'I', type: 'gauge', value: Number.POSITIVE_INFINITY },
          ],
        },
      ],
      onSourceError: (err) => errors.push(err),
    });
    const text = await metrics.scrape();
    expect(text).toContain(
      ['# HELP a_total A', '# TYPE a_total counter', 'a_total{path="x\\"y\\\\z"} 1', 'a_total{path="b"} 2'].join('\n'),
    );
    expect(text).toContain('# HELP odd_gauge line one\\nline two \\\\ end\n');
    const parsed = families(text);
    expect(parsed.get('a_total')).toEqual({
      name: 'a_total',
      help: 'A',
      type: 'COUNTER',
      metrics: [
        { value: '1', labels: { path: 'x"y\\z' } },
        { value: '2', labels: { path: 'b' } },
      ],
    });
    expect(parsed.get('lat_seconds')).toEqual({
      name: 'lat_seconds',
      help: 'L',
      type: 'HISTOGRAM',
      metrics: [{ buckets: { '0.5': '1', '+Inf': '3' }, sum: '2.25', count: '3' }],
    });
    expect(parsed.get('odd_gauge')).toMatchObject({ help: 'line one\nline two \\ end', type: 'GAUGE' });
    expect(Number(parsed.get('odd_gauge')?.metrics[0]?.value)).toBeNaN();
    expect(parsed.get('inf_gauge')?.metrics).toEqual([{ value: '+Inf' }]);
    expect(errors).toEqual([new Error('broken')]);
  });

  it('reads the sources at every scrape: current values, families that appear, families that go', async () => {
    let value = 1;
    let extra = false;
    let failing = false;
    const sources: MetricsSource[] = [
      {
        metrics: () => {
          if (failing) throw new Error('down');
          const samples: MetricSample[] = [{ name: 'changing', help: 'C', type: 'gauge', value }];
          if (extra) samples.push({ name: 'late_total', help: 'Late', type: 'counter', value: 7 });
          return samples;
        },
      },
    ];
    const metrics = createMetricsRegistry({ sources });
    expect(families(await metrics.scrape()).get('changing')?.metrics).toEqual([{ value: '1' }]);
    expect(families(await metrics.scrape()).has('late_total')).toBe(false);

    value = 5;
    extra = true;
    let parsed = families(await metrics.scrape());
    expect(parsed.get('changing')?.metrics).toEqual([{ value: '5' }]);
    expect(parsed.get('late_total')).toMatchObject({ type: 'COUNTER', metrics: [{ value: '7' }] });

    // A source pushed after the registry was made is read too (app.ts passes `services.metrics` itself).
    sources.push({ metrics: () => [{ name: 'pushed', help: 'P', type: 'gauge', value: 3 }] });
    failing = true;
    parsed = families(await metrics.scrape());
    expect(parsed.has('changing')).toBe(false);
    expect(parsed.has('late_total')).toBe(false);
    expect(parsed.get('pushed')?.metrics).toEqual([{ value: '3' }]);
    expect(parsed.has('process_resident_memory_bytes')).toBe(true);
  });

  it("reports a source family that takes the name of the application's own metric, and keeps the metric", async () => {
    const errors: unknown[] = [];
    const metrics = createMetricsRegistry({
      sources: [
        {
          metrics: () => [
            { name: 'own_total', help: 'Impostor', type: 'gauge', value: 99 },
            { name: 'process_resident_memory_bytes', help: 'Impostor', type: 'gauge', value: 1 },
            { name: 'fine', help: 'F', type: 'gauge', value: 1 },
          ],
        },
      ],
      onSourceError: (err) => errors.push(err),
    });
    new Counter({ name: 'own_total', help: 'Own', registers: [metrics.registry] }).inc(2);
    const parsed = families(await metrics.scrape());
    expect(parsed.get('own_total')).toEqual({
      name: 'own_total',
      help: 'Own',
      type: 'COUNTER',
      metrics: [{ value: '2' }],
    });
    expect(parsed.get('process_resident_memory_bytes')?.help).not.toBe('Impostor');
    expect(Number(parsed.get('process_resident_memory_bytes')?.metrics[0]?.value)).toBeGreaterThan(1);
    expect(parsed.get('fine')?.metrics).toEqual([{ value: '1' }]);
    expect(errors.map((e) => (e as Error).message)).toEqual([
      'metric family own_total is already registered by the application; skipped',
      'metric family process_resident_memory_bytes is already registered by the application; skipped',
    ]);
  });

  it('gives each application its own registry, every one with the process metrics', async () => {
    const one = createMetricsRegistry({ sources: [] });
    const two = createMetricsRegistry({ sources: [] });
    new Counter({ name: 'only_in_one_total', help: 'One', registers: [one.registry] }).inc();
    // The same name in another application's registry is no conflict.
    new Counter({ name: 'only_in_one_total', help: 'Two', registers: [two.registry] });
    const first = families(await one.scrape());
    const second = families(await two.scrape());
    expect(first.get('only_in_one_total')?.metrics).toEqual([{ value: '1' }]);
    expect(second.get('only_in_one_total')?.metrics).toEqual([{ value: '0' }]);
    for (const parsed of [first, second]) {
      expect(parsed.get('process_resident_memory_bytes')?.type).toBe('GAUGE');
      expect(parsed.get('nodejs_heap_size_used_bytes')?.type).toBe('GAUGE');
      expect(parsed.get('process_cpu_seconds_total')?.type).toBe('COUNTER');
      expect(parsed.get('process_start_time_seconds')?.type).toBe('GAUGE');
      const uptime = parsed.get('process_uptime_seconds');
      expect(uptime?.type).toBe('GAUGE');
      expect(Number(uptime?.metrics[0]?.value)).toBeGreaterThan(0);
      // Renamed to the standard name (docs/api.md); the old one is not reported twice.
      expect(parsed.has('nodejs_heap_used_bytes')).toBe(false);
    }
    expect(one.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
