/**
 * The map: one canvas drawn with our own Web Mercator projection (`projection.ts`). Why not Leaflet or
 * MapLibre: the page must work offline and request nothing but the app by default, so a tile-less map is the
 * normal case; what it draws (graticule, geofence box, distance rings, markers, trails, a track) is a few
 * hundred lines of canvas code, while MapLibre adds ~800 kB and WebGL and Leaflet a DOM node per marker (1,000
 * devices) plus its own CSS. Optional raster tiles (MAP_TILE_URL) are drawn under everything else.
 *
 * Interaction: drag to pan, wheel to zoom, click a marker to select it; with the canvas focused, arrow keys pan,
 * + and − zoom, 0 fits the geofence. Drawing happens on the next animation frame after a change, never more.
 */
import { type Severity, severityMark } from './alerts-model.js';
import {
  type Bounds,
  fitBounds,
  fromScreen,
  graticuleStep,
  type LatLon,
  type Point,
  panBy,
  ring,
  ringSteps,
  tileUrl,
  toScreen,
  type View,
  visibleTiles,
  zoomAt,
} from './projection.js';
import { DEFAULT_TRAIL, type TrailPoint, trailOpacity } from './trail.js';

/** Okabe–Ito colours (distinguishable with the common colour-vision deficiencies); shapes and text say it too. */
export const COLOURS = {
  ok: '#0072B2',
  warning: '#E69F00',
  critical: '#D55E00',
  track: '#009E73',
  geofence: '#0072B2',
  ring: '#7a8794',
  graticule: '#d3dbe3',
  background: '#f3f6f9',
  text: '#1b2733',
} as const;

export interface MapDevice {
  id: string;
  latitude: number;
  longitude: number;
  severity: Severity;
  /** Short alert text drawn beside the marker ("sound high"), absent without alerts. */
  alert: string | undefined;
}

export interface MapScene {
  devices: MapDevice[];
  trails: Map<string, TrailPoint[]>;
  selected: string | undefined;
  geofence: Bounds | undefined;
  reference: LatLon;
  /** A history track: its line as [longitude, latitude] and the replay head. */
  track: { line: [number, number][]; head: LatLon | undefined } | undefined;
  now: number;
}

export interface MapViewOptions {
  onSelect: (deviceId: string) => void;
  tileUrl: string | null;
}

const HIT_RADIUS = 16;
/** Opacity steps of the trails (one stroke each). */
const TRAIL_STEPS = 16;
/** Screen cells of the label grid: at most one label per cell. */
const LABEL_CELL = { width: 90, height: 26 };

export class MapView {
  #canvas: HTMLCanvasElement;
  #options: MapViewOptions;
  #view: View;
  #scene: MapScene | undefined;
  #frame = 0;
  #tiles = new Map<string, HTMLImageElement>();
  #drag: { start: Point; moved: boolean } | undefined;
  /** Until the user pans or zooms, the view follows the devices (`follow`). */
  #userMoved = false;
  #fitAll: () => Bounds;

  constructor(canvas: HTMLCanvasElement, options: MapViewOptions, initial: Bounds) {
    this.#canvas = canvas;
    this.#options = options;
    this.#view = fitBounds(initial, canvas.clientWidth || 800, canvas.clientHeight || 600, 40);
    this.#fitAll = () => initial;
    new ResizeObserver(() => this.#resize()).observe(canvas);
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.#drag = { start: { x: e.offsetX, y: e.offsetY }, moved: false };
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.#drag) return;
      const dx = e.offsetX - this.#drag.start.x;
      const dy = e.offsetY - this.#drag.start.y;
      if (!this.#drag.moved && Math.hypot(dx, dy) < 4) return;
      this.#drag.moved = true;
      this.#userMoved = true;
      this.#view = panBy(this.#view, -dx, -dy);
      this.#drag.start = { x: e.offsetX, y: e.offsetY };
      this.invalidate();
    });
    canvas.addEventListener('pointerup', (e) => {
      const wasClick = this.#drag && !this.#drag.moved;
      this.#drag = undefined;
      if (wasClick) {
        const hit = this.deviceAt({ x: e.offsetX, y: e.offsetY });
        if (hit) this.#options.onSelect(hit);
      }
    });
    canvas.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        this.#userMoved = true;
        this.#view = zoomAt(this.#view, -Math.sign(e.deltaY) * 0.5, { x: e.offsetX, y: e.offsetY });
        this.invalidate();
      },
      { passive: false },
    );
    canvas.addEventListener('keydown', (e) => {
      const step = 80;
      const moves: Record<string, () => View> = {
        ArrowLeft: () => panBy(this.#view, -step, 0),
        ArrowRight: () => panBy(this.#view, step, 0),
        ArrowUp: () => panBy(this.#view, 0, -step),
        ArrowDown: () => panBy(this.#view, 0, step),
        '+': () => zoomAt(this.#view, 0.5),
        '=': () => zoomAt(this.#view, 0.5),
        '-': () => zoomAt(this.#view, -0.5),
        '0': () => fitBounds(this.#fitAll(), this.#view.width, this.#view.height, 40),
      };
      const move = moves[e.key];
      if (!move) return;
      e.preventDefault();
      // 0 fits every device again and resumes following them.
      this.#userMoved = e.key !== '0';
      this.#view = move();
      this.invalidate();
    });
  }

  /** Draws raster tiles from this template under everything else. */
  setTiles(template: string) {
    this.#options = { ...this.#options, tileUrl: template };
    this.invalidate();
  }

  get view(): View {
    return this.#view;
  }

  setScene(scene: MapScene) {
    this.#scene = scene;
    this.invalidate();
  }

  /** What `0` (and the fit button) shows: every device, or the geofence before any reported. */
  setFitAll(bounds: () => Bounds) {
    this.#fitAll = bounds;
  }

  /** Fits `bounds` unless the user has moved the map since. */
  follow(bounds: Bounds) {
    if (this.#userMoved) return;
    const next = fitBounds(bounds, this.#view.width, this.#view.height, 60);
    // Refit only when a device nears the edge or the group could be shown much larger: no jitter at every fix.
    const nw = toScreen(this.#view, { latitude: bounds.maxLatitude, longitude: bounds.minLongitude });
    const se = toScreen(this.#view, { latitude: bounds.minLatitude, longitude: bounds.maxLongitude });
    const margin = 30;
    const inside =
      nw.x >= margin && nw.y >= margin && se.x <= this.#view.width - margin && se.y <= this.#view.height - margin;
    if (inside && next.zoom - this.#view.zoom < 0.75) return;
    this.#view = next;
    this.invalidate();
  }

  centreOn(position: LatLon, minZoom = 0) {
    this.#userMoved = true;
    this.#view = { ...this.#view, center: position, zoom: Math.max(this.#view.zoom, minZoom) };
    this.invalidate();
  }

  fit(bounds: Bounds) {
    this.#userMoved = true;
    this.#view = fitBounds(bounds, this.#view.width, this.#view.height, 40);
    this.invalidate();
  }

  /** The device whose marker is nearest a screen point, within reach of a click. */
  deviceAt(point: Point): string | undefined {
    let best: string | undefined;
    let bestDistance = HIT_RADIUS;
    for (const d of this.#scene?.devices ?? []) {
      const p = toScreen(this.#view, d);
      const distance = Math.hypot(p.x - point.x, p.y - point.y);
      if (distance <= bestDistance) {
        best = d.id;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** Screen position of a device's marker (for tests and the panel). */
  screenOf(position: LatLon): Point {
    return toScreen(this.#view, position);
  }

  invalidate() {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#draw();
    });
  }

  #resize() {
    const width = this.#canvas.clientWidth;
    const height = this.#canvas.clientHeight;
    const ratio = window.devicePixelRatio || 1;
    this.#canvas.width = Math.round(width * ratio);
    this.#canvas.height = Math.round(height * ratio);
    this.#view = { ...this.#view, width, height };
    this.invalidate();
  }

  #draw() {
    const ctx = this.#canvas.getContext('2d');
    const scene = this.#scene;
    if (!ctx || !scene) return;
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = this.#view;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = COLOURS.background;
    ctx.fillRect(0, 0, width, height);
    if (this.#options.tileUrl) this.#drawTiles(ctx, this.#options.tileUrl);
    this.#drawGraticule(ctx);
    if (scene.geofence) this.#drawGeofence(ctx, scene.geofence);
    this.#drawRings(ctx, scene.reference);
    if (scene.track) this.#drawTrack(ctx, scene.track);
    this.#drawTrails(ctx, scene);
    // Selected and alerting devices last, so they are on top.
    const order = [...scene.devices].sort((a, b) => rank(a, scene.selected) - rank(b, scene.selected));
    for (const d of order) this.#drawMarker(ctx, d, d.id === scene.selected);
    // Labels after every marker, from the top of the order down, each only where no other label is yet: at
    // 1,000 devices a label per marker is an unreadable pile and most of the frame's cost (bench:web).
    const taken = new Set<string>();
    for (let i = order.length - 1; i >= 0; i--) {
      const d = order[i] as MapDevice;
      const selected = d.id === scene.selected;
      const { x, y } = toScreen(this.#view, d);
      if (x < -LABEL_CELL.width || y < -LABEL_CELL.height || x > width || y > height) continue;
      const cell = `${Math.floor(x / LABEL_CELL.width)},${Math.floor(y / LABEL_CELL.height)}`;
      if (!selected && taken.has(cell)) continue;
      taken.add(cell);
      this.#drawLabel(ctx, d, x, y, selected);
    }
  }

  #drawTiles(ctx: CanvasRenderingContext2D, template: string) {
    for (const slot of visibleTiles(this.#view)) {
      const url = tileUrl(template, slot);
      let image = this.#tiles.get(url);
      if (!image) {
        image = new Image();
        image.onload = () => this.invalidate();
        image.src = url;
        this.#tiles.set(url, image);
        // Bounded cache: forget the oldest tiles.
        if (this.#tiles.size > 300) this.#tiles.delete(this.#tiles.keys().next().value as string);
      }
      if (image.complete && image.naturalWidth > 0) {
        ctx.drawImage(image, slot.left, slot.top, slot.size + 0.5, slot.size + 0.5);
      }
    }
  }

  #drawGraticule(ctx: CanvasRenderingContext2D) {
    const view = this.#view;
    const step = graticuleStep(view);
    const topLeft = fromScreen(view, { x: 0, y: 0 });
    const bottomRight = fromScreen(view, { x: view.width, y: view.height });
    ctx.strokeStyle = COLOURS.graticule;
    ctx.fillStyle = '#6b7886';
    ctx.lineWidth = 1;
    ctx.font = '11px system-ui, sans-serif';
    const decimals = String(step).split('.')[1]?.length ?? 0;
    ctx.beginPath();
    for (let lon = Math.ceil(topLeft.longitude / step) * step; lon <= bottomRight.longitude; lon += step) {
      const x = Math.round(toScreen(view, { latitude: 0, longitude: lon }).x) + 0.5;
      ctx.moveTo(x, 0);
      ctx.lineTo(x, view.height);
      ctx.fillText(`${lon.toFixed(decimals)}°E`, x + 3, view.height - 6);
    }
    for (let lat = Math.ceil(bottomRight.latitude / step) * step; lat <= topLeft.latitude; lat += step) {
      const y = Math.round(toScreen(view, { latitude: lat, longitude: 0 }).y) + 0.5;
      ctx.moveTo(0, y);
      ctx.lineTo(view.width, y);
      ctx.fillText(`${lat.toFixed(decimals)}°N`, 4, y - 3);
    }
    ctx.stroke();
  }

  #drawGeofence(ctx: CanvasRenderingContext2D, g: Bounds) {
    const a = toScreen(this.#view, { latitude: g.maxLatitude, longitude: g.minLongitude });
    const b = toScreen(this.#view, { latitude: g.minLatitude, longitude: g.maxLongitude });
    ctx.fillStyle = 'rgba(0, 114, 178, 0.05)';
    ctx.fillRect(a.x, a.y, b.x - a.x, b.y - a.y);
    ctx.setLineDash([8, 5]);
    ctx.strokeStyle = COLOURS.geofence;
    ctx.lineWidth = 2;
    ctx.strokeRect(a.x, a.y, b.x - a.x, b.y - a.y);
    ctx.setLineDash([]);
    ctx.fillStyle = COLOURS.geofence;
    ctx.font = '600 12px system-ui, sans-serif';
    ctx.fillText('geofence', a.x + 6, a.y + 16);
  }

  #drawRings(ctx: CanvasRenderingContext2D, reference: LatLon) {
    const centre = toScreen(this.#view, reference);
    ctx.strokeStyle = COLOURS.ring;
    ctx.fillStyle = COLOURS.ring;
    ctx.lineWidth = 1;
    ctx.font = '11px system-ui, sans-serif';
    ctx.setLineDash([2, 4]);
    for (const km of ringSteps(this.#view)) {
      const positions = ring(reference, km);
      ctx.beginPath();
      positions.forEach((p, i) => {
        const s = toScreen(this.#view, p);
        if (i === 0) ctx.moveTo(s.x, s.y);
        else ctx.lineTo(s.x, s.y);
      });
      ctx.closePath();
      ctx.stroke();
      const north = toScreen(this.#view, positions[0] as LatLon);
      ctx.fillText(`${km} km`, north.x + 4, north.y - 3);
    }
    ctx.setLineDash([]);
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(centre.x - 7, centre.y);
    ctx.lineTo(centre.x + 7, centre.y);
    ctx.moveTo(centre.x, centre.y - 7);
    ctx.lineTo(centre.x, centre.y + 7);
    ctx.stroke();
    ctx.fillText('9.0, 107.0', centre.x + 8, centre.y + 14);
  }

  /**
   * Every trail segment, batched by opacity: one path and one stroke per opacity step (16 steps), instead of one
   * per segment (60 per device, 60,000 strokes a frame at 1,000 devices). The selected trail is drawn on top.
   */
  #drawTrails(ctx: CanvasRenderingContext2D, scene: MapScene) {
    const steps: Path2D[] = [];
    const selected: Path2D[] = [];
    for (const [id, trail] of scene.trails) {
      const paths = id === scene.selected ? selected : steps;
      for (let i = 1; i < trail.length; i++) {
        const from = trail[i - 1] as TrailPoint;
        const to = trail[i] as TrailPoint;
        const alpha = trailOpacity(scene.now - to.at, DEFAULT_TRAIL.maxAgeMs) * 0.8;
        if (alpha <= 0.02) continue;
        const step = Math.max(1, Math.round(alpha * TRAIL_STEPS));
        let path = paths[step];
        if (!path) {
          path = new Path2D();
          paths[step] = path;
        }
        const a = toScreen(this.#view, from);
        const b = toScreen(this.#view, to);
        path.moveTo(a.x, a.y);
        path.lineTo(b.x, b.y);
      }
    }
    ctx.lineCap = 'round';
    for (const [paths, width] of [
      [steps, 2],
      [selected, 3],
    ] as const) {
      ctx.lineWidth = width;
      paths.forEach((path, step) => {
        ctx.strokeStyle = `rgba(0, 114, 178, ${(step / TRAIL_STEPS).toFixed(3)})`;
        ctx.stroke(path);
      });
    }
  }

  #drawTrack(ctx: CanvasRenderingContext2D, track: NonNullable<MapScene['track']>) {
    ctx.strokeStyle = COLOURS.track;
    ctx.lineWidth = 3;
    ctx.lineJoin = 'round';
    ctx.beginPath();
    track.line.forEach(([longitude, latitude], i) => {
      const s = toScreen(this.#view, { latitude, longitude });
      if (i === 0) ctx.moveTo(s.x, s.y);
      else ctx.lineTo(s.x, s.y);
    });
    ctx.stroke();
    ctx.fillStyle = COLOURS.track;
    for (const [longitude, latitude] of track.line) {
      const s = toScreen(this.#view, { latitude, longitude });
      ctx.fillRect(s.x - 1.5, s.y - 1.5, 3, 3);
    }
    if (track.head) {
      const s = toScreen(this.#view, track.head);
      ctx.fillStyle = '#ffffff';
      ctx.strokeStyle = COLOURS.track;
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.arc(s.x, s.y, 8, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
    }
  }

  #drawMarker(ctx: CanvasRenderingContext2D, d: MapDevice, selected: boolean) {
    const { x, y } = toScreen(this.#view, d);
    const size = selected ? 10 : 8;
    if (selected) {
      ctx.strokeStyle = COLOURS.text;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, y, size + 7, 0, Math.PI * 2);
      ctx.stroke();
    }
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#ffffff';
    ctx.fillStyle = COLOURS[d.severity];
    ctx.beginPath();
    if (d.severity === 'ok') {
      ctx.arc(x, y, size, 0, Math.PI * 2);
    } else {
      // A triangle for an alert, a larger one for a critical alert: the shape says it without colour.
      const s = d.severity === 'critical' ? size + 5 : size + 3;
      ctx.moveTo(x, y - s);
      ctx.lineTo(x + s, y + s * 0.75);
      ctx.lineTo(x - s, y + s * 0.75);
      ctx.closePath();
    }
    ctx.fill();
    ctx.stroke();
    if (d.severity !== 'ok') {
      ctx.fillStyle = '#000000';
      ctx.font = '700 10px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText(severityMark(d.severity), x, y + 5);
      ctx.textAlign = 'start';
    }
  }

  /** The device's name and, when it has alerts, their short text, beside its marker. */
  #drawLabel(ctx: CanvasRenderingContext2D, d: MapDevice, x: number, y: number, selected: boolean) {
    const left = x + (selected ? 10 : 8) + 7;
    haloText(
      ctx,
      d.id,
      left,
      y + (d.alert ? 0 : 4),
      `${selected ? 700 : 600} 12px system-ui, sans-serif`,
      COLOURS.text,
    );
    if (d.alert) {
      const text = `${severityMark(d.severity)} ${d.alert}`;
      haloText(
        ctx,
        text,
        left,
        y + 13,
        '600 11px system-ui, sans-serif',
        d.severity === 'critical' ? '#9a3a00' : '#6b4a00',
      );
    }
  }
}

function rank(d: MapDevice, selected: string | undefined): number {
  if (d.id === selected) return 3;
  return d.severity === 'critical' ? 2 : d.severity === 'warning' ? 1 : 0;
}

function haloText(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, font: string, colour: string) {
  ctx.font = font;
  ctx.lineWidth = 4;
  ctx.lineJoin = 'round';
  ctx.strokeStyle = 'rgba(255, 255, 255, 0.92)';
  ctx.strokeText(text, x, y);
  ctx.fillStyle = colour;
  ctx.fillText(text, x, y);
}
