/**
 * The connector registration of the `connect-init` service and `npm run connect:register`, against a loopback
 * stand-in of Kafka Connect's REST API: which requests it sends, in which order, with which bodies, and how it
 * waits, retries and fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registerAllConnectors, registerConnectors } from '../../scripts/register-connectors.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { type FakeServer, startFakeConnect } from '../deployment/fake-rest.js';

const logger = createSilentLogger();
const backoff = { initialMs: 20, maxMs: 100 };
const servers: FakeServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function fakeConnect(pluginsAfter = 0) {
  const connect = await startFakeConnect(pluginsAfter);
  servers.push(connect);
  return connect;
}

const JDBC = 'io.confluent.connect.jdbc.JdbcSinkConnector';
const twoSinks = [
  { name: 'sink-a', config: { 'connector.class': JDBC, topics: 'A' } },
  { name: 'sink-b', config: { 'connector.class': JDBC, topics: 'B' } },
];

describe('npm run connect:register (connect/*.json)', () => {
  it('waits for Connect and its plugin, creates every connector, and only updates them on a second run', async () => {
    const connect = await fakeConnect(2); // the JDBC plugin shows up on the third poll
    connect.failNext(1, 503, { message: 'starting' });
    const env = { CONNECT_URL: connect.url, CONNECT_WAIT_MS: '20000' };
    const names = [
      'warehouse-device-alerts',
      'warehouse-device-winagg-status-per2s',
      'warehouse-device-winagg-status-perdevice',
    ];
    expect(await registerAllConnectors(env, logger, backoff)).toEqual({ created: names, updated: [] });
    const file = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'connect', 'device-winagg-status-per2s.json'), 'utf8'),
    ) as { name: string; config: Record<string, string> };
    // The body of PUT /connectors/<name>/config is the flat config plus the name; placeholders go unresolved.
    expect(connect.configs.get(file.name)).toEqual({ ...file.config, name: file.name });
    expect(JSON.stringify([...connect.configs.values()])).toContain(`$${'{env:POSTGRES_PASSWORD}'}`);
    expect(await registerAllConnectors(env, logger, backoff)).toEqual({ created: [], updated: names });
    const puts = connect.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.path)).toEqual([...names, ...names].map((n) => `/connectors/${n}/config`));
    expect(puts.every((r) => r.headers['content-type'] === 'application/json')).toBe(true);
    // 1 refused poll, 2 empty plugin lists, then the one that lists the plugin; once more on the second run.
    expect(connect.requests.filter((r) => r.path === '/connector-plugins')).toHaveLength(5);
  });
});

describe('registerConnectors', () => {
  it('retries a PUT that Connect answers with 409 while a rebalance is in progress', async () => {
    const connect = await fakeConnect();
    connect.refuse('sink-a', 409, { error_code: 409, message: 'rebalance in progress' }, 2);
    const result = await registerConnectors(twoSinks, { url: connect.url, timeoutMs: 20_000, logger, backoff });
    expect(result).toEqual({ created: ['sink-a', 'sink-b'], updated: [] });
    expect(connect.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /connector-plugins',
      'PUT /connectors/sink-a/config', // 409
      'PUT /connectors/sink-a/config', // 409
      'PUT /connectors/sink-a/config',
      'PUT /connectors/sink-b/config',
    ]);
    expect(connect.configs.get('sink-a')).toEqual({ ...twoSinks[0]!.config, name: 'sink-a' });
  });

  it("fails at once with Connect's message when it refuses a config, without touching the next connector", async () => {
    const connect = await fakeConnect();
    connect.refuse('sink-a', 400, { error_code: 400, message: 'Connector configuration is invalid' });
    const run = registerConnectors(twoSinks, { url: connect.url, timeoutMs: 20_000, logger, backoff });
    await expect(run).rejects.toThrow(
      /PUT \/connectors\/sink-a\/config answered 400: Connector configuration is invalid/,
    );
    expect(connect.requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual([
      '/connectors/sink-a/config',
    ]);
  });

  it('gives up at the deadline naming the missing plugin class', async () => {
    const connect = await fakeConnect(Number.POSITIVE_INFINITY);
    const run = registerConnectors(twoSinks, { url: connect.url, timeoutMs: 1500, logger, backoff });
    await expect(run).rejects.toThrow(
      /wait for Kafka Connect and its plugins: gave up after \d+ attempts in 1500 ms: connector classes not on the worker's plugin path: io\.confluent\.connect\.jdbc\.JdbcSinkConnector/,
    );
    expect(connect.requests.some((r) => r.method === 'PUT')).toBe(false);
  });

  it('waits for a worker that does not answer yet', async () => {
    const connect = await fakeConnect();
    const url = connect.url;
    await connect.close();
    servers.splice(servers.indexOf(connect), 1);
    const run = registerConnectors(twoSinks, { url, timeoutMs: 800, logger, backoff });
    await expect(run).rejects.toThrow(/gave up after \d+ attempts in 800 ms: Kafka Connect at .* did not answer/);
  });
});
