/**
 * ksqlDB stream layer: reads the two tables with pull queries (`/query-stream`) and keeps one push query per
 * table per instance as the change feed for live clients — never one query per HTTP client.
 *
 * Device ids are validated against the one device-id rule (`core/device-id.ts`) and bound as session
 * variables (`${device_id}`); the SQL text is constant. A pull query on the windowed table returns the device's windows in ascending
 * WINDOWSTART order; the newest `limit` are taken and reversed (ksqlDB pull queries have no ORDER BY, and
 * `LIMIT` would keep the oldest).
 */
import { backoffDelay } from '../core/backoff.js';
import { isValidDeviceId } from '../core/device-id.js';
import { decodeKsqlLatestRow, decodeKsqlWindowRow } from '../core/output-records.js';
import { type DeviceLatest, toDeviceLatest, toWindowAggregate, type WindowAggregate } from '../core/results.js';
import { WINDOW_SIZE_MS } from '../core/window.js';
import { AppError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { MetricSample } from '../observability/metrics.js';
import { createKsqlDbClient, escapeKsqlString, type KsqlDbClient, type KsqlRow } from './ksqldb-client.js';
import type { StreamChange, StreamChangeListener, StreamLayer } from './stream-layer.js';

export interface KsqlDbStreamLayerOptions {
  url: string;
  logger: Logger;
  /** @default 'DEVICE_WINAGG_STATUS_PER2S' */
  windowsTable?: string;
  /** @default 'DEVICE_WINAGG_STATUS_PERDEVICE' */
  latestTable?: string;
  /** @default 5000 */
  timeoutMs?: number;
  /** Start the push queries that feed live clients. @default true */
  feed?: boolean;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Maps a ksqlDB row of the per2s table (columns as `SELECT *` names them) to the API row. */
export function toWindowRow(row: KsqlRow): WindowAggregate {
  const decoded = decodeKsqlWindowRow(row);
  if (!decoded.ok || decoded.record === null) throw new AppError('DECODE_FAILED', rowError(decoded));
  return toWindowAggregate(decoded.deviceId, decoded.record);
}

export function toLatestRow(row: KsqlRow): DeviceLatest {
  const decoded = decodeKsqlLatestRow(row);
  if (!decoded.ok || decoded.record === null) throw new AppError('DECODE_FAILED', rowError(decoded));
  return toDeviceLatest(decoded.deviceId, decoded.record);
}

const rowError = (decoded: { ok: boolean; reason?: string }) =>
  `ksqlDB returned a row that does not match the table: ${decoded.reason ?? 'empty'}`;

function newest(rows: KsqlRow[], limit: number): WindowAggregate[] {
  return rows
    .map(toWindowRow)
    .sort((a, b) => b.window_start - a.window_start)
    .slice(0, limit);
}

export function createKsqlDbStreamLayer(options: KsqlDbStreamLayerOptions): StreamLayer {
  const windowsTable = options.windowsTable ?? 'DEVICE_WINAGG_STATUS_PER2S';
  const latestTable = options.latestTable ?? 'DEVICE_WINAGG_STATUS_PERDEVICE';
  for (const table of [windowsTable, latestTable]) {
    if (!IDENTIFIER.test(table)) throw new AppError('CONFIG_INVALID', `invalid ksqlDB table name: ${table}`);
  }
  const { logger } = options;
  const client: KsqlDbClient = createKsqlDbClient({ url: options.url, timeoutMs: options.timeoutMs ?? 5000 });
  const listeners = new Set<StreamChangeListener>();
  const counters = { pullQueries: 0, pullFailures: 0, feedRows: 0, feedRestarts: 0 };
  let controller: AbortController | undefined;
  const feeds: Promise<void>[] = [];

  // Constant statements: the only variable part is the session variable bound by ksqlDB.
  const windowsSql = `SELECT * FROM ${windowsTable} WHERE DEVICE_ID = '\${device_id}';`;
  const recentWindowsSql = `SELECT * FROM ${windowsTable} WHERE DEVICE_ID = '\${device_id}' AND WINDOWSTART >= \${since};`;
  const latestSql = `SELECT * FROM ${latestTable};`;

  function emit(change: StreamChange) {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (err) {
        logger.error({ err }, 'stream_listener_failed');
      }
    }
  }

  async function pull(sql: string, sessionVariables?: Record<string, string>) {
    counters.pullQueries++;
    try {
      return await client.pull({ sql, ...(sessionVariables ? { sessionVariables } : {}) });
    } catch (err) {
      counters.pullFailures++;
      logger.warn({ err }, 'ksqldb_pull_query_failed');
      throw err;
    }
  }

  /** One push query, restarted with capped backoff; `earliest` replays the table so the feed starts complete. */
  async function runFeed(table: string, map: (row: KsqlRow) => StreamChange, signal: AbortSignal) {
    let attempt = 0;
    while (!signal.aborted) {
      try {
        const rows = client.push({
          sql: `SELECT * FROM ${table} EMIT CHANGES;`,
          properties: { 'auto.offset.reset': 'earliest' },
          signal,
        });
        for await (const row of rows) {
          attempt = 0;
          counters.feedRows++;
          try {
            emit(map(row));
          } catch (err) {
            logger.warn({ err, table }, 'ksqldb_feed_row_invalid');
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        logger.warn({ err, table, attempt }, 'ksqldb_feed_failed');
      }
      if (signal.aborted) return;
      counters.feedRestarts++;
      const delay = backoffDelay(attempt++, { initialMs: 250, maxMs: 30_000 });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  return {
    name: 'stream-layer',
    engine: 'ksqldb',
    async start() {
      if (options.feed === false) return;
      controller = new AbortController();
      const signal = controller.signal;
      feeds.push(
        runFeed(
          windowsTable,
          (row) => {
            const r = toWindowRow(row);
            return { kind: 'window', deviceId: r.device_id, row: r };
          },
          signal,
        ),
        runFeed(
          latestTable,
          (row) => {
            const r = toLatestRow(row);
            return { kind: 'latest', deviceId: r.device_id, row: r };
          },
          signal,
        ),
      );
    },
    async stop() {
      controller?.abort();
      await Promise.allSettled(feeds.splice(0));
      listeners.clear();
    },
    async listWindows({ deviceId, limit }) {
      // Validated by the route already; checked again because this is the line that reaches ksqlDB.
      if (!isValidDeviceId(deviceId)) return [];
      // ksqlDB substitutes variables as text: the value is escaped as a string-literal body on top of the check.
      const device = escapeKsqlString(deviceId);
      // A key lookup returns every retained window (a day by default), oldest first. Ask for a recent range
      // first, widening it, and fall back to the whole key only when the device has too few recent windows.
      let span = limit * WINDOW_SIZE_MS * 2;
      for (let attempt = 0; attempt < 3; attempt++, span *= 16) {
        const since = String(Math.trunc(Date.now() - span));
        const rows = await pull(recentWindowsSql, { device_id: device, since });
        if (rows.length >= limit) return newest(rows, limit);
      }
      return newest(await pull(windowsSql, { device_id: device }), limit);
    },
    async listLatest() {
      const rows = await pull(latestSql);
      return rows.map(toLatestRow).sort((a, b) => (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0));
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async check() {
      await client.pull({ sql: `SELECT * FROM ${latestTable} LIMIT 1;` });
    },
    metrics(): MetricSample[] {
      return [
        {
          name: 'ksqldb_pull_queries_total',
          help: 'Pull queries sent to ksqlDB',
          type: 'counter',
          value: counters.pullQueries,
        },
        {
          name: 'ksqldb_pull_query_failures_total',
          help: 'Pull queries that failed (unreachable, timeout or rejected)',
          type: 'counter',
          value: counters.pullFailures,
        },
        {
          name: 'ksqldb_feed_rows_total',
          help: 'Rows received on the push-query change feed',
          type: 'counter',
          value: counters.feedRows,
        },
        {
          name: 'ksqldb_feed_restarts_total',
          help: 'Restarts of the push-query change feed',
          type: 'counter',
          value: counters.feedRestarts,
        },
      ];
    },
  };
}
