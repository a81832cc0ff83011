/**
 * The API on the real stack for tests: a fresh schema with the warehouse migrations, unique output topics read
 * by the embedded stream layer, the broadcaster, and the Hono app served by @hono/node-server on a free port.
 * Records are produced in the contract format of `src/core/results.ts`; alert records in that of
 * `src/core/alerts/alert-record.ts`, and alert rows are written by the embedded sink's writer.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Admin } from '@platformatic/kafka';
import { afterAll } from 'vitest';
import { alertRulesFromConfig } from '../../src/alerts/alert-component-from-config.js';
import { createApi } from '../../src/api/app.js';
import { createSseHeartbeat } from '../../src/api/sse.js';
import { pingKafka } from '../../src/bus/kafka-admin.js';
import { createProducer } from '../../src/bus/producer.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { AlertRecord } from '../../src/core/alerts/alert-record.js';
import {
  type DeviceLatestRecord,
  encodeWindowedKey,
  type WindowAggregate,
  type WindowAggregateRecord,
} from '../../src/core/results.js';
import { createAlertFeed } from '../../src/live/alert-feed.js';
import { createBroadcaster } from '../../src/live/broadcaster.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import type { Services } from '../../src/services.js';
import { createSimulatorFromConfig } from '../../src/simulators/simulator-from-config.js';
import { pingDatabase } from '../../src/sink/database.js';
import { migrate } from '../../src/sink/migrate.js';
import { createWarehouseWriter } from '../../src/sink/warehouse-writer.js';
import { createEmbeddedStreamLayer } from '../../src/stream-layer/embedded-stream-layer.js';
import { createWarehouseReader } from '../../src/warehouse-reader/warehouse-reader.js';
import { createTestDatabase, databaseUrl } from '../helpers/db.js';
import { brokers, createTestTopics } from '../helpers/kafka.js';

export function windowRecord(
  deviceId: string,
  windowStart: number,
  overrides: Partial<WindowAggregateRecord> = {},
): WindowAggregateRecord {
  return {
    ID: `${deviceId}_${windowStart}_${windowStart + 2000}`,
    dev_id: deviceId,
    LATITUDE: 9.001,
    LONGITUDE: 107.002,
    DISTANCE: 0.25,
    EVENT_TS: windowStart + 1500,
    EVENT_COUNT: 1,
    AVG_TEMP: 25.5,
    AVG_SOUND: 40.25,
    AVG_ALT: 1500.5,
    WINDOW_START: windowStart,
    WINDOW_END: windowStart + 2000,
    ...overrides,
  };
}

export function latestRecord(eventTs: number, overrides: Partial<DeviceLatestRecord> = {}): DeviceLatestRecord {
  return {
    LATITUDE: 9.01,
    LONGITUDE: 107.01,
    DISTANCE: 1.5,
    EVENT_TS: eventTs,
    TEMPERATURE: 26,
    SOUND: 41,
    ALTITUDE: 1600,
    ...overrides,
  };
}

/** Short request and warehouse bounds for 503/504 tests (the configuration wants both database bounds lower). */
export const SHORT_TIMEOUTS = {
  REQUEST_TIMEOUT_MS: '2000',
  DATABASE_CONNECT_TIMEOUT_MS: '1000',
  DATABASE_QUERY_TIMEOUT_MS: '1000',
} as const;

/**
 * Reads every page from `path` on, following `Link: <…>; rel="next"` (which must carry the `X-Next-Cursor`
 * value) until a page has none; throws on a status other than 200.
 */
export async function followNextLinks<T>(baseUrl: string, path: string): Promise<T[][]> {
  const pages: T[][] = [];
  let next: string | undefined = path;
  while (next) {
    const res = await fetch(`${baseUrl}${next}`);
    if (res.status !== 200) throw new Error(`${next} answered ${res.status}: ${await res.text()}`);
    pages.push((await res.json()) as T[]);
    const link = res.headers.get('link');
    next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
    if (next && !next.includes(`cursor=${res.headers.get('x-next-cursor')}`)) {
      throw new Error(`Link ${link} does not carry X-Next-Cursor ${res.headers.get('x-next-cursor')}`);
    }
  }
  return pages;
}

export interface ApiStack {
  url: string;
  config: Config;
  services: Services;
  topics: { windows: string; latest: string; location: string; status: string; alerts: string };
  schema: string;
  produceWindows(records: WindowAggregateRecord[]): Promise<void>;
  produceLatest(deviceId: string, record: DeviceLatestRecord | null): Promise<void>;
  /** To the stack's device_alerts topic (read by the alert feed), keyed by device id. */
  produceAlerts(records: AlertRecord[]): Promise<void>;
  /** Into the warehouse table `device_alerts`, through the embedded sink's writer (highest revision wins). */
  writeWarehouseAlerts(records: AlertRecord[]): Promise<void>;
  /** Inserts rows into the warehouse table the way the sinks store them. */
  insertWarehouseWindows(rows: WindowAggregate[]): Promise<void>;
  waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** A request to the stack's server; `body` is the parsed JSON, if any. */
  fetchJson(path: string, init?: RequestInit): Promise<{ res: Response; status: number; body: unknown; text: string }>;
}

export async function startApiStack(env: Record<string, string> = {}): Promise<ApiStack> {
  const topics = await createTestTopics({
    windows: 'DEVICE_WINAGG_STATUS_PER2S',
    latest: 'DEVICE_WINAGG_STATUS_PERDEVICE',
    location: 'device_location',
    status: 'device_status',
    alerts: 'device_alerts',
  });
  const { sql, schema } = await createTestDatabase();
  await migrate(sql, { schema });
  const config = loadConfig({
    KAFKA_BROKERS: brokers().join(','),
    DATABASE_URL: databaseUrl(),
    LOG_LEVEL: 'silent',
    ...env,
  });
  const logger = createSilentLogger();
  const kafka = { brokers: config.KAFKA_BROKERS, clientId: 'api-test' };
  const admin = new Admin({ clientId: 'api-test-admin', bootstrapBrokers: kafka.brokers });
  const streamLayer = createEmbeddedStreamLayer({
    kafka,
    logger,
    windowsTopic: topics.windows,
    latestTopic: topics.latest,
    idleCaughtUpMs: 300,
  });
  const broadcaster = createBroadcaster({ historySize: config.SSE_HISTORY_SIZE, maxClients: config.SSE_MAX_CLIENTS });
  streamLayer.onChange((change) => broadcaster.publish(change));
  const alertFeed = createAlertFeed({ kafka, topic: topics.alerts, logger });
  alertFeed.onChange((alert) => broadcaster.publish({ kind: 'alert', deviceId: alert.device_id, row: alert }));
  const heartbeat = createSseHeartbeat({ broadcaster, intervalMs: config.SSE_HEARTBEAT_MS });
  const services: Services = {
    config,
    logger,
    sql,
    kafka,
    admin,
    simulator: createSimulatorFromConfig(config, kafka, logger, {
      topics: { location: topics.location, status: topics.status },
    }),
    streamLayer,
    broadcaster,
    alerts: alertFeed,
    alertRules: alertRulesFromConfig(config),
    warehouse: createWarehouseReader({ sql }),
    metrics: [streamLayer, broadcaster, alertFeed],
    readiness: [
      { name: 'kafka', check: () => pingKafka(admin) },
      { name: 'postgresql', check: () => pingDatabase(sql) },
      { name: 'engine', check: () => streamLayer.check() },
    ],
  };
  await streamLayer.start();
  await alertFeed.start();
  await heartbeat.start();
  const api = createApi(services);
  const server = serve({ fetch: api.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const writer = createWarehouseWriter(sql, { schema });
  const producer = createProducer({ clientId: 'api-test-producer', bootstrapBrokers: kafka.brokers });

  afterAll(async () => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await heartbeat.stop();
    await streamLayer.stop();
    await alertFeed.stop();
    await services.simulator.close();
    await producer.close();
    await admin.close();
  });

  const waitFor = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  return {
    url: `http://127.0.0.1:${port}`,
    config,
    services,
    topics,
    schema,
    waitFor,
    async fetchJson(path, init) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
      const text = await res.text();
      return { res, status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, text };
    },
    async produceWindows(records) {
      await producer.send({
        messages: records.map((r) => ({
          topic: topics.windows,
          key: encodeWindowedKey(r.dev_id, r.WINDOW_START),
          value: Buffer.from(JSON.stringify(r)),
        })),
      });
    },
    async produceLatest(deviceId, record) {
      await producer.send({
        messages: [
          {
            topic: topics.latest,
            key: Buffer.from(deviceId),
            value: record === null ? (null as unknown as Buffer) : Buffer.from(JSON.stringify(record)),
          },
        ],
      });
    },
    async produceAlerts(records) {
      await producer.send({
        messages: records.map((r) => ({
          topic: topics.alerts,
          key: Buffer.from(r.device_id),
          value: Buffer.from(JSON.stringify(r)),
        })),
      });
    },
    async writeWarehouseAlerts(records) {
      // The sink's rows carry their source position; these never came from a topic.
      const rows = records.map((r, i) => ({ ...r, kafka_partition: 0, kafka_offset: BigInt(i) }));
      await writer.write([], [], rows);
    },
    async insertWarehouseWindows(rows) {
      for (const r of rows) {
        await sql`insert into device_winagg_status_per2s
          (id, device_id, window_start, window_end, latitude, longitude, distance, event_ts, event_count, avg_temp, avg_sound, avg_alt)
          values (${r.id}, ${r.device_id}, ${r.window_start}, ${r.window_end}, ${r.latitude}, ${r.longitude}, ${r.distance},
                  ${r.event_ts}, ${r.event_count}, ${r.avg_temp}, ${r.avg_sound}, ${r.avg_alt})
          on conflict (id) do update set event_count = excluded.event_count`;
      }
    },
  };
}
