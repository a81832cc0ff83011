/**
 * A minimal ksqlDB `/query-stream` client over HTTP/1.1 (ksqlDB ≥ 0.24 serves it on HTTP/1.1 too), speaking the
 * documented delimited format (`application/vnd.ksqlapi.delimited.v1`): one JSON header object with
 * `columnNames`, then one JSON array per row, newline-separated. An error is a JSON object (`@type`,
 * `error_code`, `message`), either as the whole non-2xx body or as a line after the header.
 *
 * User input never enters the SQL text by concatenation: statements reference `${name}` session variables and
 * the values travel in `sessionVariables`, after the caller validated them against a strict pattern.
 */
import { UnavailableError } from '../errors.js';

export interface KsqlDbClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8088`. */
  url: string;
  /** Bound on a pull query, connection included. @default 5000 */
  timeoutMs?: number;
}

export interface QueryRequest {
  sql: string;
  properties?: Record<string, string>;
  sessionVariables?: Record<string, string | number>;
  /** Aborts a push query; pull queries also stop at `timeoutMs`. */
  signal?: AbortSignal;
}

export type KsqlRow = Record<string, unknown>;

export interface KsqlDbClient {
  /** Runs a pull query and returns every row as an object keyed by column name. */
  pull(request: QueryRequest): Promise<KsqlRow[]>;
  /** Runs a push query; yields rows until the server ends the response or `signal` aborts. */
  push(request: QueryRequest): AsyncGenerator<KsqlRow>;
}

/**
 * Quotes a value for a `${var}` reference inside a ksqlDB string literal. ksqlDB substitutes variables as text,
 * so this doubles single quotes as a second line of defence; callers still validate values against a strict
 * pattern first (device ids never contain quotes).
 */
export function escapeKsqlString(value: string): string {
  return value.replace(/'/g, "''");
}

export function createKsqlDbClient(options: KsqlDbClientOptions): KsqlDbClient {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;

  async function open(request: QueryRequest, signal: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${base}/query-stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/vnd.ksqlapi.delimited.v1' },
        body: JSON.stringify({
          sql: request.sql,
          properties: request.properties ?? {},
          sessionVariables: request.sessionVariables ?? {},
        }),
        signal,
      });
    } catch (err) {
      throw unavailable(err, signal);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw new UnavailableError('ksqldb', `ksqlDB rejected the query (HTTP ${response.status})`, describeError(text));
    }
    return response;
  }

  function unavailable(err: unknown, signal: AbortSignal): UnavailableError {
    if (signal.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError') {
      return new UnavailableError('ksqldb', `ksqlDB did not answer within ${timeoutMs} ms`, err);
    }
    return new UnavailableError('ksqldb', 'ksqlDB is unreachable', err);
  }

  async function* rows(response: Response, signal: AbortSignal): AsyncGenerator<KsqlRow> {
    let columns: string[] | undefined;
    try {
      for await (const line of lines(response)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch (err) {
          throw new UnavailableError('ksqldb', 'ksqlDB sent a line that is not JSON', err);
        }
        if (Array.isArray(parsed)) {
          if (!columns) throw new UnavailableError('ksqldb', 'ksqlDB sent a row before the header');
          const row: KsqlRow = {};
          columns.forEach((name, i) => {
            row[name] = parsed[i];
          });
          yield row;
        } else if (
          parsed &&
          typeof parsed === 'object' &&
          Array.isArray((parsed as { columnNames?: unknown }).columnNames)
        ) {
          columns = (parsed as { columnNames: string[] }).columnNames;
        } else {
          throw new UnavailableError('ksqldb', 'ksqlDB reported an error while running the query', describeError(line));
        }
      }
    } catch (err) {
      if (err instanceof UnavailableError) throw err;
      throw unavailable(err, signal);
    }
  }

  return {
    async pull(request) {
      const signal = request.signal
        ? AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs);
      const response = await open(request, signal);
      const result: KsqlRow[] = [];
      for await (const row of rows(response, signal)) result.push(row);
      return result;
    },
    async *push(request) {
      const controller = new AbortController();
      const outer = request.signal;
      const onAbort = () => controller.abort(outer?.reason);
      outer?.addEventListener('abort', onAbort, { once: true });
      // Only the connection and the header are bounded; the rows of a push query come whenever they come.
      const timer = setTimeout(() => controller.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
      try {
        const response = await open(request, controller.signal);
        clearTimeout(timer);
        yield* rows(response, controller.signal);
      } finally {
        clearTimeout(timer);
        outer?.removeEventListener('abort', onAbort);
        controller.abort();
      }
    },
  };
}

/** Splits a response body into non-empty lines as they arrive. */
async function* lines(response: Response): AsyncGenerator<string> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield line;
      newline = buffer.indexOf('\n');
    }
  }
  const rest = (buffer + decoder.decode()).trim();
  if (rest) yield rest;
}

/** The error object's type and code for the log; its message stays out of API responses. */
function describeError(text: string): Error {
  try {
    const body = JSON.parse(text) as { '@type'?: string; error_code?: number; message?: string };
    return new Error(`${body['@type'] ?? 'error'} ${body.error_code ?? ''}: ${body.message ?? ''}`.trim());
  } catch {
    return new Error(text.slice(0, 500));
  }
}
