/**
 * Stream time and grace, as Kafka Streams uses them (ksqldb-semantics.md §1.4, §4.2).
 *
 * Stream time is the largest record timestamp a task has seen; it never goes back and it is never read from
 * the wall clock. Two stream times exist per partition, as in ksqlDB where the join and the aggregation are
 * separate queries: the join's (every source record) and the aggregation's (every JOIN_EVENTS row).
 *
 * - A window accepts a row only while `windowEnd > streamTime − grace` (`KStreamWindowAggregate`).
 * - A stored join record can still be matched while `ts > streamTime − retention` (segmented store fetch).
 */

/** ksqlDB's defaults when the statements give no GRACE PERIOD (ksqldb-semantics.md §1.1, §4.2). */
export const KSQLDB_DEFAULTS = {
  /** `max(24 h − window size, 0)` for the 2-second tumbling windows. */
  windowGraceMs: 86_398_000,
  /** Join window store retention: size (2 × 2000 ms) + join grace (24 h − 4 s) = 24 h. */
  joinRetentionMs: 86_400_000,
} as const;

/** No record seen yet. */
export const NO_STREAM_TIME = Number.NEGATIVE_INFINITY;

export function advanceStreamTime(current: number, ts: number): number {
  return Math.max(ts, current);
}

/** True when a window ending at `windowEnd` (exclusive) no longer accepts rows. */
export function isWindowClosed(windowEnd: number, streamTime: number, graceMs: number): boolean {
  return windowEnd <= streamTime - graceMs;
}

/** True when a stored join record with timestamp `ts` has expired and can no longer be matched. */
export function isJoinRecordExpired(ts: number, streamTime: number, retentionMs: number): boolean {
  return ts <= streamTime - retentionMs;
}
