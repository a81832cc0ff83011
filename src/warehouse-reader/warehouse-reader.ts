/**
 * Reads the warehouse tables (`device_winagg_status_per2s`, `device_winagg_status_perdevice`, created by
 * `migrations/`) for the API. Rows come back in the same lower-case shape as the stream layer's.
 *
 * History paging is keyset-based on `window_start` (unique per device, since the sinks keep one row per window),
 * newest first: a page of `limit` rows plus an opaque `next` cursor when older rows remain. Cursors carry the
 * device id, so a cursor cannot be replayed against another device.
 */

import type postgres from 'postgres';
import type { DeviceLatest, WindowAggregate } from '../core/results.js';
import { UnavailableError } from '../errors.js';
import type { Sql } from '../sink/database.js';

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

export interface WarehouseReader {
  listWindows(query: HistoryQuery): Promise<HistoryPage>;
  listLatest(): Promise<DeviceLatest[]>;
}

/** A cursor that does not decode, or belongs to another device. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

export function encodeCursor(deviceId: string, windowStart: number): string {
  return Buffer.from(JSON.stringify({ d: deviceId, w: windowStart }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, deviceId: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('cursor is not valid');
  }
  const { d, w } = (parsed ?? {}) as { d?: unknown; w?: unknown };
  if (typeof d !== 'string' || typeof w !== 'number' || !Number.isSafeInteger(w)) {
    throw new InvalidCursorError('cursor is not valid');
  }
  if (d !== deviceId) throw new InvalidCursorError('cursor belongs to another device_id');
  return w;
}

interface WindowDbRow extends Omit<WindowAggregate, 'avg_temp' | 'avg_sound' | 'avg_alt'> {
  avg_temp: number | null;
  avg_sound: number | null;
  avg_alt: number | null;
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

const TIMED_OUT = Symbol('timed out');

export function createWarehouseReader(options: WarehouseReaderOptions): WarehouseReader {
  const { sql } = options;
  const queryTimeoutMs = options.queryTimeoutMs ?? 3000;

  async function run<T extends readonly postgres.MaybeRow[]>(
    query: () => postgres.PendingQuery<T>,
  ): Promise<postgres.RowList<T>> {
    const pending = query();
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), queryTimeoutMs);
      });
      const result = await Promise.race([pending, deadline]);
      if (result === TIMED_OUT) {
        pending.cancel();
        pending.catch(() => undefined);
        throw new UnavailableError('postgresql', `PostgreSQL did not answer within ${queryTimeoutMs} ms`);
      }
      return result;
    } catch (err) {
      if (err instanceof UnavailableError) throw err;
      const code = (err as { code?: unknown }).code;
      if (code === '42P01')
        throw new UnavailableError('postgresql', 'the warehouse tables do not exist yet (migrations not applied)', err);
      if (code === '57014')
        throw new UnavailableError('postgresql', `PostgreSQL did not answer within ${queryTimeoutMs} ms`, err);
      throw new UnavailableError('postgresql', 'PostgreSQL is unreachable or failed the query', err);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async listWindows({ deviceId, limit, from, to, cursor }) {
      const before = cursor === undefined ? undefined : decodeCursor(cursor, deviceId);
      const rows = await run(
        () => sql<WindowDbRow[]>`
          select id, device_id, window_start, window_end, latitude, longitude, distance, event_ts, event_count,
                 avg_temp, avg_sound, avg_alt
          from device_winagg_status_per2s
          where device_id = ${deviceId}
            ${from === undefined ? sql`` : sql`and window_start >= ${from}`}
            ${to === undefined ? sql`` : sql`and window_start < ${to}`}
            ${before === undefined ? sql`` : sql`and window_start < ${before}`}
          order by window_start desc
          limit ${limit + 1}`,
      );
      const page = rows.slice(0, limit).map(
        (r): WindowAggregate => ({
          id: r.id,
          device_id: r.device_id,
          window_start: r.window_start,
          window_end: r.window_end,
          latitude: r.latitude,
          longitude: r.longitude,
          distance: r.distance,
          event_ts: r.event_ts,
          event_count: r.event_count,
          // ksqlDB's AVG over no values is 0.0; a NULL written by another sink means the same.
          avg_temp: r.avg_temp ?? 0,
          avg_sound: r.avg_sound ?? 0,
          avg_alt: r.avg_alt ?? 0,
        }),
      );
      const last = page[page.length - 1];
      return rows.length > limit && last
        ? { rows: page, next: encodeCursor(deviceId, last.window_start) }
        : { rows: page };
    },
    async listLatest() {
      const rows = await run(
        () => sql<DeviceLatest[]>`
          select device_id, latitude, longitude, distance, event_ts, temperature, sound, altitude
          from device_winagg_status_perdevice
          order by device_id`,
      );
      return rows.map((r) => ({ ...r }));
    },
  };
}
