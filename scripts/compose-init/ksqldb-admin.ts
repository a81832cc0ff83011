/**
 * The small part of ksqlDB's REST API the init step needs: `POST /ksql` to list streams, tables and types,
 * to submit one statement at a time, and to list persistent queries; `GET /info` to wait for the server.
 *
 * Wire format (ksqlDB docs, "ksql endpoint"): request `{"ksql": "...;", "streamsProperties": {...},
 * "commandSequenceNumber": n}`; a 200 response is a JSON array of entities with an `@type`; an error is one
 * object `{"@type": "statement_error" | "generic_error", "error_code": n, "message": "..."}`.
 */
import type { ExistingObjects } from './ksql-statements.js';

export class KsqlRequestError extends Error {
  override name = 'KsqlRequestError';
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: number | undefined,
  ) {
    super(message);
  }

  /** 5xx (server starting, command runner busy) is worth retrying; a 4xx statement error is not. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 0;
  }
}

export interface KsqlAdminOptions {
  url: string;
  /** Per-request bound; CREATE ... AS SELECT waits for the command topic, so allow some seconds. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface PersistentQuery {
  id: string;
  state: string;
  sinks: string[];
}

export interface KsqlAdmin {
  /** Resolves when `GET /info` answers 200. */
  info(): Promise<{ version?: string }>;
  listObjects(): Promise<ExistingObjects & { types: ReadonlySet<string> }>;
  /** Submits one statement; returns the command sequence number to pass to the next statement. */
  execute(
    statement: string,
    properties: Record<string, string>,
    commandSequenceNumber?: number,
  ): Promise<{ commandSequenceNumber?: number; message?: string }>;
  listQueries(): Promise<PersistentQuery[]>;
}

type Entity = Record<string, unknown> & { '@type'?: string };

export function createKsqlAdmin(options: KsqlAdminOptions): KsqlAdmin {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 60_000;

  async function request(path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          accept: 'application/vnd.ksql.v1+json',
          ...(body === undefined ? {} : { 'content-type': 'application/vnd.ksql.v1+json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new KsqlRequestError(`ksqlDB at ${base} is unreachable: ${(err as Error).message}`, 0, undefined);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const err = (parsed ?? {}) as { message?: unknown; error_code?: unknown };
      const message = typeof err.message === 'string' ? err.message : text.slice(0, 300);
      throw new KsqlRequestError(
        `ksqlDB ${path} answered ${response.status}: ${message}`,
        response.status,
        typeof err.error_code === 'number' ? err.error_code : undefined,
      );
    }
    return parsed;
  }

  async function ksql(statement: string, streamsProperties: Record<string, string> = {}, seq?: number) {
    const body: Record<string, unknown> = { ksql: statement, streamsProperties };
    if (seq !== undefined) body['commandSequenceNumber'] = seq;
    const result = await request('/ksql', body);
    if (!Array.isArray(result)) throw new KsqlRequestError('ksqlDB /ksql answered a non-array body', 502, undefined);
    return result as Entity[];
  }

  return {
    async info() {
      const body = (await request('/info')) as { KsqlServerInfo?: { version?: string } } | undefined;
      return { version: body?.KsqlServerInfo?.version };
    },

    async listObjects() {
      const entities = await ksql('SHOW STREAMS; SHOW TABLES; SHOW TYPES;');
      return parseObjectLists(entities);
    },

    async execute(statement, properties, commandSequenceNumber) {
      const entities = await ksql(statement, properties, commandSequenceNumber);
      const status = entities.find((e) => e['@type'] === 'currentStatus');
      const seq = status?.['commandSequenceNumber'];
      const commandStatus = status?.['commandStatus'] as { status?: string; message?: string } | undefined;
      if (commandStatus?.status === 'ERROR') {
        throw new KsqlRequestError(`ksqlDB failed the statement: ${commandStatus.message ?? ''}`, 400, undefined);
      }
      return { commandSequenceNumber: typeof seq === 'number' ? seq : undefined, message: commandStatus?.message };
    },

    async listQueries() {
      const entities = await ksql('SHOW QUERIES;');
      const list = entities.find((e) => e['@type'] === 'queries')?.['queries'];
      if (!Array.isArray(list)) return [];
      return list.map((q: Record<string, unknown>) => ({
        id: String(q['id'] ?? ''),
        state: String(q['state'] ?? 'UNKNOWN'),
        sinks: Array.isArray(q['sinks']) ? q['sinks'].map(String) : [],
      }));
    },
  };
}

/** Reads the `streams`, `tables` and `type_list` entities of a `SHOW STREAMS; SHOW TABLES; SHOW TYPES;` answer. */
export function parseObjectLists(entities: Entity[]): ExistingObjects & { types: ReadonlySet<string> } {
  const names = (type: string, field: string) => {
    const list = entities.find((e) => e['@type'] === type)?.[field];
    return new Set(Array.isArray(list) ? list.map((o: { name?: unknown }) => String(o.name)) : []);
  };
  const types = entities.find((e) => e['@type'] === 'type_list')?.['types'];
  return {
    streams: names('streams', 'streams'),
    tables: names('tables', 'tables'),
    types: new Set(types && typeof types === 'object' ? Object.keys(types) : []),
  };
}
