/**
 * The two aggregations over JOIN_EVENTS, with ksqlDB's null rules (ksqldb-semantics.md §3, §4.6):
 *
 * - per 2-second window: `AVG` keeps a running double sum and a count of non-null inputs and is **0.0** when
 *   the count is 0 (`AverageUdaf`); `COUNT(*)` counts every row; `MAX` ignores nulls.
 * - per device: `LATEST_BY_OFFSET(col)` with its default `ignoreNulls = true`, per column independently.
 *
 * Sums are accumulated in arrival order, so results are bit-identical to ksqlDB's for the same order.
 */
import type { DeviceLatestRecord, JoinEventRecord, WindowAggregateRecord } from './results.js';
import { type WindowBounds, windowId } from './window.js';

interface Avg {
  sum: number;
  count: number;
}

const newAvg = (): Avg => ({ sum: 0, count: 0 });

function addAvg(avg: Avg, value: number | null): void {
  if (value === null) return;
  avg.sum += value;
  avg.count++;
}

const avgValue = (avg: Avg): number => (avg.count === 0 ? 0.0 : avg.sum / avg.count);

export interface WindowState {
  /** Built once per window and handed out with every update (a stable identity for coalescing). */
  snapshot?: () => WindowAggregateRecord;
  deviceId: string;
  window: WindowBounds;
  /** Output timestamp: the largest row timestamp in the window (`KStreamWindowAggregate`). */
  ts: number;
  latitude: Avg;
  longitude: Avg;
  distance: Avg;
  maxEventTs: number | null;
  eventCount: number;
  temperature: Avg;
  sound: Avg;
  altitude: Avg;
}

export function newWindowState(deviceId: string, window: WindowBounds, ts: number): WindowState {
  return {
    deviceId,
    window,
    ts,
    latitude: newAvg(),
    longitude: newAvg(),
    distance: newAvg(),
    maxEventTs: null,
    eventCount: 0,
    temperature: newAvg(),
    sound: newAvg(),
    altitude: newAvg(),
  };
}

/** Folds one JOIN_EVENTS row (timestamp `ts`) into its window. */
export function addToWindow(state: WindowState, row: JoinEventRecord, ts: number): void {
  if (ts > state.ts) state.ts = ts;
  addAvg(state.latitude, row.LATITUDE);
  addAvg(state.longitude, row.LONGITUDE);
  addAvg(state.distance, row.DISTANCE);
  if (state.maxEventTs === null || row.EVENT_TS > state.maxEventTs) state.maxEventTs = row.EVENT_TS;
  state.eventCount++;
  addAvg(state.temperature, row.TEMPERATURE);
  addAvg(state.sound, row.SOUND);
  addAvg(state.altitude, row.ALTITUDE);
}

/** The DEVICE_WINAGG_STATUS_PER2S value of a window. */
export function windowRecord(state: WindowState): WindowAggregateRecord {
  return {
    ID: windowId(state.deviceId, state.window),
    dev_id: state.deviceId,
    LATITUDE: avgValue(state.latitude),
    LONGITUDE: avgValue(state.longitude),
    DISTANCE: avgValue(state.distance),
    // Never null: every JOIN_EVENTS row carries the location's EVENT_TS.
    EVENT_TS: state.maxEventTs as number,
    EVENT_COUNT: state.eventCount,
    AVG_TEMP: avgValue(state.temperature),
    AVG_SOUND: avgValue(state.sound),
    AVG_ALT: avgValue(state.altitude),
    WINDOW_START: state.window.start,
    WINDOW_END: state.window.end,
  };
}

export interface DeviceState {
  /** Built once per device, as `WindowState.snapshot`. */
  snapshot?: () => DeviceLatestRecord;
  /** Output timestamp: the largest row timestamp seen for the device. */
  ts: number;
  record: DeviceLatestRecord;
}

export function newDeviceRecord(): DeviceLatestRecord {
  return {
    LATITUDE: null,
    LONGITUDE: null,
    DISTANCE: null,
    EVENT_TS: null,
    TEMPERATURE: null,
    SOUND: null,
    ALTITUDE: null,
  };
}

/** LATEST_BY_OFFSET with ignoreNulls: a null input keeps the previous value of that column. */
export function applyLatest(state: DeviceState, row: JoinEventRecord, ts: number): void {
  if (ts > state.ts) state.ts = ts;
  const r = state.record;
  r.LATITUDE = row.LATITUDE ?? r.LATITUDE;
  r.LONGITUDE = row.LONGITUDE ?? r.LONGITUDE;
  r.DISTANCE = row.DISTANCE ?? r.DISTANCE;
  r.EVENT_TS = row.EVENT_TS ?? r.EVENT_TS;
  r.TEMPERATURE = row.TEMPERATURE ?? r.TEMPERATURE;
  r.SOUND = row.SOUND ?? r.SOUND;
  r.ALTITUDE = row.ALTITUDE ?? r.ALTITUDE;
}
