/**
 * Tumbling windows as Kafka Streams' `TimeWindows` assigns them (ksqldb-semantics.md §4.1): the window of a
 * record with timestamp `ts ≥ 0` starts at `ts − ts mod size` and ends, exclusively, `size` later.
 */

/** `WINDOW TUMBLING (SIZE 2 SECONDS)` of `device_winagg_status_per2s`. */
export const WINDOW_SIZE_MS = 2000;

export interface WindowBounds {
  start: number;
  /** Exclusive. */
  end: number;
}

export function tumblingWindow(ts: number, sizeMs = WINDOW_SIZE_MS): WindowBounds {
  const start = ts - (ts % sizeMs);
  return { start, end: start + sizeMs };
}

/** ksqlDB's window id column: `CONCAT(DEVICE_ID, '_', WINDOWSTART, '_', WINDOWEND)`. */
export function windowId(deviceId: string, window: WindowBounds): string {
  return `${deviceId}_${window.start}_${window.end}`;
}
