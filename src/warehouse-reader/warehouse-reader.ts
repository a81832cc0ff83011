/**
 * Reads the warehouse tables (`device_winagg_status_per2s`, `device_winagg_status_perdevice`, `device_alerts`,
 * created by `migrations/`) for the API. Rows come back in the same lower-case shape as the stream layer's, and
 * alerts in the shape of the alert record (without the table's source-position and generated time columns).
 *
 * History paging is keyset-based on `window_start` (unique per device, since the sinks keep one row per window),
 * newest first: a page of `limit` rows plus an opaque `next` cursor when older rows remain. Cursors carry the
 * device id, so a cursor cannot be replayed against another device. Alert paging is the same over
 * `(opened_at, alert_id)`, newest first (the order of the table's `device_alerts_*opened_idx` indexes); an alert
 * cursor carries a digest of the filter (devices, types, status), so it cannot be replayed against another one.
 * A device's track (`track-reader.ts`) is its windows over a time range in time order, thinned to a point limit.
 * Every read is bounded (`bounded-query.ts`): an outage answers a 503 naming PostgreSQL.
 */

import { createHash } from 'node:crypto';
import type { AlertRecord, AlertStatus, AlertType } from '../core/alerts/alert-record.js';
import type { DeviceLatest, WindowAggregate } from '../core/results.js';
import type { Sql } from '../sink/database.js';
import { createBoundedQuery } from './bounded-query.js';
import { createTrackReader, type Track, type TrackQuery } from './track-reader.js';
import { toWindowAggregate, type WindowDbRow, windowColumns } from './window-rows.js';

export interface HistoryQuery {
  deviceId: string;
  limit: number;
  /** Inclusive lower bound on window_start, epoch ms. */
  from?: number;
  /** Exclusive upper bound on window_start, epoch ms. */
  to?: number;
  /** From a previous page's `next`. */
  cursor?: string;
}

export interface HistoryPage {
  rows: WindowAggregate[];
  next?: string;
}

export interface AlertQuery {
  /** Only these devices; every device when absent or empty. */
  deviceIds?: readonly string[];
  /** Only these types; every type when absent or empty. */
  types?: readonly AlertType[];
  status?: AlertStatus;
  /** Inclusive lower bound on opened_at, epoch ms. */
  from?: number;
  /** Exclusive upper bound on opened_at, epoch ms. */
  to?: number;
  limit: number;
  /** From a previous page's `next`, with the same devices, types and status. */
  cursor?: string;
}

export interface AlertPage {
  rows: AlertRecord[];
  next?: string;
}

export interface WarehouseReader {
  listWindows(query: HistoryQuery): Promise<HistoryPage>;
  listLatest(): Promise<DeviceLatest[]>;
  /** A device's windows over a time range in time order, thinned to at most `limit` (`track-reader.ts`). */
  readTrack(query: TrackQuery): Promise<Track>;
  /** Alerts newest opening first (ties: the greater `alert_id` first). */
  listAlerts(query: AlertQuery): Promise<AlertPage>;
}

/** A cursor that does not decode, or belongs to another device. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

export function encodeCursor(deviceId: string, windowStart: number): string {
  return Buffer.from(JSON.stringify({ d: deviceId, w: windowStart }), 'utf8').toString('base64url');
}

/** The JSON object inside a cursor, or `InvalidCursorError`. */
function cursorFields(cursor: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('cursor is not valid');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new InvalidCursorError('cursor is not valid');
  return parsed as Record<string, unknown>;
}

export function decodeCursor(cursor: string, deviceId: string): number {
  const { d, w } = cursorFields(cursor);
  if (typeof d !== 'string' || typeof w !== 'number' || !Number.isSafeInteger(w)) {
    throw new InvalidCursorError('cursor is not valid');
  }
  if (d !== deviceId) throw new InvalidCursorError('cursor belongs to another device_id');
  return w;
}

type AlertFilter = Pick<AlertQuery, 'deviceIds' | 'types' | 'status'>;

/** The same digest for the same devices, types and status, whatever their order or repetition. */
function filterDigest({ deviceIds, types, status }: AlertFilter): string {
  const set = (values: readonly string[] | undefined) => [...new Set(values ?? [])].sort();
  const canonical = JSON.stringify([set(deviceIds), set(types), status ?? null]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

export interface AlertPosition {
  openedAt: number;
  alertId: string;
}

export function encodeAlertCursor(filter: AlertFilter, position: AlertPosition): string {
  const body = { o: position.openedAt, a: position.alertId, f: filterDigest(filter) };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

export function decodeAlertCursor(cursor: string, filter: AlertFilter): AlertPosition {
  const { o, a, f } = cursorFields(cursor);
  if (typeof o !== 'number' || !Number.isSafeInteger(o) || typeof a !== 'string' || a === '' || typeof f !== 'string') {
    throw new InvalidCursorError('cursor is not valid');
  }
  if (f !== filterDigest(filter)) throw new InvalidCursorError('cursor belongs to another device_id, type or status');
  return { openedAt: o, alertId: a };
}

export interface WarehouseReaderOptions {
  sql: Sql;
  /**
   * Bound on one read, connecting included, so that an outage answers a fast 503 rather than a request timeout:
   * a query queued behind a connection attempt to a server that went away otherwise waited out the whole request.
   * @default 3000
   */
  queryTimeoutMs?: number;
}

export function createWarehouseReader(options: WarehouseReaderOptions): WarehouseReader {
  const { sql } = options;
  const queryTimeoutMs = options.queryTimeoutMs ?? 3000;
  const run = createBoundedQuery(queryTimeoutMs);

  return {
    async listWindows({ deviceId, limit, from, to, cursor }) {
      const before = cursor === undefined ? undefined : decodeCursor(cursor, deviceId);
      const rows = await run(
        () => sql<WindowDbRow[]>`
          select ${sql(windowColumns)}
          from device_winagg_status_per2s
          where device_id = ${deviceId}
            ${from === undefined ? sql`` : sql`and window_start >= ${from}`}
            ${to === undefined ? sql`` : sql`and window_start < ${to}`}
            ${before === undefined ? sql`` : sql`and window_start < ${before}`}
          order by window_start desc
          limit ${limit + 1}`,
      );
      const page = rows.slice(0, limit).map(toWindowAggregate);
      const last = page[page.length - 1];
      return rows.length > limit && last
        ? { rows: page, next: encodeCursor(deviceId, last.window_start) }
        : { rows: page };
    },
    readTrack: createTrackReader(sql, run, queryTimeoutMs),
    async listLatest() {
      const rows = await run(
        () => sql<DeviceLatest[]>`
          select device_id, latitude, longitude, distance, event_ts, temperature, sound, altitude
          from device_winagg_status_perdevice
          order by device_id`,
      );
      return rows.map((r) => ({ ...r }));
    },
    async listAlerts(query) {
      const { deviceIds, types, status, from, to, limit, cursor } = query;
      const after = cursor === undefined ? undefined : decodeAlertCursor(cursor, query);
      const rows = await run(
        () => sql<AlertRecord[]>`
          select alert_id, device_id, type, metric, status, severity, opened_at, cleared_at, updated_at, readings,
                 worst_value, normal_min, normal_max, latitude, longitude, revision
          from device_alerts
          where true
            ${deviceIds?.length ? sql`and device_id in ${sql(deviceIds)}` : sql``}
            ${types?.length ? sql`and type in ${sql(types)}` : sql``}
            ${status === undefined ? sql`` : sql`and status = ${status}`}
            ${from === undefined ? sql`` : sql`and opened_at >= ${from}`}
            ${to === undefined ? sql`` : sql`and opened_at < ${to}`}
            ${after === undefined ? sql`` : sql`and (opened_at, alert_id) < (${after.openedAt}, ${after.alertId})`}
          order by opened_at desc, alert_id desc
          limit ${limit + 1}`,
      );
      // The select list is the record's fields: no source position, no generated time columns.
      const page = rows.slice(0, limit).map((r) => ({ ...r }));
      const last = page[page.length - 1];
      return rows.length > limit && last
        ? { rows: page, next: encodeAlertCursor(query, { openedAt: last.opened_at, alertId: last.alert_id }) }
        : { rows: page };
    },
  };
}
