/**
 * The ksqlDB stream layer against a tiny HTTP/1.1 server that speaks ksqlDB's documented `/query-stream`
 * wire format (`application/vnd.ksqlapi.delimited.v1`: a header object with `queryId`/`columnNames`/
 * `columnTypes`, then one JSON array per row; errors as `{"@type","error_code","message"}`), and substitutes
 * `${var}` session variables as text, the way ksqlDB does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { createBroadcaster } from '../../src/live/broadcaster.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import type { Services } from '../../src/services.js';
import { createKsqlDbStreamLayer } from '../../src/stream-layer/ksqldb-stream-layer.js';
import type { StreamChange } from '../../src/stream-layer/stream-layer.js';
import { connectSse, isEvent } from './sse-client.js';

const WINDOW_COLUMNS = [
  'DEVICE_ID',
  'WINDOWSTART',
  'WINDOWEND',
  'ID',
  'dev_id',
  'LATITUDE',
  'LONGITUDE',
  'DISTANCE',
  'EVENT_TS',
  'EVENT_COUNT',
  'AVG_TEMP',
  'AVG_SOUND',
  'AVG_ALT',
  'WINDOW_START',
  'WINDOW_END',
];
const LATEST_COLUMNS = [
  'DEVICE_ID',
  'LATITUDE',
  'LONGITUDE',
  'DISTANCE',
  'EVENT_TS',
  'TEMPERATURE',
  'SOUND',
  'ALTITUDE',
];
const base = 1_772_400_000_000;
// 100 windows ending now: a live device.
const liveBase = Date.now() - (Date.now() % 2000) - 99 * 2000;
const windowRow = (d: string, ws: number, count = 1) => [
  d,
  ws,
  ws + 2000,
  `${d}_${ws}_${ws + 2000}`,
  d,
  9.1,
  107.1,
  11.5,
  ws + 900,
  count,
  25,
  40,
  1500,
  ws,
  ws + 2000,
];
const latestRow = (d: string, ts: number) => [d, 9.2, 107.2, 22.5, ts, 26, null, 1600];

interface Received {
  sql: string;
  properties: Record<string, string>;
  sessionVariables: Record<string, string>;
  accept: string | undefined;
  httpVersion: string;
}

let server: Server;
let url: string;
const received: Received[] = [];
let mode: 'ok' | 'reject' | 'hang' | 'broken' = 'ok';
const pushes = new Map<ServerResponse, 'windows' | 'latest'>();

function substitute(sql: string, vars: Record<string, string>) {
  return sql.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const key = Object.keys(vars).find((k) => k.toLowerCase() === name.toLowerCase());
    if (key === undefined) throw new Error(`unbound variable ${name}`);
    return String(vars[key]);
  });
}

function handle(req: IncomingMessage, res: ServerResponse, body: string) {
  const request = JSON.parse(body) as {
    sql: string;
    properties?: Record<string, string>;
    sessionVariables?: Record<string, string>;
  };
  received.push({
    sql: request.sql,
    properties: request.properties ?? {},
    sessionVariables: request.sessionVariables ?? {},
    accept: req.headers.accept,
    httpVersion: req.httpVersion,
  });
  if (mode === 'hang') return;
  if (mode === 'reject') {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        '@type': 'statement_error',
        error_code: 40001,
        message: 'Line: 1, Col: 15: DEVICE_WINAGG_STATUS_PER2S does not exist.',
        statementText: request.sql,
      }),
    );
    return;
  }
  const sql = substitute(request.sql, request.sessionVariables ?? {});
  res.writeHead(200, { 'content-type': 'application/vnd.ksqlapi.delimited.v1' });
  const push = /EMIT CHANGES/i.test(sql);
  const windows = /FROM DEVICE_WINAGG_STATUS_PER2S/i.test(sql);
  const header = {
    queryId: push ? 'transient_1' : null,
    columnNames: windows ? WINDOW_COLUMNS : LATEST_COLUMNS,
    columnTypes: [] as string[],
  };
  res.write(`${JSON.stringify(header)}\n`);
  if (mode === 'broken') {
    res.end(`${JSON.stringify({ '@type': 'error', error_code: 50000, message: 'internal' })}\n`);
    return;
  }
  if (push) {
    pushes.set(res, windows ? 'windows' : 'latest');
    res.on('close', () => pushes.delete(res));
    res.write(`${JSON.stringify(windows ? windowRow('dev-1', base) : latestRow('dev-1', base))}\n`);
    return;
  }
  let rows: unknown[][] = [];
  if (windows) {
    // A key lookup, optionally bounded on WINDOWSTART: ascending WINDOWSTART, as ksqlDB returns it.
    const match = /WHERE DEVICE_ID = '([^']*)'(?: AND WINDOWSTART >= (\d+))?;$/.exec(sql);
    const since = Number(match?.[2] ?? 0);
    if (match?.[1] === 'dev-1') rows = [0, 1, 2, 3, 4].map((i) => windowRow('dev-1', base + i * 2000));
    if (match?.[1] === 'dev-live')
      rows = Array.from({ length: 100 }, (_, i) => windowRow('dev-live', liveBase + i * 2000));
    rows = rows.filter((r) => (r[1] as number) >= since);
  } else {
    rows = [latestRow('dev-2', base + 2), latestRow('dev-1', base + 1)];
  }
  res.end(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => handle(req, res, body));
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  mode = 'ok';
  received.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const layer = (timeoutMs = 2000, target = url) =>
  createKsqlDbStreamLayer({ url: target, logger: createSilentLogger(), timeoutMs });

function apiWith(streamLayer: ReturnType<typeof layer>) {
  const config = loadConfig({ REQUEST_TIMEOUT_MS: '5000' });
  const broadcaster = createBroadcaster();
  streamLayer.onChange((c) => broadcaster.publish(c));
  const services = {
    config,
    logger: createSilentLogger(),
    streamLayer,
    broadcaster,
    metrics: [],
    readiness: [],
  } as unknown as Services;
  return { api: createApi(services), broadcaster };
}

describe('ksqlDB stream layer', () => {
  it('binds the device id as a session variable over HTTP/1.1 and returns the newest windows first', async () => {
    const rows = await layer().listWindows({ deviceId: 'dev-1', limit: 3 });
    expect(rows.map((r) => r.window_start)).toEqual([base + 8000, base + 6000, base + 4000]);
    expect(rows[0]).toEqual({
      id: `dev-1_${base + 8000}_${base + 10000}`,
      device_id: 'dev-1',
      window_start: base + 8000,
      window_end: base + 10000,
      latitude: 9.1,
      longitude: 107.1,
      distance: 11.5,
      event_ts: base + 8900,
      event_count: 1,
      avg_temp: 25,
      avg_sound: 40,
      avg_alt: 1500,
    });
    // Too few recent windows (the test data is old): three widening ranges, then the whole key.
    expect(received.map((r) => r.sql)).toEqual([
      ...Array(3).fill(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ksqlDB session-variable references, sent verbatim
        "SELECT * FROM DEVICE_WINAGG_STATUS_PER2S WHERE DEVICE_ID = '${device_id}' AND WINDOWSTART >= ${since};",
      ),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a ksqlDB session-variable reference, sent verbatim
      "SELECT * FROM DEVICE_WINAGG_STATUS_PER2S WHERE DEVICE_ID = '${device_id}';",
    ]);
    expect(received[3]).toMatchObject({
      sessionVariables: { device_id: 'dev-1' },
      accept: 'application/vnd.ksqlapi.delimited.v1',
      httpVersion: '1.1',
    });
    expect(received[0]?.sessionVariables).toEqual({ device_id: 'dev-1', since: expect.stringMatching(/^\d+$/) });
    received.length = 0;
    const live = await layer().listWindows({ deviceId: 'dev-live', limit: 10 });
    expect(live.map((r) => r.window_start)).toEqual(Array.from({ length: 10 }, (_, i) => liveBase + (99 - i) * 2000));
    expect(received).toHaveLength(1);
    expect(await layer().listWindows({ deviceId: 'dev-7', limit: 3 })).toEqual([]);
  });

  it('never sends a device id outside the strict pattern to ksqlDB', async () => {
    expect(await layer().listWindows({ deviceId: "dev-1' OR '1'='1", limit: 10 })).toEqual([]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an attempt to smuggle a ksqlDB variable reference
    expect(await layer().listWindows({ deviceId: 'dev-1${x}', limit: 10 })).toEqual([]);
    expect(received).toHaveLength(0);
    const { api } = apiWith(layer());
    const res = await api.request(`/stream/raw?device_id=${encodeURIComponent("dev-1' OR '1'='1")}`);
    expect(res.status).toBe(400);
    expect(received).toHaveLength(0);
  });

  it('serves /stream/raw and /stream/latest from ksqlDB with the same fields as the embedded layer', async () => {
    const { api } = apiWith(layer());
    const raw = await api.request('/stream/raw?limit=2');
    expect(raw.status).toBe(200);
    expect(((await raw.json()) as { window_start: number }[]).map((r) => r.window_start)).toEqual([
      base + 8000,
      base + 6000,
    ]);
    const latest = await api.request('/stream/latest');
    expect(await latest.json()).toEqual([
      {
        device_id: 'dev-1',
        latitude: 9.2,
        longitude: 107.2,
        distance: 22.5,
        event_ts: base + 1,
        temperature: 26,
        sound: null,
        altitude: 1600,
      },
      {
        device_id: 'dev-2',
        latitude: 9.2,
        longitude: 107.2,
        distance: 22.5,
        event_ts: base + 2,
        temperature: 26,
        sound: null,
        altitude: 1600,
      },
    ]);
    expect(received.map((r) => r.sql)).toContain('SELECT * FROM DEVICE_WINAGG_STATUS_PERDEVICE;');
  });

  it.each([
    ['a rejected statement', 'reject' as const],
    ['an error line in the stream', 'broken' as const],
  ])('answers 503 naming ksqlDB on %s, without its message', async (_, m) => {
    mode = m;
    const { api } = apiWith(layer());
    const res = await api.request('/stream/latest');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string; details: unknown } };
    expect(body.error).toMatchObject({ code: 'UNAVAILABLE', details: { dependency: 'ksqldb' } });
    expect(body.error.message).not.toMatch(/does not exist|internal|Line/);
  });

  it('answers 503 when ksqlDB is unreachable or too slow, within the query timeout', async () => {
    const { api } = apiWith(layer(500, 'http://127.0.0.1:1'));
    const down = await api.request('/stream/latest');
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({
      error: { message: 'ksqlDB is unreachable', details: { dependency: 'ksqldb' } },
    });
    mode = 'hang';
    const slow = await apiWith(layer(300)).api.request('/stream/raw');
    expect(slow.status).toBe(503);
    expect(await slow.json()).toMatchObject({ error: { message: 'ksqlDB did not answer within 300 ms' } });
  });

  it('feeds live clients from one push query per table, replayed from the earliest offset', async () => {
    const streamLayer = layer();
    const changes: StreamChange[] = [];
    streamLayer.onChange((c) => changes.push(c));
    const { api } = apiWith(streamLayer);
    await streamLayer.start();
    try {
      const deadline = Date.now() + 5000;
      while (changes.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const pushQueries = received.filter((r) => /EMIT CHANGES/.test(r.sql));
      expect(pushQueries.map((r) => r.sql).sort()).toEqual([
        'SELECT * FROM DEVICE_WINAGG_STATUS_PER2S EMIT CHANGES;',
        'SELECT * FROM DEVICE_WINAGG_STATUS_PERDEVICE EMIT CHANGES;',
      ]);
      expect(pushQueries[0]?.properties).toEqual({ 'auto.offset.reset': 'earliest' });

      const { serve } = await import('@hono/node-server');
      const http = serve({ fetch: api.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
      await new Promise<void>((resolve) => http.once('listening', () => resolve()));
      const port = (http.address() as AddressInfo).port;
      const clients = await Promise.all(
        [1, 2, 3].map(() => connectSse(`http://127.0.0.1:${port}/stream/latest/events`)),
      );
      for (const c of clients) expect(JSON.parse((await c.next(isEvent('snapshot'))).data ?? '')).toHaveLength(1);
      for (const [res, table] of pushes)
        if (table === 'latest') res.write(`${JSON.stringify(latestRow('dev-3', base + 3))}\n`);
      for (const c of clients)
        expect(JSON.parse((await c.next(isEvent('latest'))).data ?? '')).toMatchObject({ device_id: 'dev-3' });
      // Three SSE clients, still exactly two push queries.
      expect(received.filter((r) => /EMIT CHANGES/.test(r.sql))).toHaveLength(2);
      for (const c of clients) c.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    } finally {
      await streamLayer.stop();
    }
    // Stopping aborts both push queries: the server sees their connections close.
    const deadline = Date.now() + 5000;
    while (pushes.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(pushes.size).toBe(0);
  });
});
