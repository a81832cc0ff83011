/**
 * Loopback stand-ins for ksqlDB's and Kafka Connect's REST APIs, answering in their documented wire formats, so
 * the init step's HTTP side is tested without Docker. They record every request and can fail on demand.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  /** Answer the next `n` requests with this status and error body before behaving normally. */
  failNext(n: number, status: number, body: unknown): void;
  close(): Promise<void>;
}

type Handler = (req: RecordedRequest) => { status: number; body: unknown };

async function startFake(handler: Handler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  let failures: { left: number; status: number; body: unknown } = { left: 0, status: 0, body: null };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: text === '' ? undefined : JSON.parse(text),
      };
      requests.push(recorded);
      let answer: { status: number; body: unknown };
      if (failures.left > 0) {
        failures.left -= 1;
        answer = { status: failures.status, body: failures.body };
      } else {
        answer = handler(recorded);
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(n, status, body) {
      failures = { left: n, status, body };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** ksqlDB: `/info`, and `/ksql` for SHOW STREAMS/TABLES/TYPES/QUERIES and CREATE STREAM/TABLE. */
export async function startFakeKsqlDb(): Promise<FakeServer & { streams: Set<string>; tables: Set<string> }> {
  const streams = new Set<string>();
  const tables = new Set<string>();
  let seq = 0;
  const fake = await startFake(({ method, path, body }) => {
    if (method === 'GET' && path === '/info') {
      return { status: 200, body: { KsqlServerInfo: { version: '7.9.4', kafkaClusterId: 'x', ksqlServiceId: 'y' } } };
    }
    if (method !== 'POST' || path !== '/ksql') return { status: 404, body: { message: 'not found' } };
    const ksql = String((body as { ksql?: unknown }).ksql);
    if (/^SHOW STREAMS; SHOW TABLES; SHOW TYPES;$/.test(ksql)) {
      return {
        status: 200,
        body: [
          { '@type': 'streams', statementText: 'SHOW STREAMS;', streams: [...streams].map((name) => ({ name })) },
          { '@type': 'tables', statementText: 'SHOW TABLES;', tables: [...tables].map((name) => ({ name })) },
          { '@type': 'type_list', statementText: 'SHOW TYPES;', types: {} },
        ],
      };
    }
    if (ksql === 'SHOW QUERIES;') {
      return {
        status: 200,
        body: [{ '@type': 'queries', queries: [...tables].map((t) => ({ id: `CTAS_${t}_1`, state: 'RUNNING' })) }],
      };
    }
    // Its own reading of the statement (not the init's parser): skip comments, take the first CREATE.
    const create = /CREATE\s+(STREAM|TABLE)\s+(\w+)/i.exec(ksql.replace(/--[^\n]*/g, ''));
    if (!create) return { status: 400, body: { '@type': 'statement_error', error_code: 40001, message: 'bad' } };
    const set = create[1]!.toUpperCase() === 'STREAM' ? streams : tables;
    const name = create[2]!.toUpperCase();
    if (set.has(name)) {
      return {
        status: 400,
        body: {
          '@type': 'statement_error',
          error_code: 40001,
          message: `Cannot add ${create[1]!.toLowerCase()} '${name}': A ${create[1]!.toLowerCase()} with the same name already exists`,
        },
      };
    }
    set.add(name);
    seq += 1;
    return {
      status: 200,
      body: [
        {
          '@type': 'currentStatus',
          statementText: ksql,
          commandId: `x/${name}/create`,
          commandStatus: { status: 'SUCCESS', message: 'Created' },
          commandSequenceNumber: seq,
          warnings: [],
        },
      ],
    };
  });
  return Object.assign(fake, { streams, tables });
}

/** Kafka Connect: `/connector-plugins` (empty for the first `pluginsAfter` calls) and `PUT /connectors/x/config`. */
export async function startFakeConnect(pluginsAfter = 0): Promise<FakeServer & { configs: Map<string, unknown> }> {
  const configs = new Map<string, unknown>();
  let pluginCalls = 0;
  const fake = await startFake(({ method, path, body }) => {
    if (method === 'GET' && path === '/connector-plugins') {
      pluginCalls += 1;
      const ready = pluginCalls > pluginsAfter;
      return {
        status: 200,
        body: ready ? [{ class: 'io.confluent.connect.jdbc.JdbcSinkConnector', type: 'sink', version: '10.8.4' }] : [],
      };
    }
    const put = /^\/connectors\/([^/]+)\/config$/.exec(path);
    if (method === 'PUT' && put) {
      const name = decodeURIComponent(put[1]!);
      const existed = configs.has(name);
      configs.set(name, body);
      return { status: existed ? 200 : 201, body: { name, config: body, tasks: [] } };
    }
    return { status: 404, body: { error_code: 404, message: 'not found' } };
  });
  return Object.assign(fake, { configs });
}
