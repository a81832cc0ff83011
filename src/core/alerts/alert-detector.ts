/**
 * Alert detection for the devices of one partition: a pure state machine fed with the decoded source events in
 * the event-time order the processor's merge gives them, plus `advanceTime` for the alert no event can raise
 * (a device that went silent). Every change of an episode is handed to `emit` as the alert's new record.
 *
 * Episodes, per device (docs/alerts.md has the full rules and a worked example):
 * - `sensor_anomaly`, one per metric: opens at the first reading outside the metric's normal range (bounds
 *   inclusive) when none is active; counts the anomalous readings and keeps the one furthest outside; clears at
 *   the first in-range reading whose `event_ts` is at least `clearAfterMs` after the last anomalous one.
 * - `outside_geofence`: opens at the first fix outside the box, counts the fixes outside, clears at the first fix
 *   back inside.
 * - `inactive`: opens when no fix followed the last one for `inactiveAfterMs` (`opened_at` = last fix +
 *   `inactiveAfterMs`), judged by the time `advanceTime` is given; clears at the next fix. A next fix that comes
 *   `inactiveAfterMs` or more after the last one, before the time said so, opens and clears the episode at once,
 *   so every silence the fixes show is an episode whatever the timer saw.
 *
 * Events are judged in the order they are processed: a late reading counts into the episode active when it is
 * processed (and moves `updated_at` only forward), and a late anomalous reading with no episode active opens one
 * at its own `event_ts`. Records processed twice after a restart are recognised by their offsets (each device
 * keeps the next offset it has not applied per topic) and change nothing, so a replay never counts a reading
 * twice.
 *
 * Bounded state (docs/alerts.md, "Bounded state"). What the detector must remember of a device is what a later
 * event could change: its active episodes (to count into and clear them), its last fix (for `inactive`) and the
 * offsets applied. A device silent for `idleHorizonMs` (by the time `advanceTime` was given; the horizon is at
 * least `inactiveAfterMs`, so by then its `inactive` episode is open if it ever sent a fix) is handled so that
 * nothing it sends later turns out differently:
 * - with no active episode at all (it never sent a fix, and its sensor episodes cleared): forgotten, and its
 *   changelog entry deleted; if it reports again it starts afresh, which is what the old state would have given;
 * - with only its `inactive` episode active: **retired** to a compact entry (last fix, opening time, applied
 *   offsets; the episode's record is rebuilt from them, as it never changes while open). Its next fix revives it
 *   and clears the episode exactly as if it had stayed; its `inactive` alert stays in `active()` meanwhile;
 * - with an active sensor or geofence episode: kept (forgetting it would leave that alert open for ever).
 * At most `maxDevices` are held, and as many retired: beyond that the least recently seen go (devices with an
 * active sensor or geofence episode last), counted as `cap` evictions. Only then is something lost: the active
 * alerts of a device forgotten by the cap are never cleared, and its next events start afresh.
 */
import type { LocationEvent, StatusEvent } from '../decode.js';
import { DeviceTable, type EvictionCounts, type EvictionReason } from '../device-table.js';
import { SENSOR_NAMES, type SensorName } from '../sensors.js';
import { type AlertRecord, type AlertType, alertId } from './alert-record.js';
import { type AlertRules, degreesOutside, distanceOutside } from './alert-rules.js';

interface Episode {
  record: AlertRecord;
  /** Sensor episodes: event time of the latest anomalous reading (the clear rule counts from it). */
  lastAnomalyAt: number;
  /** How far the worst reading lies outside (the severity rule compares it with the range width). */
  worstDistance: number;
}

/** Everything the detector holds for one device; also what a restart restores (JSON-safe). */
export interface DeviceAlertState {
  deviceId: string;
  lastFix: { ts: number; latitude: number; longitude: number } | null;
  sensors: Partial<Record<SensorName, Episode>>;
  geofence: Episode | null;
  inactive: Episode | null;
  /** Per topic, the next offset not yet applied to this device. */
  applied: { location: number; status: number };
  /**
   * Largest event time of the device's records (either topic). Absent in changelog records written before the
   * bound existed (`restore` then takes the newest time the state shows).
   */
  lastSeen?: number;
}

/** A device silent beyond the horizon with only its `inactive` episode active: all it takes to go on exactly. */
interface RetiredDevice {
  lastFix: { ts: number; latitude: number; longitude: number };
  /** `opened_at` of the active `inactive` episode. */
  inactiveSince: number;
  applied: { location: number; status: number };
  lastSeen: number;
}

export interface AlertDetectorBounds {
  /** Devices silent this long are forgotten or retired (module comment); at least `inactiveAfterMs`. */
  idleHorizonMs: number;
  /** Most devices held, and most retired. */
  maxDevices: number;
  /** Told about every device the cap makes the detector forget (for a sampled log). */
  onCapEviction?: (deviceId: string) => void;
}

const UNBOUNDED: AlertDetectorBounds = {
  idleHorizonMs: Number.POSITIVE_INFINITY,
  maxDevices: Number.POSITIVE_INFINITY,
};

/** A device with an active sensor or geofence episode is never idle (forgetting it would leave the alert open). */
const pinned = (d: DeviceAlertState) => d.geofence !== null || Object.keys(d.sensors).length > 0;
const lastSeenOf = (d: DeviceAlertState) => (pinned(d) ? Number.POSITIVE_INFINITY : (d.lastSeen ?? 0));

export type AlertChangeListener = (alert: AlertRecord) => void;

export class AlertDetector {
  readonly #rules: AlertRules;
  readonly #emit: AlertChangeListener;
  readonly #devices: DeviceTable<DeviceAlertState>;
  readonly #retired: DeviceTable<RetiredDevice>;
  /** Devices whose state changed since `takeChanged()`. */
  #changed = new Set<string>();
  /** Devices forgotten since `takeForgotten()`: their changelog entries are to be deleted. */
  #forgotten = new Set<string>();
  /** The time `advanceTime` was last given: what idleness is judged by. */
  #now = Number.NEGATIVE_INFINITY;
  readonly #idleHorizonMs: number;

  constructor(rules: AlertRules, emit: AlertChangeListener, bounds: AlertDetectorBounds = UNBOUNDED) {
    this.#rules = rules;
    this.#emit = emit;
    this.#idleHorizonMs = bounds.idleHorizonMs;
    const onCap = (deviceId: string, reason: EvictionReason) => {
      if (reason === 'cap') bounds.onCapEviction?.(deviceId);
    };
    this.#retired = new DeviceTable<RetiredDevice>({
      idleHorizonMs: Number.POSITIVE_INFINITY,
      maxDevices: bounds.maxDevices,
      lastSeenOf: (r) => r.lastSeen,
      onEvict: (deviceId, _r, reason) => {
        onCap(deviceId, reason);
        this.#forget(deviceId);
      },
    });
    this.#devices = new DeviceTable<DeviceAlertState>({
      idleHorizonMs: bounds.idleHorizonMs,
      maxDevices: bounds.maxDevices,
      lastSeenOf,
      onEvict: (deviceId, device, reason) => {
        onCap(deviceId, reason);
        this.#retire(device);
      },
    });
  }

  processLocation(event: LocationEvent, offset: number): void {
    const device = this.#device(event.deviceId, event.eventTs);
    if (offset < device.applied.location) return;
    const wasPinned = pinned(device);
    device.applied.location = offset + 1;
    this.#changed.add(device.deviceId);
    const ts = event.eventTs;
    device.lastSeen = Math.max(device.lastSeen ?? ts, ts);
    // A silence the timer had no time to see (the partition jumped over it: a backlog, or the device alone in its
    // partition) is shown by this fix itself: the episode opens and clears at once, as a timer would have had it.
    const silentUntil = device.lastFix ? device.lastFix.ts + this.#rules.inactiveAfterMs : Number.POSITIVE_INFINITY;
    if (!device.inactive && ts >= silentUntil && device.lastFix) {
      device.inactive = this.#open(device, 'inactive', null, silentUntil, null, 0, null, device.lastFix);
    }
    if (device.inactive) {
      this.#clear(device.inactive, Math.max(ts, device.inactive.record.opened_at));
      device.inactive = null;
    }
    if (!device.lastFix || ts >= device.lastFix.ts) {
      device.lastFix = { ts, latitude: event.latitude, longitude: event.longitude };
    }
    const outside = degreesOutside(event.latitude, event.longitude, this.#rules.geofence);
    if (outside > 0) {
      if (!device.geofence) {
        device.geofence = this.#open(device, 'outside_geofence', null, ts, outside, outside, null, {
          latitude: event.latitude,
          longitude: event.longitude,
        });
      } else {
        this.#count(device.geofence, ts, outside, outside, this.#boxWidth());
      }
    } else if (device.geofence) {
      this.#clear(device.geofence, ts);
      device.geofence = null;
    }
    this.#unpinned(device, wasPinned);
  }

  processStatus(event: StatusEvent, offset: number): void {
    const device = this.#device(event.deviceId, event.eventTs);
    if (offset < device.applied.status) return;
    const wasPinned = pinned(device);
    device.applied.status = offset + 1;
    this.#changed.add(device.deviceId);
    const ts = event.eventTs;
    device.lastSeen = Math.max(device.lastSeen ?? ts, ts);
    for (const metric of SENSOR_NAMES) {
      const value = event[metric];
      if (value === null) continue;
      const range = this.#rules.ranges[metric];
      const distance = distanceOutside(value, range);
      const episode = device.sensors[metric];
      if (distance > 0) {
        if (!episode) {
          device.sensors[metric] = this.#open(
            device,
            'sensor_anomaly',
            metric,
            ts,
            value,
            distance,
            range,
            device.lastFix,
          );
        } else {
          episode.lastAnomalyAt = Math.max(episode.lastAnomalyAt, ts);
          this.#count(episode, ts, value, distance, range.max - range.min);
        }
      } else if (episode && ts >= episode.lastAnomalyAt + this.#rules.clearAfterMs) {
        this.#clear(episode, ts);
        delete device.sensors[metric];
      }
    }
    this.#unpinned(device, wasPinned);
  }

  /**
   * Time has reached `now` (event time: the partition's stream time, or the wall clock once caught up): opens an
   * `inactive` episode for every device whose last fix is at least `inactiveAfterMs` old.
   */
  advanceTime(now: number): void {
    for (const device of this.#devices.values()) this.#openInactiveIfDue(device, now);
    // After the timer: a device idle by now has had its `inactive` episode opened (the horizon is the longer).
    if (now > this.#now) this.#now = now;
    this.#devices.evictIdle(this.#now);
  }

  /**
   * Seeds a device's state (a restart restores it from the state changelog). With `now` (the newest time the
   * restored states show), a device already idle then is retired or forgotten at once rather than held: the
   * changelog keeps retired devices whole, and they need not all be in memory at once.
   */
  restore(state: DeviceAlertState, now = Number.NEGATIVE_INFINITY): void {
    const copy = structuredClone(state);
    copy.lastSeen ??= newestTimeOf(copy);
    this.#retired.delete(copy.deviceId);
    if (lastSeenOf(copy) <= now - this.#idleHorizonMs) {
      // Idle by the restored times, not by a timer: its silence may not have been seen yet (no `advanceTime` reached
      // it before the restart). It is seen now, as the timer would, so that retiring keeps the episode.
      this.#openInactiveIfDue(copy, now);
      this.#devices.delete(copy.deviceId);
      this.#retire(copy);
      return;
    }
    this.#devices.set(copy.deviceId, copy);
  }

  /** The newest time a set of restored states shows (what `restore` judges idleness by). */
  static newestTime(states: readonly DeviceAlertState[]): number {
    let newest = Number.NEGATIVE_INFINITY;
    for (const s of states) newest = Math.max(newest, s.lastSeen ?? newestTimeOf(s));
    return newest;
  }

  /**
   * The state of every device changed since the last call (what a flush writes to the changelog); a device
   * retired since it changed is written whole, as a restart must find it.
   */
  takeChanged(): DeviceAlertState[] {
    const out: DeviceAlertState[] = [];
    for (const id of this.#changed) {
      const state = this.#devices.peek(id);
      if (state) {
        out.push(structuredClone(state));
        continue;
      }
      const retired = this.#retired.peek(id);
      if (retired) out.push(this.#revived(id, retired));
    }
    this.#changed = new Set();
    return out;
  }

  /** The devices forgotten since the last call: their changelog entries are to be deleted. */
  takeForgotten(): string[] {
    const out = [...this.#forgotten];
    this.#forgotten = new Set();
    return out;
  }

  /** The active alerts of every device, retired ones included. */
  active(): AlertRecord[] {
    const out: AlertRecord[] = [];
    for (const d of this.#devices.values()) {
      for (const e of [...Object.values(d.sensors), d.geofence, d.inactive]) if (e) out.push({ ...e.record });
    }
    for (const [id, r] of this.#retired.entries()) out.push(inactiveRecord(id, r.inactiveSince, r.lastFix));
    return out;
  }

  get deviceCount(): number {
    return this.#devices.size;
  }

  /** Devices held, devices retired, and evictions by reason (retired devices dropped by the cap count as cap). */
  get stateSize(): { devices: number; retired: number; evictions: EvictionCounts } {
    const held = this.#devices.evictions;
    return {
      devices: this.#devices.size,
      retired: this.#retired.size,
      evictions: { idle: held.idle, cap: held.cap + this.#retired.evictions.cap },
    };
  }

  /** The device's state, revived or created (last seen at `ts` at the latest, so the cap files it rightly). */
  #device(deviceId: string, ts: number): DeviceAlertState {
    let device = this.#devices.get(deviceId, this.#now);
    if (!device) {
      const retired = this.#retired.peek(deviceId);
      if (retired) this.#retired.delete(deviceId);
      this.#forgotten.delete(deviceId);
      device = retired
        ? this.#revived(deviceId, retired)
        : {
            deviceId,
            lastFix: null,
            sensors: {},
            geofence: null,
            inactive: null,
            applied: { location: 0, status: 0 },
            lastSeen: ts,
          };
      device.lastSeen = Math.max(device.lastSeen ?? ts, ts);
      this.#devices.set(deviceId, device, this.#now);
    }
    return device;
  }

  /** Idle or beyond the cap: retired when its `inactive` episode is active, else forgotten (module comment). */
  #retire(device: DeviceAlertState): void {
    const inactive = device.inactive;
    if (inactive && device.lastFix && !pinned(device)) {
      this.#retired.set(device.deviceId, {
        lastFix: device.lastFix,
        inactiveSince: inactive.record.opened_at,
        applied: device.applied,
        lastSeen: device.lastSeen ?? device.lastFix.ts,
      });
    } else {
      this.#forget(device.deviceId);
    }
  }

  #forget(deviceId: string): void {
    this.#forgotten.add(deviceId);
    this.#changed.delete(deviceId);
  }

  /** Opens the device's `inactive` episode if its last fix is at least `inactiveAfterMs` older than `now`. */
  #openInactiveIfDue(device: DeviceAlertState, now: number): void {
    if (device.inactive || !device.lastFix) return;
    const due = device.lastFix.ts + this.#rules.inactiveAfterMs;
    if (now < due) return;
    device.inactive = this.#open(device, 'inactive', null, due, null, 0, null, device.lastFix);
    this.#changed.add(device.deviceId);
  }

  /** A device that stopped being pinned must be re-filed under its last-seen time (`lastSeenOf` went down). */
  #unpinned(device: DeviceAlertState, wasPinned: boolean): void {
    if (wasPinned && !pinned(device)) this.#devices.set(device.deviceId, device);
  }

  /** The full state of a retired device, as it was when it was retired. */
  #revived(deviceId: string, r: RetiredDevice): DeviceAlertState {
    const record = inactiveRecord(deviceId, r.inactiveSince, r.lastFix);
    return {
      deviceId,
      lastFix: { ...r.lastFix },
      sensors: {},
      geofence: null,
      inactive: { record, lastAnomalyAt: r.inactiveSince, worstDistance: 0 },
      applied: { ...r.applied },
      lastSeen: r.lastSeen,
    };
  }

  #boxWidth(): number {
    const box = this.#rules.geofence;
    return Math.min(box.maxLatitude - box.minLatitude, box.maxLongitude - box.minLongitude);
  }

  #severity(distance: number, width: number): AlertRecord['severity'] {
    return distance > this.#rules.criticalDeviation * width ? 'critical' : 'warning';
  }

  #open(
    device: DeviceAlertState,
    type: AlertType,
    metric: SensorName | null,
    ts: number,
    worst: number | null,
    distance: number,
    range: { min: number; max: number } | null,
    at: { latitude: number; longitude: number } | null,
  ): Episode {
    if (type === 'inactive' && at) {
      const record = inactiveRecord(device.deviceId, ts, at);
      this.#emit({ ...record });
      return { record, lastAnomalyAt: ts, worstDistance: distance };
    }
    const width = range ? range.max - range.min : this.#boxWidth();
    const record: AlertRecord = {
      alert_id: alertId(device.deviceId, type, metric, ts),
      device_id: device.deviceId,
      type,
      metric,
      status: 'active',
      severity: type === 'inactive' ? 'warning' : this.#severity(distance, width),
      opened_at: ts,
      cleared_at: null,
      updated_at: ts,
      readings: type === 'inactive' ? 0 : 1,
      worst_value: worst,
      normal_min: range?.min ?? null,
      normal_max: range?.max ?? null,
      latitude: at?.latitude ?? null,
      longitude: at?.longitude ?? null,
      revision: 1,
    };
    this.#emit({ ...record });
    return { record, lastAnomalyAt: ts, worstDistance: distance };
  }

  #count(episode: Episode, ts: number, value: number, distance: number, width: number): void {
    const r = episode.record;
    r.readings++;
    if (distance > episode.worstDistance) {
      episode.worstDistance = distance;
      r.worst_value = value;
      r.severity = this.#severity(distance, width);
    }
    r.updated_at = Math.max(r.updated_at, ts);
    r.revision++;
    this.#emit({ ...r });
  }

  #clear(episode: Episode, ts: number): void {
    const r = episode.record;
    r.status = 'cleared';
    r.cleared_at = ts;
    r.updated_at = Math.max(r.updated_at, ts);
    r.revision++;
    this.#emit({ ...r });
  }
}

/** The record an `inactive` episode opens with (and keeps while active: it is never counted into). */
function inactiveRecord(deviceId: string, openedAt: number, at: { latitude: number; longitude: number }): AlertRecord {
  return {
    alert_id: alertId(deviceId, 'inactive', null, openedAt),
    device_id: deviceId,
    type: 'inactive',
    metric: null,
    status: 'active',
    severity: 'warning',
    opened_at: openedAt,
    cleared_at: null,
    updated_at: openedAt,
    readings: 0,
    worst_value: null,
    normal_min: null,
    normal_max: null,
    latitude: at.latitude,
    longitude: at.longitude,
    revision: 1,
  };
}

/** The newest event time a state shows (for changelog records written before `lastSeen` existed). */
function newestTimeOf(state: DeviceAlertState): number {
  let newest = state.lastFix?.ts ?? 0;
  for (const e of [...Object.values(state.sensors), state.geofence, state.inactive]) {
    if (e) newest = Math.max(newest, e.record.updated_at, e.lastAnomalyAt);
  }
  return newest;
}
