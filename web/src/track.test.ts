import { describe, expect, it } from 'vitest';
import { parseTrack, replayIndex, trackQuery } from './track.js';

/** A small stand-in for `GET /devices/dev-1/track`, shaped by its contract. */
const body = {
  type: 'FeatureCollection',
  features: [
    {
      type: 'Feature',
      geometry: {
        type: 'LineString',
        coordinates: [
          [107, 9],
          [107.001, 9.002],
          [107.003, 9.001],
        ],
      },
      properties: { device_id: 'dev-1', from: 0, to: 10_000, windows: 9, points: 3, thinned: true, limit: 3 },
    },
    ...[
      [4000, 107.003, 9.001],
      [0, 107, 9],
      [2000, 107.001, 9.002],
    ].map(([start, lon, lat]) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [lon, lat] },
      properties: {
        id: `dev-1_${start}_${(start as number) + 2000}`,
        window_start: start,
        window_end: (start as number) + 2000,
        event_ts: (start as number) + 1500,
        event_count: 5,
        avg_temp: 25,
        avg_sound: 40,
        avg_alt: 1500,
        distance: 0.1,
      },
    })),
  ],
};

describe('the track', () => {
  it('reads the LineString and the windows in time order, with the thinning facts', () => {
    const track = parseTrack(body, 'dev-1');
    expect(track.line).toEqual([
      [107, 9],
      [107.001, 9.002],
      [107.003, 9.001],
    ]);
    expect(track.points.map((p) => p.window_start)).toEqual([0, 2000, 4000]);
    expect(track.points[1]).toMatchObject({ latitude: 9.002, longitude: 107.001, event_count: 5 });
    expect(track).toMatchObject({ thinned: true, windows: 9, limit: 3 });
  });

  it('accepts a track without a LineString (fewer than two points) and refuses other shapes', () => {
    const single = parseTrack({ type: 'FeatureCollection', features: body.features.slice(1, 2) }, 'dev-1');
    expect(single.line).toEqual([]);
    expect(single.points).toHaveLength(1);
    expect(() => parseTrack({ type: 'Feature' }, 'dev-1')).toThrow(/FeatureCollection/);
    const broken = structuredClone(body);
    (broken.features[1] as { properties: Record<string, unknown> }).properties['avg_temp'] = 'warm';
    expect(() => parseTrack(broken, 'dev-1')).toThrow(/avg_temp/);
  });

  it('finds the replay head: the last window started at or before a time', () => {
    const { points } = parseTrack(body, 'dev-1');
    expect([-1, 0, 1999, 2000, 99_999].map((t) => replayIndex(points, t))).toEqual([-1, 0, 0, 1, 2]);
  });

  it('queries the server default without times, and epoch ms with them', () => {
    expect(trackQuery('', '')).toBe('');
    const from = '2026-01-02T03:04:05';
    expect(trackQuery(from, '')).toBe(`?from=${new Date(from).getTime()}`);
  });
});
