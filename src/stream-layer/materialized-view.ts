/**
 * The in-memory state of the two output tables, built from their changelog records in offset order.
 * Pure: no I/O, no clock. Bounded: at most `windowsPerDevice` windows are kept per device (the oldest go), a
 * device idle beyond `deviceIdleHorizonMs` is forgotten, and at most `maxDevices` are held (the least recently
 * seen go; `core/device-table.ts`).
 *
 * - per2s (windowed key): a record for an existing (device, window start) is a newer revision of that window
 *   (EMIT CHANGES emits one per input row) and replaces it; a tombstone deletes it.
 * - perdevice (key = device id): the record replaces the device's state; a tombstone deletes the device.
 * - Time is the view's own stream time: the largest `event_ts` of the rows applied. A device is last seen at the
 *   largest `event_ts` of its rows, so reading the topics again from the start forgets the same devices.
 */
import { DeviceTable, type EvictionCounts, type EvictionReason } from '../core/device-table.js';
import type { DeviceLatest, WindowAggregate } from '../core/results.js';
import type { StreamChange } from './stream-layer.js';

export interface MaterializedViewOptions {
  /** Windows kept per device; reads never return more. @default 1000 */
  windowsPerDevice?: number;
  /** A device whose rows are all this far behind the view's stream time is forgotten. @default Infinity */
  deviceIdleHorizonMs?: number;
  /** Most devices held (the least recently seen go). @default Infinity */
  maxDevices?: number;
  /** Told about every device forgotten (the layer tells its listeners, and logs the cap, sampled). */
  onEvict?: (deviceId: string, reason: EvictionReason) => void;
}

export interface MaterializedView {
  applyWindow(deviceId: string, windowStart: number, row: WindowAggregate | null): StreamChange | undefined;
  /** `undefined` when the cap forgot the device at once (it was the least recently seen). */
  applyLatest(deviceId: string, row: DeviceLatest | null): StreamChange | undefined;
  listWindows(deviceId: string, limit: number): WindowAggregate[];
  listLatest(): DeviceLatest[];
  size(): { devices: number; windows: number };
  evictions(): Readonly<EvictionCounts>;
}

interface DeviceView {
  /** Ascending by window_start; nearly every record lands at the end, so appends are O(1) amortised. */
  windows: WindowAggregate[];
  latest: DeviceLatest | undefined;
  lastSeen: number;
}

export function createMaterializedView(options: MaterializedViewOptions = {}): MaterializedView {
  const cap = options.windowsPerDevice ?? 1000;
  const onEvict = options.onEvict;
  let windowCount = 0;
  let now = Number.NEGATIVE_INFINITY;
  const devices = new DeviceTable<DeviceView>({
    idleHorizonMs: options.deviceIdleHorizonMs ?? Number.POSITIVE_INFINITY,
    maxDevices: options.maxDevices ?? Number.POSITIVE_INFINITY,
    lastSeenOf: (d) => d.lastSeen,
    onEvict: (deviceId, device, reason) => {
      windowCount -= device.windows.length;
      onEvict?.(deviceId, reason);
    },
  });

  function indexOf(list: WindowAggregate[], start: number): { found: boolean; index: number } {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const value = (list[mid] as WindowAggregate).window_start;
      if (value < start) lo = mid + 1;
      else hi = mid;
    }
    return { found: lo < list.length && (list[lo] as WindowAggregate).window_start === start, index: lo };
  }

  /** The device's entry, created when missing; moves the view's time and forgets devices idle since. */
  function seen(deviceId: string, eventTs: number | null): DeviceView {
    const ts = eventTs ?? now;
    if (ts > now) now = ts;
    devices.evictIdle(now);
    let device = devices.get(deviceId, now);
    if (device) {
      if (ts > device.lastSeen) device.lastSeen = ts;
    } else {
      device = { windows: [], latest: undefined, lastSeen: ts };
      devices.set(deviceId, device);
    }
    return device;
  }

  /** A device with neither windows nor latest state is not held. */
  function dropIfEmpty(deviceId: string, device: DeviceView): void {
    if (device.windows.length === 0 && device.latest === undefined) devices.delete(deviceId);
  }

  return {
    applyWindow(deviceId, windowStart, row) {
      if (row === null) {
        const device = devices.peek(deviceId);
        if (!device) return undefined;
        const at = indexOf(device.windows, windowStart);
        if (at.found) {
          device.windows.splice(at.index, 1);
          windowCount--;
        }
        dropIfEmpty(deviceId, device);
        return undefined;
      }
      const device = seen(deviceId, row.event_ts);
      // The cap may have forgotten the device at once (it was the least recently seen): nothing to keep.
      if (!devices.has(deviceId)) return undefined;
      const list = device.windows;
      const at = indexOf(list, windowStart);
      if (at.found) {
        list[at.index] = row;
      } else {
        // A window older than everything kept, when the device is full, would be evicted at once: skip it.
        if (list.length >= cap && at.index === 0) {
          dropIfEmpty(deviceId, device);
          return undefined;
        }
        list.splice(at.index, 0, row);
        windowCount++;
        if (list.length > cap) {
          list.shift();
          windowCount--;
        }
      }
      return { kind: 'window', deviceId, row };
    },
    applyLatest(deviceId, row) {
      if (row === null) {
        const device = devices.peek(deviceId);
        if (device) {
          device.latest = undefined;
          dropIfEmpty(deviceId, device);
        }
      } else {
        const device = seen(deviceId, row.event_ts);
        if (!devices.has(deviceId)) return undefined;
        device.latest = row;
      }
      return { kind: 'latest', deviceId, row };
    },
    listWindows(deviceId, limit) {
      const list = devices.peek(deviceId)?.windows;
      if (!list) return [];
      return list.slice(Math.max(0, list.length - limit)).reverse();
    },
    listLatest() {
      const rows: DeviceLatest[] = [];
      for (const device of devices.values()) if (device.latest) rows.push(device.latest);
      return rows.sort((a, b) => (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0));
    },
    size() {
      return { devices: devices.size, windows: windowCount };
    },
    evictions: () => devices.evictions,
  };
}
