import { describe, expect, it } from 'vitest';
import { type MetricSample, renderPrometheus } from './metrics.js';

describe('renderPrometheus', () => {
  it('groups samples into families with one HELP/TYPE each, escapes labels and skips failing sources', () => {
    const errors: unknown[] = [];
    const text = renderPrometheus(
      [
        { metrics: () => [{ name: 'a_total', help: 'A', type: 'counter', value: 1, labels: { path: 'x"y\\z' } }] },
        {
          metrics: () => {
            throw new Error('broken');
          },
        },
        {
          metrics: (): MetricSample[] => [
            { name: 'a_total', help: 'A', type: 'counter', value: 2, labels: { path: 'b' } },
            { name: 'lat_seconds_bucket', help: 'L', type: 'histogram', value: 3, labels: { le: '+Inf' } },
            { name: 'lat_seconds_count', help: 'L', type: 'histogram', value: 3 },
          ],
        },
      ],
      (err) => errors.push(err),
    );
    expect(text).toBe(
      [
        '# HELP a_total A',
        '# TYPE a_total counter',
        'a_total{path="x\\"y\\\\z"} 1',
        'a_total{path="b"} 2',
        '# HELP lat_seconds L',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{le="+Inf"} 3',
        'lat_seconds_count 3',
        '',
      ].join('\n'),
    );
    expect(errors).toHaveLength(1);
  });
});
