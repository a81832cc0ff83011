/**
 * Decoding of the source records, with ksqlDB's JSON rules (ksqldb-semantics.md §1.5, §1.6):
 * field names match case-insensitively (first match wins), a missing field is null, and the row time is
 * `event_ts`. Records ksqlDB would drop or cannot type (no `event_ts`, a wrong type, no device id) are returned
 * as failures with a reason, so the adapter can count them and dead-letter them instead of stopping.
 *
 * A location without `id` is processed with a null `ID`, as ksqlDB does (the geofence reads only latitude and
 * longitude). Status sensor values may be null or missing (they join and are skipped by AVG /
 * LATEST_BY_OFFSET), but must be numbers when present.
 *
 * Deliberate strictness, where ksqlDB would process a record whose result nobody can use (docs/processor.md,
 * "Input rules"); each is dead-lettered with the reason:
 * - a location without numeric latitude/longitude: ksqlDB would join it and then drop every row in the geofence
 *   filter (null BETWEEN is false), so the outputs are the same and the record is still visible;
 * - a device id that breaks the one device-id rule (`device-id.ts`): a 400 kB id would be served in every answer
 *   and refused by the warehouse's primary-key index;
 * - coordinates outside [-90, 90] / [-180, 180], and sensor values beyond ±1e9: no instrument reads them, and
 *   two readings near the largest double overflow a window's sum, which would then have no JSON value at all.
 */
import { DEVICE_ID_MAX_LENGTH, DEVICE_ID_RULE, isValidDeviceId } from './device-id.js';

export interface LocationEvent {
  /** Null when the record has no `id` (ksqlDB reads a missing column as null). */
  id: string | null;
  deviceId: string;
  latitude: number;
  longitude: number;
  eventTs: number;
}

export interface StatusEvent {
  id: string | null;
  deviceId: string;
  sound: number | null;
  temperature: number | null;
  altitude: number | null;
  eventTs: number;
}

export type Decoded<T> = { ok: true; event: T } | { ok: false; reason: string };

/** Largest magnitude of a sensor value: far beyond any reading, far enough below overflow for any window's sum. */
export const MAX_READING_MAGNITUDE = 1e9;

/** Field values by lower-case name. */
interface Fields {
  get(name: string): unknown;
}

const UPPER = /[A-Z]/;

/** The common case, every key already lower-case: the parsed object itself answers (no copy per record). */
class ObjectFields implements Fields {
  readonly #object: Record<string, unknown>;

  constructor(object: Record<string, unknown>) {
    this.#object = object;
  }

  get(name: string): unknown {
    return Object.hasOwn(this.#object, name) ? this.#object[name] : undefined;
  }
}

function parseFields(raw: Buffer | string | null | undefined): Fields | string {
  if (raw === null || raw === undefined || raw.length === 0) return 'empty value';
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return 'value is not JSON';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'value is not a JSON object';
  const object = parsed as Record<string, unknown>;
  let mixedCase = false;
  for (const key in object) {
    if (UPPER.test(key)) {
      mixedCase = true;
      break;
    }
  }
  if (!mixedCase) return new ObjectFields(object);
  const fields = new Map<string, unknown>();
  for (const key in object) {
    const lower = UPPER.test(key) ? key.toLowerCase() : key;
    if (!fields.has(lower)) fields.set(lower, object[key]);
  }
  return fields;
}

function eventTs(fields: Fields): number | string {
  const ts = fields.get('event_ts');
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) {
    return 'event_ts: expected a non-negative integer (epoch ms)';
  }
  return ts;
}

function deviceId(fields: Fields): string | { error: string } {
  const id = fields.get('device_id');
  if (typeof id !== 'string' || id.length === 0) return { error: 'device_id: expected a non-empty string' };
  if (!isValidDeviceId(id)) {
    const length = id.length > DEVICE_ID_MAX_LENGTH ? ` (${id.length} characters)` : '';
    return { error: `device_id: expected ${DEVICE_ID_RULE}${length}` };
  }
  return id;
}

function coordinate(fields: Fields, name: string, bound: number): number | { error: string } {
  const v = fields.get(name);
  if (typeof v !== 'number' || !Number.isFinite(v)) return { error: `${name}: expected a number` };
  if (v < -bound || v > bound) return { error: `${name}: expected decimal degrees within ±${bound}` };
  return v;
}

function reading(fields: Fields, name: string): number | null | { error: string } {
  const v = fields.get(name);
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) return { error: `${name}: expected a number or null` };
  if (Math.abs(v) > MAX_READING_MAGNITUDE) return { error: `${name}: beyond ±${MAX_READING_MAGNITUDE}, not a reading` };
  return v;
}

const isError = (v: unknown): v is { error: string } => typeof v === 'object' && v !== null && 'error' in v;

/** Decodes a `device_location` value. */
export function decodeLocation(raw: Buffer | string | null | undefined): Decoded<LocationEvent> {
  const fields = parseFields(raw);
  if (typeof fields === 'string') return { ok: false, reason: fields };
  const ts = eventTs(fields);
  if (typeof ts === 'string') return { ok: false, reason: ts };
  const device = deviceId(fields);
  if (isError(device)) return { ok: false, reason: device.error };
  const id = fields.get('id');
  if (id !== undefined && id !== null && typeof id !== 'string') return { ok: false, reason: 'id: expected a string' };
  const latitude = coordinate(fields, 'latitude', 90);
  if (isError(latitude)) return { ok: false, reason: latitude.error };
  const longitude = coordinate(fields, 'longitude', 180);
  if (isError(longitude)) return { ok: false, reason: longitude.error };
  return {
    ok: true,
    event: { id: typeof id === 'string' ? id : null, deviceId: device, latitude, longitude, eventTs: ts },
  };
}

/** Decodes a `device_status` value. */
export function decodeStatus(raw: Buffer | string | null | undefined): Decoded<StatusEvent> {
  const fields = parseFields(raw);
  if (typeof fields === 'string') return { ok: false, reason: fields };
  const ts = eventTs(fields);
  if (typeof ts === 'string') return { ok: false, reason: ts };
  const device = deviceId(fields);
  if (isError(device)) return { ok: false, reason: device.error };
  const id = fields.get('id');
  if (id !== undefined && id !== null && typeof id !== 'string') return { ok: false, reason: 'id: expected a string' };
  const sound = reading(fields, 'sound');
  if (isError(sound)) return { ok: false, reason: sound.error };
  const temperature = reading(fields, 'temperature');
  if (isError(temperature)) return { ok: false, reason: temperature.error };
  const altitude = reading(fields, 'altitude');
  if (isError(altitude)) return { ok: false, reason: altitude.error };
  return {
    ok: true,
    event: { id: typeof id === 'string' ? id : null, deviceId: device, sound, temperature, altitude, eventTs: ts },
  };
}
