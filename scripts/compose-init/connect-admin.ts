/**
 * Registering the `connect/*.json` sink configs with Kafka Connect's REST API, idempotently:
 * `PUT /connectors/<name>/config` creates a connector or updates it in place, so running the init again
 * (or after a config change) converges without a delete.
 *
 * The files may be either shape Connect's docs use: `{ "name": ..., "config": { ... } }` (the body of
 * `POST /connectors`) or a flat config with `name` inside. Placeholders such as `${env:POSTGRES_PASSWORD}`
 * are sent as they are; the worker resolves them with its config providers, so no secret passes through here.
 */

export interface ConnectorConfig {
  name: string;
  config: Record<string, string>;
}

export class ConnectRequestError extends Error {
  override name = 'ConnectRequestError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }

  get retryable(): boolean {
    // 409: a rebalance is in progress, the documented "try again later" answer.
    return this.status === 0 || this.status === 409 || this.status >= 500;
  }
}

/** Parses one connector file; throws naming the file when it is not a usable connector config. */
export function parseConnectorFile(fileName: string, text: string): ConnectorConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${fileName}: not JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${fileName}: not an object`);
  const obj = raw as Record<string, unknown>;
  const nested = obj['config'];
  const config = (nested && typeof nested === 'object' ? nested : obj) as Record<string, unknown>;
  const name = obj['name'] ?? config['name'];
  if (typeof name !== 'string' || name === '') throw new Error(`${fileName}: no connector "name"`);
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'name') continue;
    if (value === null || typeof value === 'object') throw new Error(`${fileName}: "${key}" must be a scalar`);
    flat[key] = String(value);
  }
  if (!flat['connector.class']) throw new Error(`${fileName}: no "connector.class"`);
  return { name, config: flat };
}

export interface ConnectAdminOptions {
  url: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface ConnectAdmin {
  /** Connector classes the worker has on its plugin path. */
  plugins(): Promise<string[]>;
  /** Creates or updates; returns whether the connector was created. */
  put(connector: ConnectorConfig): Promise<{ created: boolean }>;
  status(name: string): Promise<{ connector: string; tasks: string[] }>;
}

export function createConnectAdmin(options: ConnectAdminOptions): ConnectAdmin {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ConnectRequestError(`Kafka Connect at ${base} is unreachable: ${(err as Error).message}`, 0);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const message = (json as { message?: unknown } | undefined)?.message;
      throw new ConnectRequestError(
        `Kafka Connect ${method} ${path} answered ${response.status}: ${typeof message === 'string' ? message : text.slice(0, 300)}`,
        response.status,
      );
    }
    return { status: response.status, json };
  }

  return {
    async plugins() {
      const { json } = await request('GET', '/connector-plugins');
      return Array.isArray(json) ? json.map((p: { class?: unknown }) => String(p.class)) : [];
    },
    async put(connector) {
      const { status } = await request('PUT', `/connectors/${encodeURIComponent(connector.name)}/config`, {
        ...connector.config,
        name: connector.name,
      });
      return { created: status === 201 };
    },
    async status(name) {
      const { json } = await request('GET', `/connectors/${encodeURIComponent(name)}/status`);
      const body = json as { connector?: { state?: string }; tasks?: { state?: string }[] } | undefined;
      return {
        connector: body?.connector?.state ?? 'UNKNOWN',
        tasks: (body?.tasks ?? []).map((t) => t.state ?? 'UNKNOWN'),
      };
    },
  };
}
