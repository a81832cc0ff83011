/**
 * `GET /devices/{device_id}/track` on the real stack, over rows written into the warehouse table: the GeoJSON
 * shape with positions as [longitude, latitude], the range bounds and defaults, thinning with a small limit
 * (checked by hand and against the pure rule of `core/track-thinning.ts`), empty answers and 400s naming the
 * parameter. Every device has its own id, so the cases do not see each other's rows.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { WindowAggregate } from '../../src/core/results.js';
import { thinWindows } from '../../src/core/track-thinning.js';
import { type ApiStack, startApiStack } from './support.js';

let stack: ApiStack;
const base = 1_772_288_700_000;

const get = (path: string, init?: RequestInit) => stack.fetchJson(path, init);

/** A stored window of `deviceId` starting at `windowStart`, at (latitude, longitude). */
function storedWindow(deviceId: string, windowStart: number, latitude = 9, longitude = 107): WindowAggregate {
  return {
    id: `${deviceId}_${windowStart}_${windowStart + 2000}`,
    device_id: deviceId,
    window_start: windowStart,
    window_end: windowStart + 2000,
    latitude,
    longitude,
    distance: 0.5,
    event_ts: windowStart + 1500,
    event_count: 2,
    avg_temp: 25.5,
    avg_sound: 40.25,
    avg_alt: 1500.5,
  };
}

interface Feature {
  type: 'Feature';
  geometry: { type: 'LineString' | 'Point'; coordinates: unknown };
  properties: Record<string, unknown>;
}
interface Collection {
  type: 'FeatureCollection';
  features: Feature[];
}

const starts = (body: unknown) =>
  (body as Collection).features
    .filter((f) => f.geometry.type === 'Point')
    .map((f) => f.properties['window_start'] as number);

// dev-t1 walks north-east: window i at (9 + i/1000, 107 + i/100).
const walk = Array.from({ length: 5 }, (_, i) => storedWindow('dev-t1', base + i * 2000, 9 + i / 1000, 107 + i / 100));
// dev-t3: 20 windows every 2 s, then silent for 100 s, then 10 more.
const gappy = [
  ...Array.from({ length: 20 }, (_, i) => storedWindow('dev-t3', base + i * 2000)),
  ...Array.from({ length: 10 }, (_, i) => storedWindow('dev-t3', base + 138_000 + i * 2000)),
];

// dev-t2: windows 2 h, 30 min and 10 s before the tests start.
const startedAt = Date.now();
const recent = [2 * 3_600_000, 1_800_000, 10_000].map((ago) => {
  const at = startedAt - ago;
  return storedWindow('dev-t2', at - (at % 2000));
});

beforeAll(async () => {
  stack = await startApiStack();
  await stack.insertWarehouseWindows([
    storedWindow('dev-t1', base - 2000, 8, 106), // before `from`
    ...walk,
    storedWindow('dev-t1', base + 10_000, 8, 106), // at `to`: the bound is exclusive
    storedWindow('dev-other', base + 2000, 1, 2),
    ...recent,
    ...gappy,
    storedWindow('dev-t4', base),
  ]);
});

describe('GET /devices/{device_id}/track', () => {
  it('answers a GeoJSON FeatureCollection: the LineString, then one Point per window, [longitude, latitude]', async () => {
    const { status, body, res } = await get(`/devices/dev-t1/track?from=${base}&to=${base + 10_000}`);
    expect(status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/geo+json');
    expect(body).toEqual({
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          geometry: {
            type: 'LineString',
            coordinates: [
              [107, 9],
              [107.01, 9.001],
              [107.02, 9.002],
              [107.03, 9.003],
              [107.04, 9.004],
            ],
          },
          properties: {
            device_id: 'dev-t1',
            from: base,
            to: base + 10_000,
            windows: 5,
            points: 5,
            thinned: false,
            limit: 2000,
          },
        },
        ...[0, 1, 2, 3, 4].map((i) => ({
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [107 + i / 100, 9 + i / 1000] },
          properties: {
            id: `dev-t1_${base + i * 2000}_${base + i * 2000 + 2000}`,
            window_start: base + i * 2000,
            window_end: base + i * 2000 + 2000,
            event_ts: base + i * 2000 + 1500,
            event_count: 2,
            avg_temp: 25.5,
            avg_sound: 40.25,
            avg_alt: 1500.5,
            distance: 0.5,
          },
        })),
      ],
    });
  });

  it('answers the same body as application/json when Accept asks for JSON only', async () => {
    const path = `/devices/dev-t1/track?from=${new Date(base).toISOString()}&to=${base + 10_000}`;
    const geo = await get(path);
    const json = await get(path, { headers: { accept: 'application/json' } });
    expect(json.res.headers.get('content-type')).toBe('application/json');
    expect(json.body).toEqual(geo.body);
    const both = await get(path, { headers: { accept: 'application/geo+json, application/json;q=0.9' } });
    expect(both.res.headers.get('content-type')).toBe('application/geo+json');
  });

  it('reads the last hour by default, and the hour before `to` when only `to` is given', async () => {
    const before = Date.now();
    const { body } = await get('/devices/dev-t2/track');
    const after = Date.now();
    const line = (body as Collection).features[0] as Feature;
    const { from, to } = line.properties as { from: number; to: number };
    expect(to).toBeGreaterThanOrEqual(before);
    expect(to).toBeLessThanOrEqual(after);
    expect(from).toBe(to - 3_600_000);
    // The windows 30 min and 10 s ago; not the one 2 h ago.
    const [, halfHourAgo, secondsAgo] = recent.map((w) => w.window_start);
    expect(starts(body)).toEqual([halfHourAgo, secondsAgo]);
    expect(line.properties).toMatchObject({ windows: 2, points: 2, thinned: false });
    const earlier = await get(`/devices/dev-t2/track?to=${secondsAgo}`);
    expect(starts(earlier.body)).toEqual([halfHourAgo]);
  });

  it('thins past the limit to real windows evenly spread in time, the first and the last kept', async () => {
    const { body } = await get(`/devices/dev-t3/track?from=${base}&to=${base + 200_000}&limit=4`);
    // Samples at 0, 52, 104 and 156 s: the windows at 0, 138 (the first after the silence, twice) and 156 s.
    expect(starts(body)).toEqual([base, base + 138_000, base + 156_000]);
    const line = (body as Collection).features[0] as Feature;
    expect(line.geometry.coordinates).toEqual([
      [107, 9],
      [107, 9],
      [107, 9],
    ]);
    expect(line.properties).toMatchObject({ windows: 30, points: 3, thinned: true, limit: 4 });
    const first20 = await get(`/devices/dev-t3/track?from=${base}&to=${base + 40_000}&limit=4`);
    // Samples at 0, 12.67, 25.33 and 38 s: the windows at 0, 14, 26 and 38 s.
    expect(starts(first20.body)).toEqual([base, base + 14_000, base + 26_000, base + 38_000]);
  });

  it('keeps the windows the pure thinning rule keeps, for every limit', async () => {
    for (let limit = 2; limit <= 31; limit++) {
      const { body } = await get(`/devices/dev-t3/track?from=${base}&to=${base + 200_000}&limit=${limit}`);
      expect({ limit, starts: starts(body) }).toEqual({
        limit,
        starts: thinWindows(gappy, limit).map((w) => w.window_start),
      });
    }
  });

  it('answers an empty range or an unknown device with no features, and one window without a LineString', async () => {
    const empty = { type: 'FeatureCollection', features: [] };
    expect(await get(`/devices/dev-t1/track?from=${base + 100_000}&to=${base + 200_000}`)).toMatchObject({
      status: 200,
      body: empty,
    });
    expect(await get(`/devices/nobody/track?from=${base}&to=${base + 10_000}`)).toMatchObject({
      status: 200,
      body: empty,
    });
    const one = await get(`/devices/dev-t4/track?from=${base}&to=${base + 10_000}`);
    expect((one.body as Collection).features.map((f) => f.geometry)).toEqual([
      { type: 'Point', coordinates: [107, 9] },
    ]);
  });

  it.each([
    ['from=yesterday', 'from'],
    ['to=12:00', 'to'],
    [`from=${base}&to=${base}`, 'from'],
    [`from=${base + 1000}&to=${base}`, 'from'],
    [`from=${Date.now() + 60_000}`, 'from'],
    [`from=${base}&to=${base + 31 * 86_400_000 + 1}`, 'from'],
    [`from=${Date.now() - 32 * 86_400_000}`, 'from'],
    ['limit=1', 'limit'],
    ['limit=10001', 'limit'],
    ['limit=abc', 'limit'],
  ])('rejects %s with 400 naming %s', async (query, field) => {
    const { status, body } = await get(`/devices/dev-t1/track?${query}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining(field) } });
    expect((body as { error: { details: { field: string }[] } }).error.details[0]?.field).toBe(field);
  });

  it('accepts a range of exactly 31 days, and rejects an invalid device id naming the path parameter', async () => {
    expect((await get(`/devices/dev-t1/track?from=${base}&to=${base + 31 * 86_400_000}`)).status).toBe(200);
    const { status, body } = await get('/devices/a%20b/track');
    expect(status).toBe(400);
    expect(body).toMatchObject({
      error: { message: 'invalid path parameter: device_id', details: [{ field: 'device_id' }] },
    });
  });
});
