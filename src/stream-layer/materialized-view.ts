/**
 * The in-memory state of the two output tables, built from their changelog records in offset order.
 * Pure: no I/O, no clock. Bounded: at most `windowsPerDevice` windows are kept per device (the oldest go).
 *
 * - per2s (windowed key): a record for an existing (device, window start) is a newer revision of that window
 *   (EMIT CHANGES emits one per input row) and replaces it; a tombstone deletes it.
 * - perdevice (key = device id): the record replaces the device's state; a tombstone deletes the device.
 */
import type { DeviceLatest, WindowAggregate } from '../core/results.js';
import type { StreamChange } from './stream-layer.js';

export interface MaterializedViewOptions {
  /** Windows kept per device; reads never return more. @default 1000 */
  windowsPerDevice?: number;
}

export interface MaterializedView {
  applyWindow(deviceId: string, windowStart: number, row: WindowAggregate | null): StreamChange | undefined;
  applyLatest(deviceId: string, row: DeviceLatest | null): StreamChange;
  listWindows(deviceId: string, limit: number): WindowAggregate[];
  listLatest(): DeviceLatest[];
  size(): { devices: number; windows: number };
}

export function createMaterializedView(options: MaterializedViewOptions = {}): MaterializedView {
  const cap = options.windowsPerDevice ?? 1000;
  // Ascending by window_start; nearly every record lands at the end, so appends are O(1) amortised.
  const windows = new Map<string, WindowAggregate[]>();
  const latest = new Map<string, DeviceLatest>();
  let windowCount = 0;

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

  return {
    applyWindow(deviceId, windowStart, row) {
      let list = windows.get(deviceId);
      if (row === null) {
        if (!list) return undefined;
        const at = indexOf(list, windowStart);
        if (at.found) {
          list.splice(at.index, 1);
          windowCount--;
        }
        if (list.length === 0) windows.delete(deviceId);
        return undefined;
      }
      if (!list) {
        list = [];
        windows.set(deviceId, list);
      }
      const at = indexOf(list, windowStart);
      if (at.found) {
        list[at.index] = row;
      } else {
        // A window older than everything kept, when the device is full, would be evicted at once: skip it.
        if (list.length >= cap && at.index === 0) return undefined;
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
      if (row === null) latest.delete(deviceId);
      else latest.set(deviceId, row);
      return { kind: 'latest', deviceId, row };
    },
    listWindows(deviceId, limit) {
      const list = windows.get(deviceId);
      if (!list) return [];
      return list.slice(Math.max(0, list.length - limit)).reverse();
    },
    listLatest() {
      return [...latest.values()].sort((a, b) => (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0));
    },
    size() {
      return { devices: new Set([...windows.keys(), ...latest.keys()]).size, windows: windowCount };
    },
  };
}
