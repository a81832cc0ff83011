/**
 * A device's history as `GET /devices/{device_id}/track` serves it — a GeoJSON FeatureCollection: a LineString
 * of [longitude, latitude] positions first (absent below two points), then one Point per 2-second window — read
 * into what the history view draws and replays. Pure functions, no DOM.
 */

export interface TrackPoint {
  id: string;
  latitude: number;
  longitude: number;
  window_start: number;
  window_end: number;
  event_ts: number;
  event_count: number;
  avg_temp: number;
  avg_sound: number;
  avg_alt: number;
  distance: number;
}

export interface Track {
  deviceId: string;
  /** The LineString's positions as [longitude, latitude]; empty when the server sent none. */
  line: [number, number][];
  points: TrackPoint[];
  /** What the LineString's properties say about thinning (absent without a LineString). */
  thinned: boolean;
  windows: number | undefined;
  limit: number | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const num = (v: unknown, name: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`track: ${name} is not a number`);
  return v;
};

/** Parses the response body; throws naming what does not fit the contract. */
export function parseTrack(body: unknown, deviceId: string): Track {
  if (!isObject(body) || body['type'] !== 'FeatureCollection' || !Array.isArray(body['features'])) {
    throw new Error('track: expected a GeoJSON FeatureCollection');
  }
  const track: Track = { deviceId, line: [], points: [], thinned: false, windows: undefined, limit: undefined };
  for (const feature of body['features'] as unknown[]) {
    if (!isObject(feature) || !isObject(feature['geometry'])) throw new Error('track: a feature has no geometry');
    const geometry = feature['geometry'];
    const props = isObject(feature['properties']) ? feature['properties'] : {};
    if (geometry['type'] === 'LineString' && Array.isArray(geometry['coordinates'])) {
      track.line = (geometry['coordinates'] as unknown[]).map((c, i) => {
        if (!Array.isArray(c)) throw new Error(`track: position ${i} is not an array`);
        return [num(c[0], `position ${i} longitude`), num(c[1], `position ${i} latitude`)];
      });
      track.thinned = props['thinned'] === true;
      track.windows = typeof props['windows'] === 'number' ? props['windows'] : undefined;
      track.limit = typeof props['limit'] === 'number' ? props['limit'] : undefined;
    } else if (geometry['type'] === 'Point' && Array.isArray(geometry['coordinates'])) {
      const [longitude, latitude] = geometry['coordinates'] as unknown[];
      track.points.push({
        id: String(props['id'] ?? ''),
        longitude: num(longitude, 'point longitude'),
        latitude: num(latitude, 'point latitude'),
        window_start: num(props['window_start'], 'window_start'),
        window_end: num(props['window_end'], 'window_end'),
        event_ts: num(props['event_ts'], 'event_ts'),
        event_count: num(props['event_count'], 'event_count'),
        avg_temp: num(props['avg_temp'], 'avg_temp'),
        avg_sound: num(props['avg_sound'], 'avg_sound'),
        avg_alt: num(props['avg_alt'], 'avg_alt'),
        distance: num(props['distance'], 'distance'),
      });
    }
  }
  track.points.sort((a, b) => a.window_start - b.window_start);
  return track;
}

/** The index of the last point at or before `time` (the replay head); -1 before the first. */
export function replayIndex(points: readonly TrackPoint[], time: number): number {
  let lo = 0;
  let hi = points.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((points[mid] as TrackPoint).window_start <= time) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** `from`/`to` (epoch ms) for a range given in the page's local datetime inputs; empty: the server default. */
export function trackQuery(from: string, to: string): string {
  const params = new URLSearchParams();
  const iso = (v: string) => String(new Date(v).getTime());
  if (from) params.set('from', iso(from));
  if (to) params.set('to', iso(to));
  const text = params.toString();
  return text ? `?${text}` : '';
}
