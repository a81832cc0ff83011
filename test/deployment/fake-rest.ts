/**
 * A loopback stand-in for Kafka Connect's REST API, answering in its documented wire format (the connector and
 * plugin resources of the Connect REST reference), so the connector registration is tested without Docker. It
 * records every request and can fail on demand.
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

/**
 * Kafka Connect: `GET /connector-plugins` (empty for the first `pluginsAfter` calls) and
 * `PUT /connectors/<name>/config` (201 when created, 200 when updated). `refuse(name, ...)` answers the next `times`
 * PUTs of one connector with an error instead.
 */
export async function startFakeConnect(pluginsAfter = 0): Promise<
  FakeServer & {
    configs: Map<string, unknown>;
    refuse(name: string, status: number, body: unknown, times?: number): void;
  }
> {
  const configs = new Map<string, unknown>();
  const refused = new Map<string, { status: number; body: unknown; left: number }>();
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
      const refusal = refused.get(name);
      if (refusal && refusal.left > 0) {
        refusal.left -= 1;
        return { status: refusal.status, body: refusal.body };
      }
      const existed = configs.has(name);
      configs.set(name, body);
      return { status: existed ? 200 : 201, body: { name, config: body, tasks: [] } };
    }
    return { status: 404, body: { error_code: 404, message: 'not found' } };
  });
  return Object.assign(fake, {
    configs,
    refuse(name: string, status: number, body: unknown, times = Number.POSITIVE_INFINITY) {
      refused.set(name, { status, body, left: times });
    },
  });
}
