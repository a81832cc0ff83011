/**
 * Server-sent events at the wire level, on the real stack: snapshot, deltas from Kafka, device filter,
 * Last-Event-ID resume, heartbeats, cleanup on disconnect, the client limit, and a stalled client that must
 * not delay a fast one nor make the server queue without bound.
 */
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/app.js';
import type { DeviceLatest, WindowAggregate } from '../../src/core/results.js';
import { createBroadcaster } from '../../src/live/broadcaster.js';
import { connectSse, isEvent, type SseMessage } from './sse-client.js';
import { type ApiStack, latestRecord, startApiStack, windowRecord } from './support.js';

let stack: ApiStack;
const base = 1_772_300_000_000;
const data = <T>(m: SseMessage) => JSON.parse(m.data ?? 'null') as T;

beforeAll(async () => {
  stack = await startApiStack({ SSE_HEARTBEAT_MS: '1000' });
  await stack.produceLatest('dev-1', latestRecord(base + 1));
  await stack.produceLatest('dev-2', latestRecord(base + 2));
  await stack.produceWindows([
    windowRecord('dev-1', base),
    windowRecord('dev-1', base + 2000),
    windowRecord('dev-2', base),
  ]);
  await stack.waitFor(async () => ((await stack.services.streamLayer.listLatest()).length === 2 ? true : undefined));
  await stack.waitFor(async () =>
    (await stack.services.streamLayer.listWindows({ deviceId: 'dev-1', limit: 5 })).length === 2 ? true : undefined,
  );
});

describe('GET /stream/latest/events', () => {
  it('sends a snapshot of every device, then each change with increasing ids', async () => {
    const sse = await connectSse(`${stack.url}/stream/latest/events`);
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    const snapshot = await sse.next(isEvent('snapshot'));
    expect(data<DeviceLatest[]>(snapshot).map((r) => [r.device_id, r.event_ts])).toEqual([
      ['dev-1', base + 1],
      ['dev-2', base + 2],
    ]);
    await stack.produceLatest('dev-1', latestRecord(base + 10));
    await stack.produceLatest('dev-2', latestRecord(base + 11));
    const first = await sse.next(isEvent('latest'));
    const second = await sse.next(isEvent('latest'));
    expect([data<DeviceLatest>(first).event_ts, data<DeviceLatest>(second).event_ts]).toEqual([base + 10, base + 11]);
    const seq = (m: SseMessage) => Number(m.id?.split('-')[1]);
    expect(seq(second)).toBeGreaterThan(seq(first));
    expect(seq(first)).toBeGreaterThan(seq(snapshot));
    sse.close();
  });

  it('filters by repeated device_id and rejects an invalid one', async () => {
    const sse = await connectSse(`${stack.url}/stream/latest/events?device_id=dev-2&device_id=dev-3`);
    const snapshot = await sse.next(isEvent('snapshot'));
    expect(data<DeviceLatest[]>(snapshot).map((r) => r.device_id)).toEqual(['dev-2']);
    await stack.produceLatest('dev-1', latestRecord(base + 20));
    await stack.produceLatest('dev-3', latestRecord(base + 21));
    const next = await sse.next(isEvent('latest'));
    expect(data<DeviceLatest>(next)).toMatchObject({ device_id: 'dev-3', event_ts: base + 21 });
    expect(sse.messages.filter(isEvent('latest')).map((m) => data<DeviceLatest>(m).device_id)).not.toContain('dev-1');
    sse.close();
    const bad = await fetch(`${stack.url}/stream/latest/events?device_id=%22x%22`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('device_id') },
    });
  });

  it('resumes after Last-Event-ID without gaps or duplicates, and snapshots for an unknown id', async () => {
    const first = await connectSse(`${stack.url}/stream/latest/events?device_id=dev-4`);
    await first.next(isEvent('snapshot'));
    await stack.produceLatest('dev-4', latestRecord(base + 30));
    const seen = await first.next(isEvent('latest'));
    first.close();
    await stack.waitFor(async () => (stack.services.broadcaster.clients() === 0 ? true : undefined));
    // Missed while disconnected:
    await stack.produceLatest('dev-4', latestRecord(base + 31));
    await stack.produceLatest('dev-4', latestRecord(base + 32));
    await stack.waitFor(async () =>
      (await stack.services.streamLayer.listLatest()).find((r) => r.device_id === 'dev-4')?.event_ts === base + 32
        ? true
        : undefined,
    );
    const resumed = await connectSse(`${stack.url}/stream/latest/events?device_id=dev-4`, {
      'last-event-id': seen.id ?? '',
    });
    const a = await resumed.next((m) => m.event !== undefined);
    const b = await resumed.next((m) => m.event !== undefined);
    expect([a.event, b.event]).toEqual(['latest', 'latest']);
    expect([data<DeviceLatest>(a).event_ts, data<DeviceLatest>(b).event_ts]).toEqual([base + 31, base + 32]);
    await stack.produceLatest('dev-4', latestRecord(base + 33));
    expect(data<DeviceLatest>(await resumed.next(isEvent('latest'))).event_ts).toBe(base + 33);
    expect(resumed.messages.filter((m) => m.event === 'snapshot')).toHaveLength(0);
    resumed.close();

    const stranger = await connectSse(`${stack.url}/stream/latest/events?device_id=dev-4`, {
      'last-event-id': '0badc0de-5',
    });
    const snapshot = await stranger.next((m) => m.event !== undefined);
    expect(snapshot.event).toBe('snapshot');
    expect(data<DeviceLatest[]>(snapshot)[0]?.event_ts).toBe(base + 33);
    stranger.close();
  });

  it('sends heartbeat comments while idle', async () => {
    const sse = await connectSse(`${stack.url}/stream/latest/events?device_id=nobody`);
    await sse.next(isEvent('snapshot'));
    expect(await sse.next((m) => m.comment === 'heartbeat', 5000)).toEqual({ comment: 'heartbeat' });
    sse.close();
  });

  it('unsubscribes a client that disconnects', async () => {
    await stack.waitFor(async () => (stack.services.broadcaster.clients() === 0 ? true : undefined));
    const clients = await Promise.all([1, 2, 3].map(() => connectSse(`${stack.url}/stream/latest/events`)));
    await Promise.all(clients.map((c) => c.next(isEvent('snapshot'))));
    expect(stack.services.broadcaster.clients()).toBe(3);
    for (const c of clients) c.close();
    await stack.waitFor(async () => (stack.services.broadcaster.clients() === 0 ? true : undefined), 5000);
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toMatch(/\nsse_clients 0\n/);
  });

  it('answers 503 when SSE_MAX_CLIENTS connections are open', async () => {
    const api = createApi({ ...stack.services, broadcaster: createBroadcaster({ maxClients: 1 }) });
    const first = await api.request('/stream/latest/events');
    expect(first.status).toBe(200);
    const second = await api.request('/stream/latest/events');
    expect(second.status).toBe(503);
    expect(await second.json()).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    await first.body?.cancel();
  });

  it('keeps a stalled client from delaying a fast one, holding only the newest change per device for it', async () => {
    const devices = ['dev-a', 'dev-b', 'dev-c', 'dev-d'];
    const query = devices.map((d) => `device_id=${d}`).join('&');
    // The stalled client: a raw socket that sends its request and never reads.
    const slow = connect({ host: '127.0.0.1', port: Number(new URL(stack.url).port) });
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.write(`GET /stream/latest/events?${query} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    slow.pause();
    const fast = await connectSse(`${stack.url}/stream/latest/events?${query}`);
    await fast.next(isEvent('snapshot'));
    await stack.waitFor(async () => (stack.services.broadcaster.clients() === 2 ? true : undefined));

    // About 20 MB of changes (padded rows): far more than the socket buffers of the stalled connection hold.
    const total = 10_000;
    const pad = 'x'.repeat(2000);
    for (let i = 1; i <= total; i++) {
      const deviceId = devices[i % devices.length] as string;
      stack.services.broadcaster.publish({
        kind: 'latest',
        deviceId,
        row: { ...latestRow(deviceId), event_ts: base + 1000 + i, pad } as DeviceLatest,
      });
      await new Promise((r) => setImmediate(r));
    }
    // The fast client gets the final state of every device while the slow one is still stalled.
    const finalTs = new Map(devices.map((d, k) => [d, base + 1000 + total - ((total - k) % devices.length)]));
    const lastSeen = new Map<string, number>();
    while ([...finalTs].some(([d, ts]) => lastSeen.get(d) !== ts)) {
      const m = await fast.next(isEvent('latest'), 20_000);
      const row = data<DeviceLatest>(m);
      lastSeen.set(row.device_id, row.event_ts ?? 0);
    }
    fast.close();

    // Now the slow client reads: it gets the newest state of each device, having skipped most intermediate ones.
    let received = '';
    slow.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    slow.resume();
    await stack.waitFor(
      async () => ([...finalTs.values()].every((ts) => received.includes(`"event_ts":${ts}`)) ? true : undefined),
      20_000,
    );
    const slowEvents = received.split('\nevent: latest\n').length - 1;
    expect(slowEvents).toBeLessThan(total / 2);
    slow.destroy();
  });
});

describe('GET /stream/raw/events', () => {
  it('sends the newest window per device, then new windows and revisions for the filtered device', async () => {
    const sse = await connectSse(`${stack.url}/stream/raw/events?device_id=dev-1`);
    const snapshot = await sse.next(isEvent('snapshot'));
    expect(data<WindowAggregate[]>(snapshot).map((r) => [r.device_id, r.window_start])).toEqual([
      ['dev-1', base + 2000],
    ]);
    await stack.produceWindows([
      windowRecord('dev-2', base + 2000),
      windowRecord('dev-1', base + 4000),
      windowRecord('dev-1', base + 4000, { EVENT_COUNT: 2 }),
    ]);
    const a = data<WindowAggregate>(await sse.next(isEvent('window')));
    expect([a.device_id, a.window_start]).toEqual(['dev-1', base + 4000]);
    const b = a.event_count === 2 ? a : data<WindowAggregate>(await sse.next(isEvent('window')));
    expect(b).toMatchObject({ device_id: 'dev-1', window_start: base + 4000, event_count: 2 });
    sse.close();
    const bad = await fetch(`${stack.url}/stream/raw/events?device_id=dev-1&device_id=a%20b`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('device_id') },
    });
  });
});

function latestRow(deviceId: string): DeviceLatest {
  return {
    device_id: deviceId,
    latitude: 9,
    longitude: 107,
    distance: 0,
    event_ts: 0,
    temperature: 25,
    sound: 40,
    altitude: 1500,
  };
}
