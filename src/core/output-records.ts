/**
 * The one decoding of the two output tables' records, used by every reader: the warehouse sink, both stream
 * layers (the embedded one reads the topics, the ksqlDB one reads query rows) and the processor's restore. One
 * rule per record means the API and the warehouse cannot disagree about the same record.
 *
 * - `DEVICE_WINAGG_STATUS_PER2S`: windowed key (device id bytes + 8-byte window start), JSON value with the
 *   columns of `WindowAggregateRecord`. `WINDOW_START`/`WINDOW_END` are absent in records ksqlDB wrote before
 *   the columns were added to the statement: the key's start and the 2-second size stand in.
 * - `DEVICE_WINAGG_STATUS_PERDEVICE`: key = device id (UTF-8), JSON value with the columns of
 *   `DeviceLatestRecord`, each null until the device had one; absent columns read as null.
 *
 * A null or empty value is a tombstone (`record: null`); what a reader does with one is its own business.
 * Every failure carries a reason naming the field. Pure: no I/O.
 */
import { z } from 'zod';
import { DEVICE_ID_RULE, isValidDeviceId } from './device-id.js';
import {
  completeDeviceLatestRecord,
  type DeviceLatestRecord,
  decodeWindowedKey,
  type WindowAggregateRecord,
} from './results.js';
import { WINDOW_SIZE_MS, windowId } from './window.js';

// zod 4's number() already refuses NaN and ±Infinity (JSON.parse gives Infinity for 1e999).
const finite = z.number();
const integer = z.number().refine(Number.isSafeInteger, 'expected an integer');
const nullableFinite = finite.nullable().optional();

/** The per2s value as the processor and ksqlDB write it. */
export const WindowValueSchema = z.object({
  ID: z.string().min(1),
  dev_id: z.string().optional(),
  LATITUDE: finite,
  LONGITUDE: finite,
  DISTANCE: finite,
  EVENT_TS: integer,
  EVENT_COUNT: integer.refine((n) => n > 0, 'expected a positive count'),
  AVG_TEMP: finite,
  AVG_SOUND: finite,
  AVG_ALT: finite,
  WINDOW_START: integer.optional(),
  WINDOW_END: integer.optional(),
});

/** The perdevice value. */
export const LatestValueSchema = z.object({
  LATITUDE: nullableFinite,
  LONGITUDE: nullableFinite,
  DISTANCE: nullableFinite,
  EVENT_TS: integer.nullable().optional(),
  TEMPERATURE: nullableFinite,
  SOUND: nullableFinite,
  ALTITUDE: nullableFinite,
});

export type Failed = { ok: false; reason: string };
export type WindowDecoded = { ok: true; deviceId: string; windowStart: number; record: WindowAggregateRecord | null };
export type LatestDecoded = { ok: true; deviceId: string; record: DeviceLatestRecord | null };

function failure(what: string, error: z.ZodError): Failed {
  const issue = error.issues[0];
  const field = issue?.path.join('.') || '(value)';
  return { ok: false, reason: `${what}: ${field}: ${issue?.message ?? 'invalid'}` };
}

function parseJson(value: Uint8Array): { ok: true; json: unknown } | Failed {
  try {
    return { ok: true, json: JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf8')) };
  } catch {
    return { ok: false, reason: 'value is not JSON' };
  }
}

function checkDeviceId(what: string, deviceId: string): Failed | undefined {
  return isValidDeviceId(deviceId)
    ? undefined
    : { ok: false, reason: `${what}: device id: expected ${DEVICE_ID_RULE}` };
}

/** Validates a per2s value and fills the window bounds from the key where the value lacks them. */
function windowRecord(deviceId: string, windowStart: number, json: unknown): WindowDecoded | Failed {
  const parsed = WindowValueSchema.safeParse(json);
  if (!parsed.success) return failure('per2s record', parsed.error);
  const v = parsed.data;
  const start = v.WINDOW_START ?? windowStart;
  const end = v.WINDOW_END ?? start + WINDOW_SIZE_MS;
  if (start !== windowStart) return { ok: false, reason: 'per2s record: WINDOW_START differs from the key' };
  if (end <= start) return { ok: false, reason: 'per2s record: WINDOW_END must exceed WINDOW_START' };
  // The id is the warehouse's primary key: one naming another window would overwrite that window's row.
  if (v.ID !== windowId(deviceId, { start, end })) {
    return { ok: false, reason: 'per2s record: ID differs from the window of the key (<device_id>_<start>_<end>)' };
  }
  const record: WindowAggregateRecord = {
    ID: v.ID,
    dev_id: v.dev_id ?? deviceId,
    LATITUDE: v.LATITUDE,
    LONGITUDE: v.LONGITUDE,
    DISTANCE: v.DISTANCE,
    EVENT_TS: v.EVENT_TS,
    EVENT_COUNT: v.EVENT_COUNT,
    AVG_TEMP: v.AVG_TEMP,
    AVG_SOUND: v.AVG_SOUND,
    AVG_ALT: v.AVG_ALT,
    WINDOW_START: start,
    WINDOW_END: end,
  };
  return { ok: true, deviceId, windowStart: start, record };
}

/** A `DEVICE_WINAGG_STATUS_PER2S` topic record. */
export function decodeWindowRecord(
  key: Uint8Array | null | undefined,
  value: Uint8Array | null | undefined,
): WindowDecoded | Failed {
  if (!key || key.length <= 8)
    return { ok: false, reason: 'per2s record: windowed key missing or shorter than 9 bytes' };
  const { deviceId, windowStart } = decodeWindowedKey(Buffer.from(key.buffer, key.byteOffset, key.length));
  const badId = checkDeviceId('per2s record', deviceId);
  if (badId) return badId;
  if (!value || value.length === 0) return { ok: true, deviceId, windowStart, record: null };
  const json = parseJson(value);
  if (!json.ok) return json;
  return windowRecord(deviceId, windowStart, json.json);
}

/** A `DEVICE_WINAGG_STATUS_PERDEVICE` topic record. */
export function decodeLatestRecord(
  key: Uint8Array | null | undefined,
  value: Uint8Array | null | undefined,
): LatestDecoded | Failed {
  if (!key || key.length === 0) return { ok: false, reason: 'perdevice record: device id key missing' };
  const deviceId = Buffer.from(key.buffer, key.byteOffset, key.length).toString('utf8');
  const badId = checkDeviceId('perdevice record', deviceId);
  if (badId) return badId;
  if (!value || value.length === 0) return { ok: true, deviceId, record: null };
  const json = parseJson(value);
  if (!json.ok) return json;
  return latestRecord(deviceId, json.json);
}

function latestRecord(deviceId: string, json: unknown): LatestDecoded | Failed {
  const parsed = LatestValueSchema.safeParse(json);
  if (!parsed.success) return failure('perdevice record', parsed.error);
  return { ok: true, deviceId, record: completeDeviceLatestRecord(parsed.data) };
}

const KsqlWindowKeySchema = z.object({
  DEVICE_ID: z.string(),
  WINDOWSTART: integer.optional(),
  WINDOWEND: integer.optional(),
});

/**
 * A row of the per2s table as ksqlDB's `SELECT *` returns it: the key column `DEVICE_ID`, the bounds as
 * `WINDOWSTART`/`WINDOWEND` (pull queries), then the value columns.
 */
export function decodeKsqlWindowRow(row: Record<string, unknown>): WindowDecoded | Failed {
  const keyed = KsqlWindowKeySchema.safeParse(row);
  if (!keyed.success) return failure('per2s row', keyed.error);
  const { DEVICE_ID: deviceId, WINDOWSTART, WINDOWEND } = keyed.data;
  const badId = checkDeviceId('per2s row', deviceId);
  if (badId) return badId;
  const start = WINDOWSTART ?? (typeof row['WINDOW_START'] === 'number' ? row['WINDOW_START'] : undefined);
  if (start === undefined) return { ok: false, reason: 'per2s row: WINDOWSTART: expected an integer' };
  const value = { ...row, WINDOW_START: start, WINDOW_END: WINDOWEND ?? row['WINDOW_END'] };
  return windowRecord(deviceId, start, value);
}

/** A row of the perdevice table as ksqlDB's `SELECT *` returns it (key column `DEVICE_ID`, then the values). */
export function decodeKsqlLatestRow(row: Record<string, unknown>): LatestDecoded | Failed {
  const deviceId = row['DEVICE_ID'];
  if (typeof deviceId !== 'string') return { ok: false, reason: 'perdevice row: DEVICE_ID: expected a string' };
  const badId = checkDeviceId('perdevice row', deviceId);
  if (badId) return badId;
  return latestRecord(deviceId, row);
}
