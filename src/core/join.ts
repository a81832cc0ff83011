/**
 * One side of the stream-stream join's state: the window store of Kafka Streams' `KStreamJoinWindow`,
 * per device, keeping duplicates (ksqldb-semantics.md §1.2, §10 item 2).
 *
 * Records are kept sorted by timestamp, ties in insertion order, because that is the order in which the
 * window store returns several matches — and so the order of the joined rows. A record can be matched while
 * `ts > streamTime − retention`; expired records are not returned even before they are physically removed,
 * so pruning later or earlier never changes a result.
 */

export interface JoinEntry<T> {
  ts: number;
  /** Processing sequence number within the partition: a restart replays from the oldest one still held. */
  seq: number;
  event: T;
}

/** First index whose entry has `ts >= from` (or `> from` when `strict`). */
function lowerBound<T>(entries: JoinEntry<T>[], from: number, strict: boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const ts = (entries[mid] as JoinEntry<T>).ts;
    if (ts < from || (strict && ts === from)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class JoinSide<T> {
  readonly #byDevice = new Map<string, JoinEntry<T>[]>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  insert(deviceId: string, entry: JoinEntry<T>): void {
    let entries = this.#byDevice.get(deviceId);
    if (!entries) {
      entries = [];
      this.#byDevice.set(deviceId, entries);
    }
    const last = entries[entries.length - 1];
    if (!last || last.ts <= entry.ts) entries.push(entry);
    else entries.splice(lowerBound(entries, entry.ts, true), 0, entry);
    this.#size++;
  }

  /**
   * Entries of `deviceId` with `from ≤ ts ≤ to` (inclusive, as `JoinWindows`) that have not expired
   * (`ts > expiredAtOrBefore`), in timestamp order.
   */
  probe(deviceId: string, from: number, to: number, expiredAtOrBefore: number): JoinEntry<T>[] {
    const entries = this.#byDevice.get(deviceId);
    if (!entries) return [];
    const start = lowerBound(entries, Math.max(from, expiredAtOrBefore), expiredAtOrBefore >= from);
    const out: JoinEntry<T>[] = [];
    for (let i = start; i < entries.length; i++) {
      const entry = entries[i] as JoinEntry<T>;
      if (entry.ts > to) break;
      out.push(entry);
    }
    return out;
  }

  /** Removes every entry with `ts ≤ threshold`. */
  prune(threshold: number): void {
    for (const [deviceId, entries] of this.#byDevice) {
      const keep = lowerBound(entries, threshold, true);
      if (keep === 0) continue;
      if (keep === entries.length) this.#byDevice.delete(deviceId);
      else entries.splice(0, keep);
      this.#size -= keep;
    }
  }

  /** The smallest sequence number held, or +Infinity when empty. */
  minSeq(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const entries of this.#byDevice.values()) {
      for (const entry of entries) if (entry.seq < min) min = entry.seq;
    }
    return min;
  }

  clear(): void {
    this.#byDevice.clear();
    this.#size = 0;
  }
}
