/**
 * Web Mercator (EPSG:3857), the projection of every raster tile service, so an optional base map lines up with
 * what the page draws. World pixels at zoom z span 256·2^z; the view is a centre, a fractional zoom and the
 * canvas size in CSS pixels. Pure functions, no DOM.
 */

export const TILE_SIZE = 256;
/** Earth radius of ksqlDB's GEO_DISTANCE (km), so the rings match the `distance` the API serves. */
export const EARTH_RADIUS_KM = 6371;
const MAX_LATITUDE = 85.05112878;

export interface LatLon {
  latitude: number;
  longitude: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface View {
  center: LatLon;
  zoom: number;
  width: number;
  height: number;
}

export interface Bounds {
  minLatitude: number;
  maxLatitude: number;
  minLongitude: number;
  maxLongitude: number;
}

export const MIN_ZOOM = 2;
export const MAX_ZOOM = 18;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** World pixel coordinates of a position at `zoom`. */
export function project({ latitude, longitude }: LatLon, zoom: number): Point {
  const size = TILE_SIZE * 2 ** zoom;
  const lat = (clamp(latitude, -MAX_LATITUDE, MAX_LATITUDE) * Math.PI) / 180;
  return {
    x: ((longitude + 180) / 360) * size,
    y: ((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * size,
  };
}

export function unproject({ x, y }: Point, zoom: number): LatLon {
  const size = TILE_SIZE * 2 ** zoom;
  const n = Math.PI - (2 * Math.PI * y) / size;
  return { latitude: (180 / Math.PI) * Math.atan(Math.sinh(n)), longitude: (x / size) * 360 - 180 };
}

export function toScreen(view: View, position: LatLon): Point {
  const c = project(view.center, view.zoom);
  const p = project(position, view.zoom);
  return { x: p.x - c.x + view.width / 2, y: p.y - c.y + view.height / 2 };
}

/**
 * Screen x of a longitude and y of a latitude in `view`, with the centre projected once: for drawing thousands
 * of points a frame without an object (and the centre's logarithm) per point. Same results as `toScreen`.
 */
export function screenProjector(view: View): { x: (longitude: number) => number; y: (latitude: number) => number } {
  const size = TILE_SIZE * 2 ** view.zoom;
  const c = project(view.center, view.zoom);
  const offsetX = view.width / 2 - c.x;
  const offsetY = view.height / 2 - c.y;
  return {
    x: (longitude) => ((longitude + 180) / 360) * size + offsetX,
    y: (latitude) => {
      const lat = (clamp(latitude, -MAX_LATITUDE, MAX_LATITUDE) * Math.PI) / 180;
      return ((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * size + offsetY;
    },
  };
}

export function fromScreen(view: View, { x, y }: Point): LatLon {
  const c = project(view.center, view.zoom);
  return unproject({ x: c.x + x - view.width / 2, y: c.y + y - view.height / 2 }, view.zoom);
}

/** The view that shows `bounds` whole with `padding` CSS pixels on every side. */
export function fitBounds(bounds: Bounds, width: number, height: number, padding = 24): View {
  const a = project({ latitude: bounds.maxLatitude, longitude: bounds.minLongitude }, 0);
  const b = project({ latitude: bounds.minLatitude, longitude: bounds.maxLongitude }, 0);
  // The projected midpoint: in Mercator the mean latitude is not halfway up the screen.
  const center = unproject({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }, 0);
  const spanX = Math.max(b.x - a.x, 1e-9);
  const spanY = Math.max(b.y - a.y, 1e-9);
  const zoom = Math.log2(Math.min(Math.max(width - 2 * padding, 1) / spanX, Math.max(height - 2 * padding, 1) / spanY));
  return { center, zoom: clamp(zoom, MIN_ZOOM, MAX_ZOOM), width, height };
}

export function panBy(view: View, dx: number, dy: number): View {
  return { ...view, center: fromScreen(view, { x: view.width / 2 + dx, y: view.height / 2 + dy }) };
}

/** Zooms by `delta` levels keeping the position under the screen point `anchor` in place. */
export function zoomAt(view: View, delta: number, anchor: Point = { x: view.width / 2, y: view.height / 2 }): View {
  const zoom = clamp(view.zoom + delta, MIN_ZOOM, MAX_ZOOM);
  const fixed = fromScreen(view, anchor);
  const moved = { ...view, zoom };
  const now = toScreen(moved, fixed);
  return panBy(moved, now.x - anchor.x, now.y - anchor.y);
}

/** The position `km` from `origin` along `bearingDegrees` on the GEO_DISTANCE sphere. */
export function destination(origin: LatLon, bearingDegrees: number, km: number): LatLon {
  const d = km / EARTH_RADIUS_KM;
  const b = (bearingDegrees * Math.PI) / 180;
  const lat1 = (origin.latitude * Math.PI) / 180;
  const lon1 = (origin.longitude * Math.PI) / 180;
  const lat2 = Math.asin(Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(b));
  const lon2 =
    lon1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(lat1), Math.cos(d) - Math.sin(lat1) * Math.sin(lat2));
  return { latitude: (lat2 * 180) / Math.PI, longitude: (lon2 * 180) / Math.PI };
}

/** A ring of `km` around `origin` as `segments` positions (a closed polygon when drawn). */
export function ring(origin: LatLon, km: number, segments = 96): LatLon[] {
  return Array.from({ length: segments }, (_, i) => destination(origin, (360 * i) / segments, km));
}

const NICE_STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30];

/** The graticule spacing in degrees: the smallest step whose lines are at least `minPixels` apart. */
export function graticuleStep(view: View, minPixels = 90): number {
  const pixelsPerDegree = (TILE_SIZE * 2 ** view.zoom) / 360;
  return NICE_STEPS.find((step) => step * pixelsPerDegree >= minPixels) ?? 30;
}

/** Distance rings in km that stay readable at this zoom: about 4 rings across the smaller side of the view. */
export function ringSteps(view: View): number[] {
  const kmPerPixel =
    (2 * Math.PI * EARTH_RADIUS_KM * Math.cos((view.center.latitude * Math.PI) / 180)) / (TILE_SIZE * 2 ** view.zoom);
  const radiusKm = (Math.min(view.width, view.height) / 2) * kmPerPixel;
  const nice = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000];
  const step = nice.find((s) => s * 4 >= radiusKm) ?? 1000;
  return [1, 2, 3, 4].map((i) => i * step);
}

export interface TileSlot {
  z: number;
  x: number;
  y: number;
  /** Top-left corner and size on the screen, CSS pixels. */
  left: number;
  top: number;
  size: number;
}

/** The tiles covering the view at the integer zoom at or below it, scaled to the fractional zoom. */
export function visibleTiles(view: View): TileSlot[] {
  const z = Math.max(0, Math.floor(view.zoom));
  const scale = 2 ** (view.zoom - z);
  const size = TILE_SIZE * scale;
  const centre = project(view.center, view.zoom);
  const originX = centre.x - view.width / 2;
  const originY = centre.y - view.height / 2;
  const count = 2 ** z;
  const slots: TileSlot[] = [];
  const firstX = Math.floor(originX / size);
  const firstY = Math.max(0, Math.floor(originY / size));
  for (let ty = firstY; ty * size < originY + view.height && ty < count; ty++) {
    for (let tx = firstX; tx * size < originX + view.width; tx++) {
      slots.push({
        z,
        x: ((tx % count) + count) % count,
        y: ty,
        left: tx * size - originX,
        top: ty * size - originY,
        size,
      });
    }
  }
  return slots;
}

export function tileUrl(template: string, slot: Pick<TileSlot, 'z' | 'x' | 'y'>): string {
  return template.replaceAll('{z}', String(slot.z)).replaceAll('{x}', String(slot.x)).replaceAll('{y}', String(slot.y));
}
