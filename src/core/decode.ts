/**
 * Decoding of the source records, with ksqlDB's JSON rules (ksqldb-semantics.md §1.5, §1.6):
 * field names match case-insensitively (first match wins), a missing field is null, and the row time is
 * `event_ts`. Records ksqlDB would drop or cannot type (no `event_ts`, a wrong type, no device id) are returned
 * as failures with a reason, so the adapter can count them and dead-letter them instead of stopping.
 *
 * Deliberate strictness: a location without numeric latitude/longitude or a string `id` is rejected here.
 * ksqlDB would join it and then drop every row in the geofence filter (null BETWEEN is false), so the outputs
 * are the same and the record is still visible in the dead-letter topic. Status sensor values may be null
 * or missing (they join and are skipped by AVG / LATEST_BY_OFFSET), but must be numbers when present.
 */

export interface LocationEvent {
  id: string;
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
  return id;
}

function requiredNumber(fields: Fields, name: string): number | { error: string } {
  const v = fields.get(name);
  if (typeof v !== 'number' || !Number.isFinite(v)) return { error: `${name}: expected a number` };
  return v;
}

function optionalNumber(fields: Fields, name: string): number | null | { error: string } {
  const v = fields.get(name);
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) return { error: `${name}: expected a number or null` };
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
  if (typeof id !== 'string') return { ok: false, reason: 'id: expected a string' };
  const latitude = requiredNumber(fields, 'latitude');
  if (isError(latitude)) return { ok: false, reason: latitude.error };
  const longitude = requiredNumber(fields, 'longitude');
  if (isError(longitude)) return { ok: false, reason: longitude.error };
  return { ok: true, event: { id, deviceId: device, latitude, longitude, eventTs: ts } };
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
  const sound = optionalNumber(fields, 'sound');
  if (isError(sound)) return { ok: false, reason: sound.error };
  const temperature = optionalNumber(fields, 'temperature');
  if (isError(temperature)) return { ok: false, reason: temperature.error };
  const altitude = optionalNumber(fields, 'altitude');
  if (isError(altitude)) return { ok: false, reason: altitude.error };
  return {
    ok: true,
    event: { id: typeof id === 'string' ? id : null, deviceId: device, sound, temperature, altitude, eventTs: ts },
  };
}
