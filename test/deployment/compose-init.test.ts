/**
 * The compose init step end to end on this machine: topics on the real Kafka broker, migrations on the real
 * PostgreSQL (a private schema), and ksqlDB / Kafka Connect through loopback stand-ins that speak their REST wire
 * formats. Each step must be idempotent: a second run changes nothing.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { createConnectAdmin } from '../../scripts/compose-init/connect-admin.js';
import { parseStatementFiles } from '../../scripts/compose-init/ksql-statements.js';
import { createKsqlAdmin } from '../../scripts/compose-init/ksqldb-admin.js';
import {
  applyKsql,
  createSourceTopics,
  readKsqlFiles,
  registerConnectors,
  runMigrations,
} from '../../scripts/compose-init/steps.js';
import { runComposeInit } from '../../scripts/compose-init.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { createTestDatabase, databaseUrl } from '../helpers/db.js';
import { brokers, uniqueName } from '../helpers/kafka.js';
import { startFakeConnect, startFakeKsqlDb } from './fake-rest.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const logger = createSilentLogger();
const wait = { timeoutMs: 20_000, logger, initialDelayMs: 50 };
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('ksql step', () => {
  it('applies every ksql/ statement in order on an empty ksqlDB, and nothing on the second run', async () => {
    const ksqldb = await startFakeKsqlDb();
    cleanups.push(() => ksqldb.close());
    const env = { KSQLDB_URL: ksqldb.url, INIT_STEPS: 'ksql', KSQL_DIR: join(root, 'ksql') };
    await runComposeInit(env, logger);

    const statements = parseStatementFiles(await readKsqlFiles(join(root, 'ksql')));
    const creates = ksqldb.requests.filter((r) => /CREATE/i.test(String((r.body as { ksql?: string })?.ksql)));
    expect(creates.map((r) => (r.body as { ksql: string }).ksql)).toEqual(statements.map((s) => s.text));
    creates.forEach((r, i) => {
      expect(r.headers['content-type']).toBe('application/vnd.ksql.v1+json');
      const body = r.body as { streamsProperties: Record<string, string>; commandSequenceNumber?: number };
      expect(body.streamsProperties).toEqual({ 'auto.offset.reset': 'earliest' });
      // Each statement waits for the command of the one before it.
      expect(body.commandSequenceNumber).toBe(i === 0 ? undefined : i);
    });
    expect([...ksqldb.streams, ...ksqldb.tables]).toEqual(
      expect.arrayContaining(['STREAM_LOCATION', 'STREAM_STATUS', 'JOIN_EVENTS', 'DEVICE_WINAGG_STATUS_PER2S']),
    );

    const before = ksqldb.requests.length;
    await runComposeInit(env, logger);
    const again = ksqldb.requests.slice(before).map((r) => String((r.body as { ksql?: string } | undefined)?.ksql));
    expect(again.filter((k) => /^\s*(--[^\n]*\n\s*)*CREATE/i.test(k))).toEqual([]);
  });

  it('waits through 503s and skips an object created concurrently', async () => {
    const ksqldb = await startFakeKsqlDb();
    cleanups.push(() => ksqldb.close());
    const statements = parseStatementFiles([
      { name: '1.sql', text: "CREATE STREAM a (x INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON');" },
      { name: '2.sql', text: "CREATE STREAM b (x INT) WITH (KAFKA_TOPIC='b', VALUE_FORMAT='JSON');" },
    ]);
    ksqldb.failNext(2, 503, { '@type': 'generic_error', error_code: 50300, message: 'starting' });
    const admin = createKsqlAdmin({ url: ksqldb.url });
    // Simulate another init winning the race for `b` after our listing: the fake refuses the second CREATE.
    const racing = {
      ...admin,
      listObjects: async () => ({ ...(await admin.listObjects()), streams: new Set<string>() }),
    };
    ksqldb.streams.add('B');
    const result = await applyKsql(racing, statements, {}, { ...wait, timeoutMs: 10_000 });
    expect(result.applied).toEqual(['1.sql: creates STREAM A']);
    expect(result.skipped).toEqual(['2.sql: creates STREAM B (created concurrently)']);
  });

  it("fails with ksqlDB's message on a statement error, without retrying", async () => {
    const ksqldb = await startFakeKsqlDb();
    cleanups.push(() => ksqldb.close());
    const statements = parseStatementFiles([
      { name: '1.sql', text: "CREATE STREAM `not a word` (x INT) WITH (KAFKA_TOPIC='x', VALUE_FORMAT='JSON');" },
    ]);
    const run = applyKsql(createKsqlAdmin({ url: ksqldb.url }), statements, {}, wait);
    await expect(run).rejects.toThrow(/ksqlDB \/ksql answered 400: bad/);
    expect(ksqldb.requests.filter((r) => r.path === '/ksql')).toHaveLength(2); // one listing, one statement
  });
});

describe('topics step', () => {
  const admin = new Admin({ clientId: 'compose-init-test', bootstrapBrokers: brokers() });
  cleanups.push(() => admin.close());
  const kafka = { brokers: brokers(), clientId: 'compose-init-test' };

  it('creates both source topics with equal partition counts, once', async () => {
    const names = [uniqueName('init_location'), uniqueName('init_status')];
    cleanups.push(() => admin.deleteTopics({ topics: names }).catch(() => undefined));
    expect(await createSourceTopics(kafka, { partitions: 2, replicas: 1, names }, wait)).toEqual(names);
    expect(await createSourceTopics(kafka, { partitions: 2, replicas: 1, names }, wait)).toEqual([]);
    const md = await admin.metadata({ topics: names });
    expect(names.map((n) => md.topics.get(n)?.partitionsCount)).toEqual([2, 2]);
  });

  it('refuses an existing topic with another partition count at once', async () => {
    const names = [uniqueName('init_location'), uniqueName('init_status')];
    cleanups.push(() => admin.deleteTopics({ topics: names }).catch(() => undefined));
    await admin.createTopics({ topics: [names[1]!], partitions: 1, replicas: 1 });
    const started = Date.now();
    await expect(createSourceTopics(kafka, { partitions: 2, replicas: 1, names }, wait)).rejects.toThrow(
      /has 1 partitions, expected 2/,
    );
    expect(Date.now() - started).toBeLessThan(wait.timeoutMs);
  });
});

describe('migrations step', () => {
  it('creates the warehouse tables, and a second run applies nothing', async () => {
    const { sql, schema } = await createTestDatabase();
    const first = await runMigrations(databaseUrl(), join(root, 'migrations'), wait, schema);
    expect(first.applied.length).toBeGreaterThan(0);
    const tables = await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = ${schema}`;
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['device_winagg_status_per2s', 'device_winagg_status_perdevice']),
    );
    expect((await runMigrations(databaseUrl(), join(root, 'migrations'), wait, schema)).applied).toEqual([]);
  });
});

describe('connectors step', () => {
  const connectors = [
    { name: 'sink-a', config: { 'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector', topics: 'A' } },
    { name: 'sink-b', config: { 'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector', topics: 'B' } },
  ];

  it('waits for the plugin, creates the connectors, then updates them in place', async () => {
    const connect = await startFakeConnect(2);
    cleanups.push(() => connect.close());
    const admin = createConnectAdmin({ url: connect.url });
    connect.failNext(1, 409, { error_code: 409, message: 'rebalance in progress' });
    expect(await registerConnectors(admin, connectors, wait)).toEqual({ created: ['sink-a', 'sink-b'], updated: [] });
    expect(connect.configs.get('sink-a')).toEqual({ ...connectors[0]!.config, name: 'sink-a' });
    expect(await registerConnectors(admin, connectors, wait)).toEqual({ created: [], updated: ['sink-a', 'sink-b'] });
  });

  it('gives up naming the missing plugin class', async () => {
    const connect = await startFakeConnect(Number.POSITIVE_INFINITY);
    cleanups.push(() => connect.close());
    const run = registerConnectors(createConnectAdmin({ url: connect.url }), connectors, { ...wait, timeoutMs: 1500 });
    await expect(run).rejects.toThrow(
      /not on the worker's plugin path: io\.confluent\.connect\.jdbc\.JdbcSinkConnector/,
    );
  });
});
