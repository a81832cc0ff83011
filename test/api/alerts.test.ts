/**
 * The alert endpoints on the real stack: `GET /alerts` over rows the embedded sink's writer puts into
 * `device_alerts` (filters, order, paging, errors), and `GET /alerts/active` and `/alerts/events` over alert
 * records produced to the stack's device_alerts topic (read by the alert feed), and `GET /alerts/rules` against
 * the ALERT_* settings the stack was started with. Every expected value is written out here.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/app.js';
import type { AlertRecord } from '../../src/core/alerts/alert-record.js';
import { createBroadcaster } from '../../src/live/broadcaster.js';
import { connectSse, isEvent, type SseMessage } from './sse-client.js';
import { type ApiStack, followNextLinks, SHORT_TIMEOUTS, startApiStack } from './support.js';

let stack: ApiStack;
const base = 1_772_400_000_000;

const get = (path: string, init?: RequestInit) => stack.fetchJson(path, init);

/** The alert ids of every page of `/alerts?<query>`, passing each `X-Next-Cursor` back as `cursor`. */
async function collectByCursor(query: string): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: string = cursor === null ? '' : `&cursor=${cursor}`;
    const { status, body, res } = await get(`/alerts?${query}${page}`);
    expect(status).toBe(200);
    seen.push(...ids(body));
    cursor = res.headers.get('x-next-cursor');
  } while (cursor !== null);
  return seen;
}

const ids = (body: unknown) => (body as AlertRecord[]).map((a) => a.alert_id);
const data = <T>(m: SseMessage) => JSON.parse(m.data ?? 'null') as T;

/** An active alert opened at `openedAt`, with its id spelled out by the caller. */
function alert(
  alertId: string,
  type: AlertRecord['type'],
  metric: AlertRecord['metric'],
  openedAt: number,
  overrides: Partial<AlertRecord> = {},
): AlertRecord {
  const deviceId = alertId.split('/')[0] as string;
  return {
    alert_id: alertId,
    device_id: deviceId,
    type,
    metric,
    status: 'active',
    severity: 'warning',
    opened_at: openedAt,
    cleared_at: null,
    updated_at: openedAt,
    readings: 1,
    worst_value: type === 'inactive' ? null : 55.5,
    normal_min: metric === null ? null : 30,
    normal_max: metric === null ? null : 50,
    latitude: 9.25,
    longitude: 107.5,
    revision: 1,
    ...overrides,
  };
}

const cleared = (a: AlertRecord, clearedAt: number, revision: number): AlertRecord => ({
  ...a,
  status: 'cleared',
  cleared_at: clearedAt,
  updated_at: clearedAt,
  revision,
});

// The small set, newest opening first: A6, A5, A4 (dev-2 after dev-1 at the same time, descending), A3,
// A2 (temperature before sound at the same time, descending), A1.
const A1 = alert('dev-1/sensor_anomaly/sound/1772400000000', 'sensor_anomaly', 'sound', base, {
  status: 'cleared',
  cleared_at: base + 9000,
  updated_at: base + 9000,
  readings: 4,
  worst_value: 61.25,
  severity: 'critical',
  revision: 3,
});
const A2 = alert('dev-1/sensor_anomaly/temperature/1772400000000', 'sensor_anomaly', 'temperature', base, {
  worst_value: 31.5,
  normal_min: 20,
  normal_max: 30,
});
const A3 = alert('dev-1/outside_geofence/-/1772400001000', 'outside_geofence', null, base + 1000, {
  worst_value: 0.5,
  latitude: 10.5,
});
const A4 = cleared(alert('dev-2/inactive/-/1772400001000', 'inactive', null, base + 1000), base + 12_000, 2);
const A5 = alert('dev-2/sensor_anomaly/altitude/1772400002000', 'sensor_anomaly', 'altitude', base + 2000, {
  severity: 'critical',
  worst_value: 2400,
  normal_min: 1000,
  normal_max: 2000,
});
const A6 = alert('dev-3/inactive/-/1772400003000', 'inactive', null, base + 3000);

// dev-7: 25 cleared sensor alerts in 9 groups opened at the same time (3 metrics each, the last group only sound),
// for paging across ties. Newest first: group 8 (sound), then groups 7..0 as temperature, sound, altitude.
const pagingBase = base + 100_000;
const metrics = ['temperature', 'sound', 'altitude'] as const;
const pagingAlerts: AlertRecord[] = [];
for (let group = 0; group <= 8; group++) {
  for (const metric of group === 8 ? (['sound'] as const) : metrics) {
    const openedAt = pagingBase + group * 1000;
    const record = alert(`dev-7/sensor_anomaly/${metric}/${openedAt}`, 'sensor_anomaly', metric, openedAt);
    pagingAlerts.push(cleared(record, openedAt + 500, 2));
  }
}
const pagingOrder = [`dev-7/sensor_anomaly/sound/${pagingBase + 8000}`];
for (let group = 7; group >= 0; group--) {
  for (const metric of metrics) pagingOrder.push(`dev-7/sensor_anomaly/${metric}/${pagingBase + group * 1000}`);
}

beforeAll(async () => {
  stack = await startApiStack({
    ...SHORT_TIMEOUTS,
    ALERT_SOUND_MIN: '25',
    ALERT_SOUND_MAX: '55.5',
    ALERT_TEMPERATURE_MIN: '-5',
    ALERT_TEMPERATURE_MAX: '35',
    ALERT_ALTITUDE_MIN: '500',
    ALERT_ALTITUDE_MAX: '2500',
    ALERT_CLEAR_AFTER_MS: '7000',
    ALERT_INACTIVE_AFTER_MS: '20000',
    ALERT_CRITICAL_DEVIATION: '0.25',
    ALERT_GEOFENCE_MIN_LATITUDE: '7.5',
    ALERT_GEOFENCE_MAX_LATITUDE: '10.5',
    ALERT_GEOFENCE_MIN_LONGITUDE: '105',
    ALERT_GEOFENCE_MAX_LONGITUDE: '109',
  });
  // A1 reaches its third revision through two writes; a stale second revision written afterwards changes nothing.
  await stack.writeWarehouseAlerts([{ ...A1, status: 'active', cleared_at: null, revision: 2 }, A2, A3, A4, A5, A6]);
  await stack.writeWarehouseAlerts([A1, ...pagingAlerts]);
  await stack.writeWarehouseAlerts([{ ...A1, status: 'active', cleared_at: null, revision: 2 }]);
});

describe('GET /alerts', () => {
  it('returns the stored alerts as the record, numbers as numbers, without the table’s own columns', async () => {
    const { status, body, res } = await get('/alerts?device_id=dev-1');
    expect(status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(body).toEqual([
      {
        alert_id: 'dev-1/outside_geofence/-/1772400001000',
        device_id: 'dev-1',
        type: 'outside_geofence',
        metric: null,
        status: 'active',
        severity: 'warning',
        opened_at: 1_772_400_001_000,
        cleared_at: null,
        updated_at: 1_772_400_001_000,
        readings: 1,
        worst_value: 0.5,
        normal_min: null,
        normal_max: null,
        latitude: 10.5,
        longitude: 107.5,
        revision: 1,
      },
      {
        alert_id: 'dev-1/sensor_anomaly/temperature/1772400000000',
        device_id: 'dev-1',
        type: 'sensor_anomaly',
        metric: 'temperature',
        status: 'active',
        severity: 'warning',
        opened_at: 1_772_400_000_000,
        cleared_at: null,
        updated_at: 1_772_400_000_000,
        readings: 1,
        worst_value: 31.5,
        normal_min: 20,
        normal_max: 30,
        latitude: 9.25,
        longitude: 107.5,
        revision: 1,
      },
      {
        alert_id: 'dev-1/sensor_anomaly/sound/1772400000000',
        device_id: 'dev-1',
        type: 'sensor_anomaly',
        metric: 'sound',
        status: 'cleared',
        severity: 'critical',
        opened_at: 1_772_400_000_000,
        cleared_at: 1_772_400_009_000,
        updated_at: 1_772_400_009_000,
        readings: 4,
        worst_value: 61.25,
        normal_min: 30,
        normal_max: 50,
        latitude: 9.25,
        longitude: 107.5,
        revision: 3,
      },
    ]);
    expect(res.headers.get('x-next-cursor')).toBeNull();
  });

  it('returns every device newest opening first, 10 by default, with the next page in the headers', async () => {
    const { status, body, res } = await get('/alerts');
    expect(status).toBe(200);
    expect(ids(body)).toEqual(pagingOrder.slice(0, 10));
    expect(res.headers.get('x-next-cursor')).toBeTruthy();
    expect(res.headers.get('link')).toBe(`</alerts?cursor=${res.headers.get('x-next-cursor')}&limit=10>; rel="next"`);
  });

  it.each([
    ['device_id=dev-1&device_id=dev-2&device_id=dev-3', [A6, A5, A4, A3, A2, A1]],
    ['device_id=dev-2', [A5, A4]],
    ['type=inactive', [A6, A4]],
    ['type=inactive&type=outside_geofence', [A6, A4, A3]],
    ['status=active', [A6, A5, A3, A2]],
    ['status=cleared&device_id=dev-1&device_id=dev-2', [A4, A1]],
    ['type=sensor_anomaly&status=active', [A5, A2]],
    [`from=${base + 1000}&to=${base + 3000}`, [A5, A4, A3]],
    [`from=${new Date(base + 2000).toISOString()}&device_id=dev-3&device_id=dev-2`, [A6, A5]],
    [`to=${base + 1000}`, [A2, A1]],
    ['device_id=nobody', []],
  ])('filters by %s', async (query, expected) => {
    const { status, body } = await get(`/alerts?${query}&limit=100`);
    expect(status).toBe(200);
    expect(ids(body)).toEqual(expected.map((a) => a.alert_id));
  });

  it('pages through ties on opened_at without gaps or duplicates, following Link', async () => {
    const pages = await followNextLinks<AlertRecord>(stack.url, '/alerts?device_id=dev-7&limit=5');
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 5]);
    expect(pages.flat().map((a) => a.alert_id)).toEqual(pagingOrder);
  });

  it('pages through every device, and through a filter, with the cursor header', async () => {
    expect(await collectByCursor('limit=4')).toEqual([
      ...pagingOrder,
      ...[A6, A5, A4, A3, A2, A1].map((a) => a.alert_id),
    ]);
    expect(await collectByCursor('status=active&type=sensor_anomaly&type=inactive&limit=1')).toEqual(
      [A6, A5, A2].map((a) => a.alert_id),
    );
  });

  it('refuses a cursor used with other filters', async () => {
    const { res } = await get('/alerts?device_id=dev-7&limit=2');
    const cursor = res.headers.get('x-next-cursor');
    expect(cursor).toBeTruthy();
    for (const query of ['device_id=dev-1', 'device_id=dev-7&type=inactive', 'device_id=dev-7&status=active', '']) {
      const { status, body } = await get(`/alerts?${query}&cursor=${cursor}`);
      expect(status).toBe(400);
      expect(body).toMatchObject({
        error: { code: 'BAD_REQUEST', message: 'invalid query parameter: cursor', details: [{ field: 'cursor' }] },
      });
    }
    // The same filters repeated, another limit and a time range: the position stays valid.
    const { status, body } = await get(
      `/alerts?device_id=dev-7&device_id=dev-7&from=${pagingBase}&limit=3&cursor=${cursor}`,
    );
    expect(status).toBe(200);
    expect(ids(body)).toEqual(pagingOrder.slice(2, 5));
  });

  // Unreachable PostgreSQL (503 naming it) is checked for every warehouse route in endpoints.test.ts and
  // warehouse-outage.test.ts.
  it('times out a read that never ends with 504 TIMEOUT', async () => {
    const warehouse = { ...stack.services.warehouse, listAlerts: () => new Promise<never>(() => undefined) };
    const api = createApi({ ...stack.services, warehouse });
    const res = await api.request('/alerts');
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { code: 'TIMEOUT' } });
  });
});

/** Waits until `/alerts/active?<query>` lists exactly `expected` (alert ids, in order). */
async function activeBecomes(query: string, expected: string[]) {
  await stack.waitFor(async () => {
    const { body } = await get(`/alerts/active?${query}`);
    return JSON.stringify(ids(body)) === JSON.stringify(expected) ? true : undefined;
  });
}

describe('GET /alerts/active', () => {
  it('lists an opened alert from the topic and drops it once cleared', async () => {
    const sound = alert('dev-5/sensor_anomaly/sound/1772400050000', 'sensor_anomaly', 'sound', base + 50_000);
    const fence = alert('dev-6/outside_geofence/-/1772400051000', 'outside_geofence', null, base + 51_000, {
      worst_value: 0.75,
      normal_min: null,
      normal_max: null,
    });
    await stack.produceAlerts([sound, fence]);
    await activeBecomes('device_id=dev-5&device_id=dev-6', [fence.alert_id, sound.alert_id]);
    const { status, body } = await get('/alerts/active?device_id=dev-5');
    expect(status).toBe(200);
    expect(body).toEqual([
      {
        alert_id: 'dev-5/sensor_anomaly/sound/1772400050000',
        device_id: 'dev-5',
        type: 'sensor_anomaly',
        metric: 'sound',
        status: 'active',
        severity: 'warning',
        opened_at: 1_772_400_050_000,
        cleared_at: null,
        updated_at: 1_772_400_050_000,
        readings: 1,
        worst_value: 55.5,
        normal_min: 30,
        normal_max: 50,
        latitude: 9.25,
        longitude: 107.5,
        revision: 1,
      },
    ]);
    expect(ids((await get('/alerts/active?type=outside_geofence&device_id=dev-5&device_id=dev-6')).body)).toEqual([
      fence.alert_id,
    ]);

    // An update, then the clearing, then a stale replay of the update: only the clearing counts. The marker comes
    // after them on the device's partition, so once it is listed the replay has been read too.
    const updated = { ...sound, readings: 2, worst_value: 58, updated_at: base + 50_500, revision: 2 };
    const marker = alert('dev-5/inactive/-/1772400057000', 'inactive', null, base + 57_000);
    await stack.produceAlerts([updated, cleared(updated, base + 56_000, 3), updated, marker]);
    await activeBecomes('device_id=dev-5&device_id=dev-6', [marker.alert_id, fence.alert_id]);
    expect(ids((await get('/alerts/active?device_id=dev-5')).body)).toEqual([marker.alert_id]);
  });
});

describe('GET /alerts/events', () => {
  it('sends the active alerts as a snapshot, then every change, and resumes after Last-Event-ID', async () => {
    const first = alert(
      'dev-8/sensor_anomaly/temperature/1772400080000',
      'sensor_anomaly',
      'temperature',
      base + 80_000,
    );
    await stack.produceAlerts([first]);
    await activeBecomes('device_id=dev-8', [first.alert_id]);

    const sse = await connectSse(`${stack.url}/alerts/events?device_id=dev-8`);
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    const snapshot = await sse.next(isEvent('snapshot'));
    expect(data<AlertRecord[]>(snapshot)).toEqual([first]);

    const updated = { ...first, readings: 2, worst_value: 33, updated_at: base + 80_400, revision: 2 };
    await stack.produceAlerts([updated]);
    const a = await sse.next(isEvent('alert'));
    expect(data<AlertRecord>(a)).toEqual(updated);
    const clear = cleared(updated, base + 88_000, 3);
    await stack.produceAlerts([clear]);
    const b = await sse.next(isEvent('alert'));
    expect(data<AlertRecord>(b)).toEqual(clear);
    const seq = (m: SseMessage) => Number(m.id?.split('-')[1]);
    expect(seq(b)).toBeGreaterThan(seq(a));
    expect(seq(a)).toBeGreaterThan(seq(snapshot));
    sse.close();
    await stack.waitFor(async () => (stack.services.broadcaster.clients() === 0 ? true : undefined));

    // Missed while disconnected:
    const second = alert('dev-8/inactive/-/1772400090000', 'inactive', null, base + 90_000);
    const third = alert('dev-8/outside_geofence/-/1772400091000', 'outside_geofence', null, base + 91_000);
    await stack.produceAlerts([second, third]);
    await activeBecomes('device_id=dev-8', [third.alert_id, second.alert_id]);
    const resumed = await connectSse(`${stack.url}/alerts/events?device_id=dev-8`, { 'last-event-id': b.id ?? '' });
    const r1 = await resumed.next((m) => m.event !== undefined);
    const r2 = await resumed.next((m) => m.event !== undefined);
    expect([r1.event, r2.event]).toEqual(['alert', 'alert']);
    expect([data<AlertRecord>(r1), data<AlertRecord>(r2)]).toEqual([second, third]);
    const fourth = cleared(second, base + 95_000, 2);
    await stack.produceAlerts([fourth]);
    expect(data<AlertRecord>(await resumed.next(isEvent('alert')))).toEqual(fourth);
    expect(resumed.messages.filter(isEvent('snapshot'))).toHaveLength(0);
    resumed.close();

    // A position this instance never gave: a fresh snapshot.
    const stranger = await connectSse(`${stack.url}/alerts/events?device_id=dev-8`, { 'last-event-id': '0badc0de-5' });
    const fresh = await stranger.next((m) => m.event !== undefined);
    expect(fresh.event).toBe('snapshot');
    expect(data<AlertRecord[]>(fresh)).toEqual([third]);
    stranger.close();
  });

  it('filters the snapshot and the changes by type', async () => {
    const sound = alert('dev-9/sensor_anomaly/sound/1772400100000', 'sensor_anomaly', 'sound', base + 100_000);
    const silent = alert('dev-9/inactive/-/1772400101000', 'inactive', null, base + 101_000);
    const fence = alert('dev-9/outside_geofence/-/1772400102000', 'outside_geofence', null, base + 102_000);
    await stack.produceAlerts([sound, silent, fence]);
    await activeBecomes('device_id=dev-9', [fence.alert_id, silent.alert_id, sound.alert_id]);

    const sse = await connectSse(`${stack.url}/alerts/events?device_id=dev-9&type=inactive&type=outside_geofence`);
    expect(data<AlertRecord[]>(await sse.next(isEvent('snapshot')))).toEqual([fence, silent]);
    // Same device, so the same partition: the sound change reaches the broadcaster first, and is not sent.
    await stack.produceAlerts([cleared(sound, base + 109_000, 2), cleared(silent, base + 109_500, 2)]);
    expect(data<AlertRecord>(await sse.next(isEvent('alert')))).toEqual(cleared(silent, base + 109_500, 2));
    expect(sse.messages.filter(isEvent('alert'))).toHaveLength(1);
    sse.close();
  });

  it('caps connections per address with 429 and per instance with 503, as the other live streams', async () => {
    const api = createApi({ ...stack.services, broadcaster: createBroadcaster({ maxPerAddress: 1 }) });
    const server = serve({ fetch: api.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const open = await connectSse(`${url}/alerts/events`);
    expect(open.status).toBe(200);
    await open.next(isEvent('snapshot'));
    const refused = await fetch(`${url}/alerts/events?type=inactive`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({
      error: { code: 'TOO_MANY_REQUESTS', details: { limit: 'SSE_MAX_CLIENTS_PER_ADDRESS' } },
    });
    open.close();
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const single = createApi({ ...stack.services, broadcaster: createBroadcaster({ maxClients: 1 }) });
    const taken = await single.request('/alerts/events');
    expect(taken.status).toBe(200);
    const full = await single.request('/alerts/events');
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ error: { code: 'UNAVAILABLE', details: { limit: 'SSE_MAX_CLIENTS' } } });
    await taken.body?.cancel();
  });
});

describe('invalid input', () => {
  it.each([
    ['/alerts', 'limit=0', 'limit'],
    ['/alerts', 'limit=1001', 'limit'],
    ['/alerts', 'limit=abc', 'limit'],
    ['/alerts', 'type=bogus', 'type'],
    ['/alerts', 'type=inactive&type=Inactive', 'type'],
    ['/alerts', 'status=open', 'status'],
    ['/alerts', 'device_id=a%20b', 'device_id'],
    ['/alerts', 'device_id=', 'device_id'],
    ['/alerts', 'from=yesterday', 'from'],
    ['/alerts', 'to=12:00', 'to'],
    ['/alerts', 'from=2000&to=1000', 'from'],
    ['/alerts', 'cursor=not-a-cursor', 'cursor'],
    ['/alerts', 'cursor=', 'cursor'],
    ['/alerts/active', 'type=nope', 'type'],
    ['/alerts/active', 'device_id=%22x%22', 'device_id'],
    ['/alerts/events', 'type=sensor_anomaly&type=nope', 'type'],
    ['/alerts/events', 'device_id=a%20b', 'device_id'],
  ])('%s?%s is a 400 naming %s', async (path, query, field) => {
    const { status, body } = await get(`${path}?${query}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining(field) } });
    // A repeated parameter names the position too (`type.1`).
    const details = (body as { error: { details: { field: string }[] } }).error.details;
    expect(details[0]?.field.split('.')[0]).toBe(field);
  });
});

describe('GET /alerts/rules', () => {
  it('shows the rules the stack was configured with', async () => {
    const { status, body } = await get('/alerts/rules');
    expect(status).toBe(200);
    expect(body).toEqual({
      ranges: {
        sound: { min: 25, max: 55.5 },
        temperature: { min: -5, max: 35 },
        altitude: { min: 500, max: 2500 },
      },
      clear_after_ms: 7000,
      inactive_after_ms: 20_000,
      critical_deviation: 0.25,
      geofence: { min_latitude: 7.5, max_latitude: 10.5, min_longitude: 105, max_longitude: 109 },
    });
  });
});
