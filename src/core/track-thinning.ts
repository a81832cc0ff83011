/**
 * Thinning of a device's track (`GET /devices/{device_id}/track`): when a time range holds more windows than the
 * point limit, a subset of the real windows is kept, spread evenly in time. Positions are never invented or
 * averaged: every kept point is a stored window.
 *
 * The rule: `limit` sample times spread evenly over [first window start, last window start], both ends included;
 * for each, the first window starting at or after it; each window once. So the first and the last window are
 * always kept, the order stays the time order, and at most `limit` windows come back. Where the device was
 * silent, the samples falling in the gap all pick the window after it and collapse into one, so a range with
 * long gaps returns fewer points than the limit. The warehouse reader runs the same rule as one indexed
 * look-up per sample time (`warehouse-reader/track-reader.ts`), so a week costs `limit` index probes rather
 * than a scan of its 302,400 windows; `thinWindows` is the rule on rows in memory.
 */

/**
 * `count` sample times spread evenly over [first, last], strictly increasing when `last - first >= count - 1`,
 * starting at `first` and ending at `last`.
 *
 * @example sampleTimes(0, 10, 3) // [0, 5, 10]
 */
export function sampleTimes(first: number, last: number, count: number): number[] {
  if (count <= 1 || last <= first) return [first];
  const span = last - first;
  return Array.from({ length: count }, (_, i) => first + Math.floor((span * i) / (count - 1)));
}

/**
 * At most `limit` (at least 2) of `rows`, sorted by `window_start` and distinct in it, chosen by the rule above;
 * all of them when they are no more than `limit`.
 */
export function thinWindows<T extends { window_start: number }>(rows: readonly T[], limit: number): T[] {
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (rows.length <= limit || first === undefined || last === undefined) return [...rows];
  const kept: T[] = [];
  let next = 0;
  for (const at of sampleTimes(first.window_start, last.window_start, limit)) {
    while (next < rows.length && (rows[next] as T).window_start < at) next++;
    const row = rows[next];
    if (row !== undefined && kept[kept.length - 1] !== row) kept.push(row);
  }
  return kept;
}
