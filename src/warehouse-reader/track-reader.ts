/**
 * A device's track over a time range from `device_winagg_status_per2s`, for `GET /devices/{device_id}/track`:
 * its windows in time order, thinned to at most `limit` by the rule of `core/track-thinning.ts`.
 *
 * Two statements within one deadline, both on the `(device_id, window_start)` index: the number of windows in
 * the range with its first and last start (an index-only scan), then either every window (no more than `limit`)
 * or one index probe per sample time, the first window at or after it. A week of 2-second windows (302,400) is
 * thus a count and `limit` probes, never a transfer or a sort of the whole week. The two statements are not one
 * snapshot: a late window written between them can be left out of the count or the points, never invented.
 * Windows without a position (NULL latitude or longitude) are skipped; the table's columns are NOT NULL, so
 * none is stored today.
 */

import type { WindowAggregate } from '../core/results.js';
import { sampleTimes } from '../core/track-thinning.js';
import type { Sql } from '../sink/database.js';
import type { BoundedQuery } from './bounded-query.js';
import { toWindowAggregate, type WindowDbRow, windowColumns } from './window-rows.js';

export interface TrackQuery {
  deviceId: string;
  /** Inclusive lower bound on window_start, epoch ms. */
  from: number;
  /** Exclusive upper bound on window_start, epoch ms. */
  to: number;
  /** Most windows returned (at least 2: the first and the last are always kept). */
  limit: number;
}

export interface Track {
  /** Windows of the device in the range, before thinning. */
  windows: number;
  /** Whether the range held more windows than `limit`, so only a subset came back. */
  thinned: boolean;
  /** The windows returned, in time order. */
  rows: WindowAggregate[];
}

export function createTrackReader(sql: Sql, run: BoundedQuery, queryTimeoutMs: number) {
  return async function readTrack({ deviceId, from, to, limit }: TrackQuery): Promise<Track> {
    const deadline = Date.now() + queryTimeoutMs;
    const [range] = await run(
      () => sql<{ windows: number; first: number | null; last: number | null }[]>`
        select count(*) as windows, min(window_start) as first, max(window_start) as last
        from device_winagg_status_per2s
        where device_id = ${deviceId} and window_start >= ${from} and window_start < ${to}`,
      { deadline },
    );
    if (!range || range.first === null || range.last === null) return { windows: 0, thinned: false, rows: [] };
    const { windows, first, last } = range;
    const positioned = sql`device_id = ${deviceId} and latitude is not null and longitude is not null`;
    const rows =
      windows <= limit
        ? await run(
            () => sql<WindowDbRow[]>`
              select ${sql(windowColumns)} from device_winagg_status_per2s
              where ${positioned} and window_start >= ${first} and window_start <= ${last}
              order by window_start
              limit ${limit}`,
            { deadline },
          )
        : await run(
            () => sql<WindowDbRow[]>`
              select distinct on (w.window_start) w.*
              from unnest(${sql.array(sampleTimes(first, last, limit))}::bigint[]) as sample(at)
              cross join lateral (
                select ${sql(windowColumns)} from device_winagg_status_per2s
                where ${positioned} and window_start >= sample.at and window_start <= ${last}
                order by window_start
                limit 1
              ) w
              order by w.window_start`,
            { deadline },
          );
    return { windows, thinned: windows > limit, rows: rows.map(toWindowAggregate) };
  };
}
