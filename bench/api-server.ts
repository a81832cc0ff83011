/**
 * The API under benchmark, in its own process: private topics and schema seeded with data, the embedded stream
 * layer, the warehouse reader, the broadcaster and the Hono app on a loopback port. Driven by `bench/api.ts`
 * over IPC: `produce` publishes live `perdevice` records (EVENT_TS = now) for the SSE run, `memory` reports
 * the process memory, `stop` cleans up (topics deleted, schema dropped) and exits.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Admin } from '@platformatic/kafka';
import { createAlertComponent } from '../src/alerts/alert-component.js';
import { createApi } from '../src/api/app.js';
import { createSseHeartbeat } from '../src/api/sse.js';
import { createProducer } from '../src/bus/producer.js';
import { loadConfig } from '../src/config.js';
import { DEFAULT_ALERT_RULES } from '../src/core/alerts/alert-rules.js';
import { encodeWindowedKey } from '../src/core/results.js';
import { createAlertFeed } from '../src/live/alert-feed.js';
import { createBroadcaster } from '../src/live/broadcaster.js';
import { createSilentLogger } from '../src/observability/logger.js';
import type { Services } from '../src/services.js';
import { createSimulatorFromConfig } from '../src/simulators/simulator-from-config.js';
import { createDatabase } from '../src/sink/database.js';
import { migrate } from '../src/sink/migrate.js';
import { createEmbeddedStreamLayer } from '../src/stream-layer/embedded-stream-layer.js';
import { createWarehouseReader } from '../src/warehouse-reader/warehouse-reader.js';

const DEVICES = ['dev-1', 'dev-2', 'dev-3'];
const WINDOWS = 1000;
const suffix = randomBytes(4).toString('hex');
const config = loadConfig({
  KAFKA_BROKERS: process.env['KAFKA_BROKERS'],
  DATABASE_URL: process.env['DATABASE_URL'],
  LOG_LEVEL: 'silent',
  SSE_MAX_CLIENTS: '50000',
  SSE_MAX_CLIENTS_PER_ADDRESS: '0',
  SSE_HEARTBEAT_MS: '15000',
});
const logger = createSilentLogger();
const kafka = { brokers: config.KAFKA_BROKERS, clientId: 'bench-api' };
const topics = {
  windows: `bench_per2s_${suffix}`,
  latest: `bench_perdevice_${suffix}`,
  location: `bench_loc_${suffix}`,
  status: `bench_status_${suffix}`,
  alerts: `bench_alerts_${suffix}`,
  alertState: `bench_alert_state_${suffix}`,
};
const schema = `bench_api_${suffix}`;

const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: kafka.brokers });
await admin.createTopics({ topics: Object.values(topics), partitions: 3, replicas: 1 });
const root = createDatabase({ url: config.DATABASE_URL, poolMax: 1 });
const sql = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX, schema });
await migrate(sql, { schema });

// Seed: 1000 windows per device in Kafka and in the warehouse, and a latest state per device.
const start = Date.now() - WINDOWS * 2000;
const producer = createProducer({ clientId: 'bench-producer', bootstrapBrokers: kafka.brokers });
for (const deviceId of DEVICES) {
  const windows = Array.from({ length: WINDOWS }, (_, i) => {
    const ws = start - (start % 2000) + i * 2000;
    return {
      ID: `${deviceId}_${ws}_${ws + 2000}`,
      dev_id: deviceId,
      LATITUDE: 9.01,
      LONGITUDE: 107.02,
      DISTANCE: 2.5,
      EVENT_TS: ws + 1500,
      EVENT_COUNT: 1,
      AVG_TEMP: 25.5,
      AVG_SOUND: 40.5,
      AVG_ALT: 1500.5,
      WINDOW_START: ws,
      WINDOW_END: ws + 2000,
    };
  });
  await producer.send({
    messages: windows.map((w) => ({
      topic: topics.windows,
      key: encodeWindowedKey(deviceId, w.WINDOW_START),
      value: Buffer.from(JSON.stringify(w)),
    })),
  });
  await sql`insert into device_winagg_status_per2s ${sql(
    windows.map((w) => ({
      id: w.ID,
      device_id: deviceId,
      window_start: w.WINDOW_START,
      window_end: w.WINDOW_END,
      latitude: w.LATITUDE,
      longitude: w.LONGITUDE,
      distance: w.DISTANCE,
      event_ts: w.EVENT_TS,
      event_count: w.EVENT_COUNT,
      avg_temp: w.AVG_TEMP,
      avg_sound: w.AVG_SOUND,
      avg_alt: w.AVG_ALT,
    })),
  )}`;
  await sql`insert into device_winagg_status_perdevice (device_id, latitude, longitude, distance, event_ts, temperature, sound, altitude)
    values (${deviceId}, 9.01, 107.02, 2.5, ${Date.now()}, 25.5, 40.5, 1500.5)`;
}
const latestValue = (eventTs: number) =>
  Buffer.from(
    JSON.stringify({
      LATITUDE: 9.01,
      LONGITUDE: 107.02,
      DISTANCE: 2.5,
      EVENT_TS: eventTs,
      TEMPERATURE: 25.5,
      SOUND: 40.5,
      ALTITUDE: 1500.5,
    }),
  );
await producer.send({
  messages: DEVICES.map((d) => ({ topic: topics.latest, key: Buffer.from(d), value: latestValue(Date.now()) })),
});

const streamLayer = createEmbeddedStreamLayer({
  kafka,
  logger,
  windowsTopic: topics.windows,
  latestTopic: topics.latest,
});
const broadcaster = createBroadcaster({ historySize: config.SSE_HISTORY_SIZE, maxClients: config.SSE_MAX_CLIENTS });
streamLayer.onChange((c) => broadcaster.publish(c));
const alertFeed = createAlertFeed({ kafka, topic: topics.alerts, logger });
alertFeed.onChange((alert) => broadcaster.publish({ kind: 'alert', deviceId: alert.device_id, row: alert }));
// The alert component on the bench's source topics, for the detection latency of bench/alerts.ts.
const alertComponent = createAlertComponent({
  brokers: kafka.brokers,
  clientId: 'bench-api-alerts',
  groupId: `bench-api-alerts-${suffix}`,
  topics: { location: topics.location, status: topics.status, alerts: topics.alerts, state: topics.alertState },
  rules: DEFAULT_ALERT_RULES,
  logger,
  partitions: 3,
});
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
  alertRules: DEFAULT_ALERT_RULES,
  warehouse: createWarehouseReader({ sql }),
  metrics: [streamLayer, broadcaster, alertFeed],
  readiness: [{ name: 'engine', check: () => streamLayer.check() }],
};
await streamLayer.start();
await alertFeed.start();
await alertComponent.start();
await heartbeat.start();
for (let i = 0; i < 600; i++) {
  const ok = await streamLayer.check().then(
    () => true,
    () => false,
  );
  if (ok && (await streamLayer.listWindows({ deviceId: 'dev-3', limit: 1000 })).length === WINDOWS) break;
  await new Promise((r) => setTimeout(r, 100));
}
const server = serve({ fetch: createApi(services).fetch, hostname: '127.0.0.1', port: 0 });
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });

process.on('message', async (message: { type: string; count?: number; intervalMs?: number }) => {
  if (message.type === 'memory') {
    const cpu = process.cpuUsage();
    process.send?.({
      type: 'memory',
      ...process.memoryUsage(),
      clients: broadcaster.clients(),
      cpuMs: (cpu.user + cpu.system) / 1000,
      at: Date.now(),
    });
  } else if (message.type === 'produce') {
    for (let i = 0; i < (message.count ?? 0); i++) {
      const deviceId = DEVICES[i % DEVICES.length] as string;
      await producer.send({
        messages: [{ topic: topics.latest, key: Buffer.from(deviceId), value: latestValue(Date.now()) }],
      });
      await new Promise((r) => setTimeout(r, message.intervalMs ?? 100));
    }
    process.send?.({ type: 'produced' });
  } else if (message.type === 'anomalies') {
    // A new device each time: a fix, then an out-of-range sound reading that opens its sensor_anomaly at once.
    for (let i = 0; i < (message.count ?? 0); i++) {
      const deviceId = `lat-${suffix}-${i}`;
      const key = Buffer.from(deviceId);
      const now = Date.now();
      await producer.send({
        messages: [
          {
            topic: topics.location,
            key,
            value: Buffer.from(
              JSON.stringify({ id: `l${i}`, device_id: deviceId, latitude: 9, longitude: 107, event_ts: now }),
            ),
          },
          {
            topic: topics.status,
            key,
            value: Buffer.from(
              JSON.stringify({
                id: `s${i}`,
                device_id: deviceId,
                sound: 60,
                temperature: 25,
                altitude: 1500,
                event_ts: now,
              }),
            ),
          },
        ],
      });
      await new Promise((r) => setTimeout(r, message.intervalMs ?? 50));
    }
    process.send?.({ type: 'anomalies-produced' });
  } else if (message.type === 'stop') {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close();
    await heartbeat.stop();
    await streamLayer.stop();
    await alertFeed.stop();
    await alertComponent.stop();
    await services.simulator.close();
    await producer.close();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.close();
    await sql.end({ timeout: 5 });
    await root.unsafe(`drop schema if exists ${schema} cascade`);
    await root.end({ timeout: 5 });
    process.exit(0);
  }
});
