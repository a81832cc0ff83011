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
 */
import type { LocationEvent, StatusEvent } from '../decode.js';
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
}

export type AlertChangeListener = (alert: AlertRecord) => void;

export class AlertDetector {
  readonly #rules: AlertRules;
  readonly #emit: AlertChangeListener;
  readonly #devices = new Map<string, DeviceAlertState>();
  /** Devices whose state changed since `takeChanged()`. */
  #changed = new Set<string>();

  constructor(rules: AlertRules, emit: AlertChangeListener) {
    this.#rules = rules;
    this.#emit = emit;
  }

  processLocation(event: LocationEvent, offset: number): void {
    const device = this.#device(event.deviceId);
    if (offset < device.applied.location) return;
    device.applied.location = offset + 1;
    this.#changed.add(device.deviceId);
    const ts = event.eventTs;
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
  }

  processStatus(event: StatusEvent, offset: number): void {
    const device = this.#device(event.deviceId);
    if (offset < device.applied.status) return;
    device.applied.status = offset + 1;
    this.#changed.add(device.deviceId);
    const ts = event.eventTs;
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
  }

  /**
   * Time has reached `now` (event time: the partition's stream time, or the wall clock once caught up): opens an
   * `inactive` episode for every device whose last fix is at least `inactiveAfterMs` old.
   */
  advanceTime(now: number): void {
    for (const device of this.#devices.values()) {
      if (device.inactive || !device.lastFix) continue;
      const due = device.lastFix.ts + this.#rules.inactiveAfterMs;
      if (now < due) continue;
      device.inactive = this.#open(device, 'inactive', null, due, null, 0, null, device.lastFix);
      this.#changed.add(device.deviceId);
    }
  }

  /** Seeds a device's state (a restart restores it from the state changelog). */
  restore(state: DeviceAlertState): void {
    this.#devices.set(state.deviceId, structuredClone(state));
  }

  /** The state of every device changed since the last call (what a flush writes to the changelog). */
  takeChanged(): DeviceAlertState[] {
    const out: DeviceAlertState[] = [];
    for (const id of this.#changed) {
      const state = this.#devices.get(id);
      if (state) out.push(structuredClone(state));
    }
    this.#changed = new Set();
    return out;
  }

  /** The active alerts of every device. */
  active(): AlertRecord[] {
    const out: AlertRecord[] = [];
    for (const d of this.#devices.values()) {
      for (const e of [...Object.values(d.sensors), d.geofence, d.inactive]) if (e) out.push({ ...e.record });
    }
    return out;
  }

  get deviceCount(): number {
    return this.#devices.size;
  }

  #device(deviceId: string): DeviceAlertState {
    let device = this.#devices.get(deviceId);
    if (!device) {
      device = {
        deviceId,
        lastFix: null,
        sensors: {},
        geofence: null,
        inactive: null,
        applied: { location: 0, status: 0 },
      };
      this.#devices.set(deviceId, device);
    }
    return device;
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
