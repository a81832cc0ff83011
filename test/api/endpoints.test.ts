/**
 * The four documented endpoints on the real stack (Kafka → embedded stream layer, PostgreSQL warehouse), with
 * valid and invalid input, plus the operations endpoints and the cross-cutting HTTP behaviour.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeviceLatest, WindowAggregate } from '../../src/core/results.js';
import {
  type ApiStack,
  followNextLinks,
  latestRecord,
  SHORT_TIMEOUTS,
  startApiStack,
  windowRecord,
} from './support.js';

let stack: ApiStack;
const base = 1_772_288_700_000;

const get = (path: string, init?: RequestInit) => stack.fetchJson(path, init);

beforeAll(async () => {
  stack = await startApiStack({
    ...SHORT_TIMEOUTS,
    BODY_LIMIT_BYTES: '1024',
    CORS_ORIGINS: 'https://ui.example',
  });
  // dev-1: 12 windows, the 3rd one revised (EMIT CHANGES); dev-2: 1 window.
  const records = Array.from({ length: 12 }, (_, i) => windowRecord('dev-1', base + i * 2000));
  records.push(windowRecord('dev-1', base + 2 * 2000, { EVENT_COUNT: 2, EVENT_TS: base + 2 * 2000 + 1900 }));
  records.push(windowRecord('dev-2', base));
  await stack.produceWindows(records);
  await stack.produceLatest('dev-2', latestRecord(base + 5));
  await stack.produceLatest('dev-1', latestRecord(base + 1, { TEMPERATURE: null, SOUND: null, ALTITUDE: null }));
  await stack.produceLatest('dev-1', latestRecord(base + 9));
  await stack.waitFor(async () => {
    const { body } = await get('/stream/raw?device_id=dev-1&limit=1000');
    const latest = (await get('/stream/latest')).body as DeviceLatest[];
    const rows = body as WindowAggregate[];
    return rows.length === 12 &&
      rows.find((r) => r.window_start === base + 4000)?.event_count === 2 &&
      latest[0]?.event_ts === base + 9
      ? true
      : undefined;
  });
  const warehouseRows = Array.from({ length: 25 }, (_, i) => ({
    id: `dev-1_${base + i * 2000}_${base + i * 2000 + 2000}`,
    device_id: 'dev-1',
    window_start: base + i * 2000,
    window_end: base + i * 2000 + 2000,
    latitude: 9.001,
    longitude: 107.002,
    distance: 0.25,
    event_ts: base + i * 2000 + 1500,
    event_count: 1,
    avg_temp: 25.5,
    avg_sound: 40.25,
    avg_alt: 1500.5,
  }));
  await stack.insertWarehouseWindows(warehouseRows);
  await stack.services
    .sql`insert into device_winagg_status_perdevice (device_id, latitude, longitude, distance, event_ts, temperature, sound, altitude)
    values ('dev-2', 9.01, 107.01, 1.5, ${base + 5}, 26, 41, 1600), ('dev-1', 9.01, 107.01, 1.5, ${base + 9}, null, null, null)`;
});

describe('GET /stream/raw', () => {
  it('returns the newest windows of dev-1 by default, limit 10, as an array with lower-case fields', async () => {
    const { status, body, res } = await get('/stream/raw');
    expect(status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const rows = body as WindowAggregate[];
    expect(rows).toHaveLength(10);
    expect(rows[0]?.window_start).toBe(base + 11 * 2000);
    expect(rows.map((r) => r.window_start)).toEqual([...rows.map((r) => r.window_start)].sort((a, b) => b - a));
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual([
      'avg_alt',
      'avg_sound',
      'avg_temp',
      'device_id',
      'distance',
      'event_count',
      'event_ts',
      'id',
      'latitude',
      'longitude',
      'window_end',
      'window_start',
    ]);
    expect(rows.find((r) => r.window_start === base + 4000)).toMatchObject({
      event_count: 2,
      id: `dev-1_${base + 4000}_${base + 6000}`,
    });
  });

  it('answers one row as an array, an unknown device with []', async () => {
    expect((await get('/stream/raw?device_id=dev-2')).body).toHaveLength(1);
    expect((await get('/stream/raw?device_id=dev-1&limit=1')).body).toHaveLength(1);
    expect(await get('/stream/raw?device_id=nobody')).toMatchObject({ status: 200, body: [] });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=2.5', 'limit'],
    ['device_id=%27%3B%20DROP', 'device_id'],
    ['device_id=', 'device_id'],
  ])('rejects %s with 400 naming %s', async (query, field) => {
    const { status, body } = await get(`/stream/raw?${query}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining(field) } });
    expect((body as { error: { details: { field: string }[] } }).error.details[0]?.field).toBe(field);
  });
});

describe('GET /stream/latest', () => {
  it('returns every device, ordered, with the newest state and nulls kept', async () => {
    const { status, body } = await get('/stream/latest');
    expect(status).toBe(200);
    const rows = body as DeviceLatest[];
    expect(rows.map((r) => r.device_id)).toEqual(['dev-1', 'dev-2']);
    expect(rows[0]).toEqual({
      device_id: 'dev-1',
      latitude: 9.01,
      longitude: 107.01,
      distance: 1.5,
      event_ts: base + 9,
      temperature: 26,
      sound: 41,
      altitude: 1600,
    });
  });

  it('forgets a device after a tombstone', async () => {
    await stack.produceLatest('dev-9', latestRecord(base));
    await stack.waitFor(
      async () =>
        ((await get('/stream/latest')).body as DeviceLatest[]).some((r) => r.device_id === 'dev-9') || undefined,
    );
    await stack.produceLatest('dev-9', null);
    await stack.waitFor(
      async () =>
        !((await get('/stream/latest')).body as DeviceLatest[]).some((r) => r.device_id === 'dev-9') || undefined,
    );
  });
});

describe('GET /stream/postgresql/raw', () => {
  it('returns the same fields as the stream variant, newest first, default limit 10', async () => {
    const { status, body, res } = await get('/stream/postgresql/raw');
    expect(status).toBe(200);
    const rows = body as WindowAggregate[];
    expect(rows).toHaveLength(10);
    expect(rows[0]?.window_start).toBe(base + 24 * 2000);
    const stream = (await get('/stream/raw?limit=1')).body as WindowAggregate[];
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(Object.keys(stream[0] ?? {}).sort());
    expect(res.headers.get('x-next-cursor')).toBeTruthy();
  });

  it('pages through the whole history with the cursor, without overlap', async () => {
    const pages = await followNextLinks<WindowAggregate>(stack.url, '/stream/postgresql/raw?device_id=dev-1&limit=7');
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 4]);
    expect(pages.flat().map((r) => r.window_start)).toEqual(
      Array.from({ length: 25 }, (_, i) => base + (24 - i) * 2000),
    );
  });

  it('filters by from/to in epoch ms and ISO 8601', async () => {
    const from = base + 10 * 2000;
    const to = new Date(base + 13 * 2000).toISOString();
    const { body, res } = await get(`/stream/postgresql/raw?from=${from}&to=${to}&limit=100`);
    expect((body as WindowAggregate[]).map((r) => r.window_start)).toEqual([base + 24000, base + 22000, base + 20000]);
    expect(res.headers.get('x-next-cursor')).toBeNull();
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=5000', 'limit'],
    ['from=yesterday', 'from'],
    ['to=12:00', 'to'],
    ['from=2000&to=1000', 'from'],
    ['cursor=not-a-cursor', 'cursor'],
    ['device_id=a%20b', 'device_id'],
  ])('rejects %s with 400 naming %s', async (query, field) => {
    const { status, body } = await get(`/stream/postgresql/raw?${query}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining(field) } });
  });

  it('refuses a cursor of another device and answers [] for an unknown device', async () => {
    const { res } = await get('/stream/postgresql/raw?device_id=dev-1&limit=1');
    const cursor = res.headers.get('x-next-cursor');
    expect((await get(`/stream/postgresql/raw?device_id=dev-2&cursor=${cursor}`)).status).toBe(400);
    expect(await get('/stream/postgresql/raw?device_id=nobody')).toMatchObject({ status: 200, body: [] });
  });
});

describe('GET /stream/postgresql/latest', () => {
  it('returns one row per device with the same fields as /stream/latest', async () => {
    const { status, body } = await get('/stream/postgresql/latest');
    expect(status).toBe(200);
    const rows = body as DeviceLatest[];
    expect(rows.map((r) => r.device_id)).toEqual(['dev-1', 'dev-2']);
    expect(rows[0]).toEqual({
      device_id: 'dev-1',
      latitude: 9.01,
      longitude: 107.01,
      distance: 1.5,
      event_ts: base + 9,
      temperature: null,
      sound: null,
      altitude: null,
    });
    const stream = (await get('/stream/latest')).body as DeviceLatest[];
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(Object.keys(stream[0] ?? {}).sort());
  });
});

describe('operations and HTTP behaviour', () => {
  it('reports readiness with the engine, and serves Prometheus metrics', async () => {
    const ready = await get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      checks: { kafka: { ok: true }, postgresql: { ok: true }, engine: { ok: true } },
    });
    const metrics = await fetch(`${stack.url}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toMatch(
      /# TYPE http_requests_total counter\nhttp_requests_total\{method="GET",route="\/stream\/raw",status="200"\} \d+/,
    );
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toMatch(/http_request_duration_seconds_bucket\{method="GET",route="\/stream\/raw",le="\+Inf"\} \d+/);
    expect(text).toMatch(/\nsse_clients \d+\n/);
    expect(text).toMatch(/\nstream_layer_records_total \d+\n/);
  });

  it('answers unknown routes with the envelope, sets request ids and CORS headers, and limits bodies', async () => {
    const missing = await get('/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'NOT_FOUND', request_id: expect.any(String) } });
    expect(missing.res.headers.get('x-request-id')).toBe(
      (missing.body as { error: { request_id: string } }).error.request_id,
    );
    const cors = await get('/stream/latest', { headers: { origin: 'https://ui.example' } });
    expect(cors.res.headers.get('access-control-allow-origin')).toBe('https://ui.example');
    expect(cors.res.headers.get('access-control-expose-headers')).toContain('X-Next-Cursor');
    const other = await get('/stream/latest', { headers: { origin: 'https://evil.example' } });
    expect(other.res.headers.get('access-control-allow-origin')).toBeNull();
    // Any page could otherwise start simulations that write into the production topics.
    const start = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration_ms":1}' };
    const forged = await get('/simulate', { ...start, headers: { ...start.headers, origin: 'https://evil.example' } });
    expect(forged.status).toBe(403);
    expect(forged.body).toMatchObject({ error: { code: 'FORBIDDEN', details: { origin: 'https://evil.example' } } });
    const stop = await get('/simulate', { method: 'DELETE', headers: { origin: 'https://evil.example' } });
    expect(stop.status).toBe(403);
    // A listed origin, and the app's own pages (same origin), may.
    const listed = await get('/simulate', { ...start, headers: { ...start.headers, origin: 'https://ui.example' } });
    expect(listed.status).toBe(202);
    await get('/simulate', { method: 'DELETE' });
    const own = await get('/simulate', { ...start, headers: { ...start.headers, origin: stack.url } });
    expect(own.status).toBe(202);
    await get('/simulate', { method: 'DELETE', headers: { origin: stack.url } });
    const tooLong = await get('/simulate', { ...start, body: '{"duration_ms":172800000}' });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toMatchObject({ error: { code: 'UNPROCESSABLE', details: { field: 'duration_ms' } } });
    const tooMany = await get('/simulate', { ...start, body: '{"max_events":1000000000}' });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body).toMatchObject({ error: { details: { field: 'max_events', limit: 100_000_000 } } });
    const big = await get('/simulate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(5000) }),
    });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('answers 503 naming PostgreSQL when the warehouse is unreachable, without internals', async () => {
    const { createWarehouseReader } = await import('../../src/warehouse-reader/warehouse-reader.js');
    const { createDatabase } = await import('../../src/sink/database.js');
    const { createApi } = await import('../../src/api/app.js');
    const dead = createDatabase({ url: 'postgres://telemetry@127.0.0.1:1/telemetry', poolMax: 1 });
    const api = createApi({ ...stack.services, warehouse: createWarehouseReader({ sql: dead }) });
    for (const path of ['/stream/postgresql/latest', '/stream/postgresql/raw', '/devices/dev-1/track', '/alerts']) {
      const res = await api.request(path);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: { code: string; message: string; details: unknown } };
      expect(body.error).toMatchObject({ code: 'UNAVAILABLE', details: { dependency: 'postgresql' } });
      expect(body.error.message).not.toMatch(/ECONNREFUSED|at |\.ts|select/);
    }
    await dead.end({ timeout: 1 });
  });

  it('reports 503 naming the engine while the stream layer is not ready', async () => {
    const { createApi } = await import('../../src/api/app.js');
    const { AppError } = await import('../../src/errors.js');
    const api = createApi({
      ...stack.services,
      readiness: [
        ...stack.services.readiness.filter((r) => r.name !== 'engine'),
        {
          name: 'engine',
          check: () => Promise.reject(new AppError('UNAVAILABLE', 'stream layer is still reading its topics')),
        },
      ],
    });
    const res = await api.request('/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: 'not_ready',
      checks: { engine: { ok: false, message: 'stream layer is still reading its topics' }, kafka: { ok: true } },
    });
  });

  it('times out a slow non-streaming request with 504 TIMEOUT', async () => {
    const { createApi } = await import('../../src/api/app.js');
    const slow = { ...stack.services.streamLayer, listLatest: () => new Promise<never>(() => undefined) };
    const api = createApi({ ...stack.services, streamLayer: slow });
    const res = await api.request('/stream/latest');
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { code: 'TIMEOUT' } });
  });

  it('serves the OpenAPI 3.1 document and the docs UI', async () => {
    const doc = (await get('/openapi.json')).body as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/stream/raw',
      '/stream/latest',
      '/stream/postgresql/raw',
      '/stream/postgresql/latest',
      '/devices/{device_id}/track',
      '/stream/latest/events',
      '/stream/raw/events',
      '/alerts',
      '/alerts/active',
      '/alerts/events',
      '/alerts/rules',
      '/health',
      '/ready',
      '/metrics',
    ]) {
      expect(doc.paths).toHaveProperty([path]);
    }
    const docs = await fetch(`${stack.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('/openapi.json');
  });

  it('serves the docs UI without a CDN: the page names only its own paths, the app serves the script', async () => {
    const html = await (await fetch(`${stack.url}/docs`)).text();
    // No absolute URL anywhere in the page (script, config, styles), so nothing is loaded from another host.
    expect(html).not.toMatch(/https?:|\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    expect([...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1])).toEqual(['/docs/assets/api-reference.js']);
    expect(html).toContain('"url": "/openapi.json"');
    expect(html).toContain('"withDefaultFonts": false');

    const script = await fetch(`${stack.url}/docs/assets/api-reference.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const source = await script.text();
    expect(source).toMatch(/@scalar\/api-reference \d+\.\d+\.\d+/);
    expect(source).toContain('createApiReference');
    expect(source.length).toBeGreaterThan(1_000_000);
    // fetch asks for gzip and decompresses it: the same text, about a third of the bytes on the wire.
    expect(script.headers.get('content-encoding')).toBe('gzip');
    const etag = script.headers.get('etag') ?? '';
    const unchanged = await fetch(`${stack.url}/docs/assets/api-reference.js`, { headers: { 'if-none-match': etag } });
    expect(unchanged.status).toBe(304);
    const plain = await fetch(`${stack.url}/docs/assets/api-reference.js`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(source);
  });
});
