/**
 * The warehouse endpoints while PostgreSQL is away (issue 13): every answer is a fast 503 naming PostgreSQL,
 * never a request timeout. Before the fix the first seconds of an outage answered 503 quickly, then requests took
 * 4.5–9 s and some ended as 504: postgres.js waited longer and longer before each new connection attempt
 * (up to 20 s), and nothing bounded a read below the request timeout. PostgreSQL sits behind a loopback proxy
 * the test cuts (connections refused) and hangs (connections accepted, never answered); the shared server is
 * never stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/app.js';
import { createDatabase } from '../../src/sink/database.js';
import { createWarehouseReader } from '../../src/warehouse-reader/warehouse-reader.js';
import { databaseUrl } from '../helpers/db.js';
import { createTcpProxy, type TcpProxy } from '../sink/tcp-proxy.js';
import { type ApiStack, startApiStack } from './support.js';

let stack: ApiStack;
let proxy: TcpProxy;
let api: ReturnType<typeof createApi>;
const QUERY_TIMEOUT_MS = 1500;

beforeAll(async () => {
  stack = await startApiStack({ REQUEST_TIMEOUT_MS: '10000', DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS) });
  const direct = new URL(databaseUrl());
  proxy = await createTcpProxy({ host: direct.hostname, port: Number(direct.port) });
  const viaProxy = new URL(direct);
  viaProxy.port = String(proxy.port);
  // As `app.ts` builds the API's pool: connect and statement time bounded below the request timeout.
  const sql = createDatabase({
    url: viaProxy.toString(),
    poolMax: 4,
    schema: stack.schema,
    connectTimeoutMs: stack.config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: stack.config.DATABASE_QUERY_TIMEOUT_MS,
  });
  api = createApi({
    ...stack.services,
    warehouse: createWarehouseReader({ sql, queryTimeoutMs: stack.config.DATABASE_QUERY_TIMEOUT_MS }),
  });
  afterAll(async () => {
    await sql.end({ timeout: 1 });
    await proxy.close();
  });
});

async function timed(path: string) {
  const started = Date.now();
  const res = await api.request(path);
  const body = (await res.json()) as { error?: { code: string; details?: unknown } };
  return { status: res.status, body, ms: Date.now() - started };
}

const paths = [
  '/stream/postgresql/latest',
  '/stream/postgresql/raw?device_id=dev-1',
  '/devices/dev-1/track',
  '/alerts?device_id=dev-1',
];

describe('the warehouse endpoints during a PostgreSQL outage', () => {
  it('answer a fast 503 naming PostgreSQL for as long as connections are refused, then recover', async () => {
    for (const path of paths) expect((await timed(path)).status).toBe(200);
    await proxy.cut();
    const answers: Awaited<ReturnType<typeof timed>>[] = [];
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      answers.push(...(await Promise.all(paths.map(timed))));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answers.length).toBeGreaterThan(30);
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.body.error).toMatchObject({ code: 'UNAVAILABLE', details: { dependency: 'postgresql' } });
    }
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1000);
    await proxy.restore();
    for (const path of paths) await stack.waitFor(async () => ((await timed(path)).status === 200 ? true : undefined));
  });

  it('answer 503 within the query bound, not 504, when PostgreSQL accepts connections but never answers', async () => {
    await proxy.hang();
    const answers = await Promise.all([...paths, ...paths].map(timed));
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.body.error).toMatchObject({ code: 'UNAVAILABLE', details: { dependency: 'postgresql' } });
      expect(a.ms).toBeLessThan(QUERY_TIMEOUT_MS + 1000);
    }
    await proxy.restore();
    for (const path of paths) await stack.waitFor(async () => ((await timed(path)).status === 200 ? true : undefined));
  });
});
