/**
 * The processor's admission rules for decoded source records, beyond ksqlDB's decoding (docs/processor.md,
 * "Input rules"). Each returns the dead-letter reason, or null when the record may enter the topology. Pure.
 *
 * - **Key**: a source record's Kafka key must be its `device_id`. The embedded engine relies on the key for
 *   co-partitioning (partition `p` of both topics holds the same devices); a record keyed otherwise would
 *   join and aggregate on whichever partition its key chose, splitting the device's state.
 * - **Too far ahead**: `event_ts` more than `maxFutureMs` ahead of the processor's wall clock. Event time drives
 *   stream time, and stream time closes windows: one record stamped an hour ahead would make every window of its
 *   partition "late" for an hour. The lead a record may have is therefore bounded below the window grace
 *   (`config.ts` enforces `PROCESSOR_MAX_FUTURE_MS ≤ PROCESSOR_GRACE_MS`), so no record within the lead
 *   can close a window that on-time records still need.
 * - **Too old**: `event_ts` more than `maxAgeMs` behind the partition's stream time (the largest event time
 *   processed). Judged by stream time, not the wall clock, so that a backlog caught up after downtime is
 *   accepted and a replay judges every record as the first run did. Such a fix (one from 1970, say) would
 *   otherwise still reach JOIN_EVENTS and move the device's latest state back to it (LATEST_BY_OFFSET).
 */

export interface AdmissionLimits {
  /** Largest lead of `event_ts` over the wall clock, ms. */
  maxFutureMs: number;
  /** Largest lag of `event_ts` behind the partition's stream time, ms; `Infinity` turns the rule off. */
  maxAgeMs: number;
}

const preview = (s: string) => (s.length > 64 ? `${s.slice(0, 64)}…` : s);

/** The key rule. `key` is the record key as UTF-8 text, null when the record has none. */
export function keyReason(key: string | null, deviceId: string): string | null {
  if (key === deviceId) return null;
  const got = key === null ? 'no key' : `key ${JSON.stringify(preview(key))}`;
  return `key: expected the record key to equal device_id ${JSON.stringify(deviceId)}, got ${got}`;
}

export function futureReason(eventTs: number, now: number, maxFutureMs: number): string | null {
  const lead = eventTs - now;
  if (lead <= maxFutureMs) return null;
  return `event_ts: ${lead} ms ahead of the processor's clock (at most ${maxFutureMs} ms, PROCESSOR_MAX_FUTURE_MS)`;
}

export function ageReason(eventTs: number, streamTime: number, maxAgeMs: number): string | null {
  const age = streamTime - eventTs;
  if (!(age > maxAgeMs)) return null;
  return (
    `event_ts: ${age} ms older than the newest event of its partition ` +
    `(at most ${maxAgeMs} ms, PROCESSOR_MAX_EVENT_AGE_MS)`
  );
}
