/**
 * The specification's three persistent queries for one partition, as one pure state machine:
 * `JOIN_EVENTS` (location LEFT JOIN status WITHIN 2 SECONDS, geofence, GEO_DISTANCE), then
 * `DEVICE_WINAGG_STATUS_PER2S` and `DEVICE_WINAGG_STATUS_PERDEVICE` over the joined rows.
 *
 * Semantics (ksqldb-semantics.md §1–§4, checklist §10):
 * - Join: each record probes the other side over `[ts − 2000, ts + 2000]` (inclusive, bounds clamped at 0),
 *   emits one row per stored match in timestamp order, then is stored itself. A location with no match emits a
 *   null-padded row at once (eager, never retracted); a status never does. Row timestamp = max of the two.
 * - The geofence is applied to the joined row (it only reads location columns), so a location outside it
 *   produces nothing and is not even stored.
 * - Windows are chosen by the row timestamp (not EVENT_TS). A row whose window ended at or before
 *   `aggregation stream time − grace` is dropped (counted as late). The per-device table has no grace.
 * - Every update is handed to the `TopologyOutput` at once; coalescing is the adapter's business.
 *
 * - Bounded per-device table (`device-table.ts`): a device whose last row is `deviceIdleHorizonMs` or more behind the
 *   aggregation stream time is forgotten, and at most `maxDevices` are held (the least recently seen go). ksqlDB
 *   never forgets a key; a forgotten device that reports again starts a fresh LATEST_BY_OFFSET, which differs
 *   only in its sensor columns until the first row with a value for them (docs/processor.md, "Bounded
 *   per-device state"). Both default to off here; the processor passes the configured ones.
 *
 * Restart support: the topology logs each record's offset and the stream times before it, so the adapter can
 * checkpoint a low-water offset per side (`replayPoint`) and replay from it (`beginReplay`). A replay rebuilds
 * join and window state but emits nothing and leaves the per-device table alone (it is restored from the
 * output topic). This relies on the replay processing records in the same order as the first time, which the
 * adapter's event-time merge gives whenever both sides had data (ksqldb-semantics.md §1.7).
 */
import {
  addToWindow,
  applyLatest,
  type DeviceState,
  newDeviceRecord,
  newWindowState,
  type WindowState,
  windowRecord,
} from './aggregate.js';
import type { LocationEvent, StatusEvent } from './decode.js';
import { DeviceTable, type EvictionCounts, type EvictionReason } from './device-table.js';
import { distanceFromReference, isInGeofence } from './geo.js';
import { type JoinEntry, JoinSide } from './join.js';
import type { DeviceLatestRecord, JoinEventRecord, WindowAggregateRecord } from './results.js';
import { advanceStreamTime, isJoinRecordExpired, isWindowClosed, NO_STREAM_TIME } from './stream-time.js';
import { tumblingWindow, WINDOW_SIZE_MS, type WindowBounds } from './window.js';

/** `WITHIN 2 SECONDS`. */
export const JOIN_WITHIN_MS = 2000;

export interface TopologyOptions {
  /** Rows into a window that ended at or before `stream time − windowGraceMs` are dropped. */
  windowGraceMs: number;
  /** Stored join records older than `stream time − joinRetentionMs` are no longer matched. */
  joinRetentionMs: number;
  /**
   * The per-device table forgets a device whose last row is this far or further behind the aggregation stream
   * time. @default Infinity (never, as ksqlDB)
   */
  deviceIdleHorizonMs?: number;
  /** Most devices the per-device table holds (the least recently seen go). @default Infinity */
  maxDevices?: number;
  /** Told about every device the per-device table forgets (the processor logs cap evictions, sampled). */
  onDeviceEvicted?: (deviceId: string, reason: EvictionReason) => void;
}

/**
 * Where updates go. Table updates come as `snapshot` functions: calling one at once gives the value after this
 * update (every-update emission); calling it later gives the then-current value, so a coalescing consumer
 * builds one record per key and flush instead of one per update.
 */
export interface TopologyOutput {
  /** `record` is built from `location` and `status`, which are passed too so that adapters can reuse work per event. */
  joinRow(
    deviceId: string,
    ts: number,
    record: JoinEventRecord,
    location: LocationEvent & { distance: number },
    status: StatusEvent | null,
  ): void;
  windowUpdate(deviceId: string, window: WindowBounds, ts: number, snapshot: () => WindowAggregateRecord): void;
  deviceUpdate(deviceId: string, ts: number, snapshot: () => DeviceLatestRecord): void;
}

export interface TopologyCounters {
  recordsProcessed: number;
  joinRows: number;
  /** Rows dropped because their window had closed (later than the grace). */
  lateRowsDropped: number;
}

export type Side = 'location' | 'status';

/** Where a restart must resume, and with which stream times. */
export interface ReplayPoint {
  /** First source offset to replay per side, or null when nothing of that side needs replaying. */
  location: number | null;
  status: number | null;
  /** Stream times just before the first record to replay (the current ones when nothing needs replaying). */
  joinStreamTime: number;
  aggStreamTime: number;
}

/** What a replay needs to know about the checkpoint it resumes from. */
export interface ReplayStart {
  joinStreamTime: number;
  aggStreamTime: number;
  /** Aggregation stream time at the checkpoint: windows closed then are final and are not rebuilt. */
  closedAtAggStreamTime: number;
  /** First offsets per side not covered by the checkpoint: records below them are replayed silently. */
  resumeAt: { location: number; status: number };
}

/** Every processed record in processing order, until no restart can need it. */
interface LogEntry {
  seq: number;
  offset: number;
  joinStreamTimeBefore: number;
  aggStreamTimeBefore: number;
}

interface GeoLocation extends LocationEvent {
  distance: number;
}

const windowKey = (deviceId: string, start: number) => `${deviceId}\u0000${start}`;

export class PartitionTopology {
  readonly #options: TopologyOptions;
  readonly #output: TopologyOutput;
  readonly #locations = new JoinSide<GeoLocation>();
  readonly #statuses = new JoinSide<StatusEvent>();
  readonly #windows = new Map<string, WindowState>();
  /** Each device's most recently updated window: rows of a device mostly fall into the same window (hot path). */
  readonly #lastWindow = new Map<string, WindowState>();
  readonly #devices: DeviceTable<DeviceState>;
  readonly #log: Record<Side, LogEntry[]> = { location: [], status: [] };
  /** Records that were not stored (already expired) but put rows into windows: seq and the latest window end. */
  #unstoredRows: { seq: number; windowEnd: number }[] = [];
  #seq = 0;
  #replay: ReplayStart | null = null;
  /** True while the record being processed is a silent replay. */
  #silent = false;
  /** Largest window end among the rows of the record being processed. */
  #rowWindowEnd = NO_STREAM_TIME;
  joinStreamTime = NO_STREAM_TIME;
  aggStreamTime = NO_STREAM_TIME;
  readonly counters: TopologyCounters = { recordsProcessed: 0, joinRows: 0, lateRowsDropped: 0 };

  constructor(options: TopologyOptions, output: TopologyOutput) {
    this.#options = options;
    this.#output = output;
    const onEvict = options.onDeviceEvicted;
    this.#devices = new DeviceTable<DeviceState>({
      idleHorizonMs: options.deviceIdleHorizonMs ?? Number.POSITIVE_INFINITY,
      maxDevices: options.maxDevices ?? Number.POSITIVE_INFINITY,
      lastSeenOf: (state) => state.ts,
      ...(onEvict
        ? { onEvict: (deviceId: string, _state: DeviceState, reason: EvictionReason) => onEvict(deviceId, reason) }
        : {}),
    });
  }

  processLocation(event: LocationEvent, offset = 0): void {
    const seq = this.#begin('location', event.eventTs, offset);
    if (!isInGeofence(event.latitude, event.longitude)) return;
    // The decoded event is ours: extend it in place rather than copying it (hot path).
    const location = event as GeoLocation;
    location.distance = distanceFromReference(event.latitude, event.longitude);
    const matches = this.#probe(this.#statuses, event.deviceId, event.eventTs);
    if (matches.length === 0) {
      this.#row(location, null, event.eventTs);
    } else {
      for (const match of matches) this.#row(location, match.event, Math.max(event.eventTs, match.ts));
    }
    this.#store(this.#locations, event.deviceId, { ts: event.eventTs, seq, event: location });
  }

  processStatus(event: StatusEvent, offset = 0): void {
    const seq = this.#begin('status', event.eventTs, offset);
    const matches = this.#probe(this.#locations, event.deviceId, event.eventTs);
    for (const match of matches) this.#row(match.event, event, Math.max(event.eventTs, match.ts));
    this.#store(this.#statuses, event.deviceId, { ts: event.eventTs, seq, event });
  }

  #begin(side: Side, ts: number, offset: number): number {
    const seq = ++this.#seq;
    this.#log[side].push({
      seq,
      offset,
      joinStreamTimeBefore: this.joinStreamTime,
      aggStreamTimeBefore: this.aggStreamTime,
    });
    if (this.#replay && offset >= this.#replay.resumeAt[side]) this.#replay = null;
    this.#silent = this.#replay !== null;
    if (!this.#silent) this.counters.recordsProcessed++;
    this.#rowWindowEnd = NO_STREAM_TIME;
    this.joinStreamTime = advanceStreamTime(this.joinStreamTime, ts);
    return seq;
  }

  #probe<T>(side: JoinSide<T>, deviceId: string, ts: number): JoinEntry<T>[] {
    const from = Math.max(0, ts - JOIN_WITHIN_MS);
    const to = Math.max(0, ts + JOIN_WITHIN_MS);
    return side.probe(deviceId, from, to, this.joinStreamTime - this.#options.joinRetentionMs);
  }

  #store<T>(side: JoinSide<T>, deviceId: string, entry: JoinEntry<T>): void {
    // A record already past the retention would never be matched: the store refuses it, as a segmented store does.
    if (!isJoinRecordExpired(entry.ts, this.joinStreamTime, this.#options.joinRetentionMs)) {
      side.insert(deviceId, entry);
    } else if (this.#rowWindowEnd !== NO_STREAM_TIME) {
      // Its rows may sit in a window that is still open: a restart must replay it to rebuild that window.
      this.#unstoredRows.push({ seq: entry.seq, windowEnd: this.#rowWindowEnd });
    }
  }

  #row(location: GeoLocation, status: StatusEvent | null, ts: number): void {
    const row: JoinEventRecord = {
      ID: location.id,
      LATITUDE: location.latitude,
      LONGITUDE: location.longitude,
      DISTANCE: location.distance,
      EVENT_TS: location.eventTs,
      DI_: status ? status.deviceId : null,
      TEMPERATURE: status ? status.temperature : null,
      SOUND: status ? status.sound : null,
      ALTITUDE: status ? status.altitude : null,
    };
    const deviceId = location.deviceId;
    this.aggStreamTime = advanceStreamTime(this.aggStreamTime, ts);
    if (!this.#silent) {
      this.counters.joinRows++;
      this.#output.joinRow(deviceId, ts, row, location, status);
    }
    this.#aggregateWindow(deviceId, row, ts);
    // The per-device table is restored from its output topic, not rebuilt by a replay.
    if (!this.#silent) this.#aggregateDevice(deviceId, row, ts);
  }

  #aggregateWindow(deviceId: string, row: JoinEventRecord, ts: number): void {
    const start = ts - (ts % WINDOW_SIZE_MS);
    const last = this.#lastWindow.get(deviceId);
    const window = last !== undefined && last.window.start === start ? last.window : tumblingWindow(ts, WINDOW_SIZE_MS);
    if (isWindowClosed(window.end, this.aggStreamTime, this.#options.windowGraceMs)) {
      if (!this.#silent) this.counters.lateRowsDropped++;
      return;
    }
    if (window.end > this.#rowWindowEnd) this.#rowWindowEnd = window.end;
    const replay = this.#replay;
    if (replay && isWindowClosed(window.end, replay.closedAtAggStreamTime, this.#options.windowGraceMs)) return;
    // An open window is never pruned (closing is monotonic), so a cached one is still the stored one.
    let state = last !== undefined && last.window === window ? last : undefined;
    if (!state) {
      const key = windowKey(deviceId, window.start);
      state = this.#windows.get(key);
      if (!state) {
        state = newWindowState(deviceId, window, ts);
        this.#windows.set(key, state);
      }
      this.#lastWindow.set(deviceId, state);
    }
    addToWindow(state, row, ts);
    if (!this.#silent) {
      const current = state;
      current.snapshot ??= () => windowRecord(current);
      this.#output.windowUpdate(deviceId, window, state.ts, current.snapshot);
    }
  }

  #aggregateDevice(deviceId: string, row: JoinEventRecord, ts: number): void {
    // A device idle beyond the horizon is forgotten here, whether or not a prune has removed it yet.
    let state = this.#devices.get(deviceId, this.aggStreamTime);
    if (!state) {
      state = { ts, record: newDeviceRecord() };
      this.#devices.set(deviceId, state, this.aggStreamTime);
    }
    applyLatest(state, row, ts);
    const current = state;
    current.snapshot ??= () => ({ ...current.record });
    this.#output.deviceUpdate(deviceId, state.ts, current.snapshot);
  }

  /**
   * Frees state no later record can use: join records past the retention that no open window still needs,
   * closed windows, and devices idle beyond the horizon. Never changes a result (expired records and idle devices
   * are already invisible).
   */
  prune(): void {
    const { windowGraceMs, joinRetentionMs } = this.#options;
    const joinBound = this.joinStreamTime - joinRetentionMs;
    // Records whose rows may sit in a still-open window are kept for a replay to rebuild that window.
    const windowBound = this.aggStreamTime - windowGraceMs - WINDOW_SIZE_MS - JOIN_WITHIN_MS;
    const bound = Math.min(joinBound, windowBound === NO_STREAM_TIME ? joinBound : windowBound);
    this.#locations.prune(bound);
    this.#statuses.prune(bound);
    for (const [key, state] of this.#windows) {
      if (isWindowClosed(state.window.end, this.aggStreamTime, windowGraceMs)) this.#windows.delete(key);
    }
    for (const [deviceId, state] of this.#lastWindow) {
      if (isWindowClosed(state.window.end, this.aggStreamTime, windowGraceMs)) this.#lastWindow.delete(deviceId);
    }
    this.#unstoredRows = this.#unstoredRows.filter(
      (u) => !isWindowClosed(u.windowEnd, this.aggStreamTime, windowGraceMs),
    );
    this.#devices.evictIdle(this.aggStreamTime);
  }

  /**
   * The restart point (call after `prune()`): the oldest record still held or still feeding an open window.
   * Replaying every record processed since then, in the same order and from the same stream times, rebuilds
   * exactly the join records and open windows held now. Forgets the log before that point.
   */
  replayPoint(): ReplayPoint {
    let seq0 = Math.min(this.#locations.minSeq(), this.#statuses.minSeq());
    for (const u of this.#unstoredRows) if (u.seq < seq0) seq0 = u.seq;
    let first: LogEntry | undefined;
    const firstOffset = (side: Side): number | null => {
      const log = this.#log[side];
      const index = log.findIndex((e) => e.seq >= seq0);
      const entry = index === -1 ? undefined : log[index];
      this.#log[side] = index === -1 ? [] : log.slice(index);
      if (entry && (!first || entry.seq < first.seq)) first = entry;
      return entry ? entry.offset : null;
    };
    const location = firstOffset('location');
    const status = firstOffset('status');
    const start = first as LogEntry | undefined;
    return {
      location,
      status,
      joinStreamTime: start ? start.joinStreamTimeBefore : this.joinStreamTime,
      aggStreamTime: start ? start.aggStreamTimeBefore : this.aggStreamTime,
    };
  }

  /** Starts a silent replay from a checkpoint (see `ReplayStart`). */
  beginReplay(start: ReplayStart): void {
    this.joinStreamTime = start.joinStreamTime;
    this.aggStreamTime = start.aggStreamTime;
    this.#replay = start;
  }

  /** The join's stream time: the largest source event time processed (what the age rule measures from). */
  get streamTime(): number {
    return this.joinStreamTime;
  }

  get replaying(): boolean {
    return this.#replay !== null;
  }

  /**
   * Seeds the per-device table (restored from the output topic after a restart; call after `beginReplay`). A
   * device already idle at the checkpoint is skipped, and the cap keeps the most recently seen ones: the devices
   * the table held before the restart (see `device-table.ts`).
   */
  restoreDevice(deviceId: string, ts: number, record: DeviceLatestRecord): void {
    const now = this.#replay ? this.#replay.closedAtAggStreamTime : this.aggStreamTime;
    if (ts <= now - (this.#options.deviceIdleHorizonMs ?? Number.POSITIVE_INFINITY)) {
      this.#devices.delete(deviceId);
      return;
    }
    this.#devices.set(deviceId, { ts, record: { ...record } });
  }

  /** A tombstone in the per-device topic: the device starts afresh. */
  forgetDevice(deviceId: string): void {
    this.#devices.delete(deviceId);
  }

  /** Devices the per-device table forgot, by reason. */
  get deviceEvictions(): Readonly<EvictionCounts> {
    return this.#devices.evictions;
  }

  get stateSize(): { joinRecords: number; windows: number; devices: number; log: number } {
    return {
      joinRecords: this.#locations.size + this.#statuses.size,
      windows: this.#windows.size,
      devices: this.#devices.size,
      log: this.#log.location.length + this.#log.status.length,
    };
  }
}
