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
  screenProjector,
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
/** How often the trails' layer is drawn again at most (live data; pan, zoom and selection redraw it at once). */
const TRAIL_LAYER_MS = 2000;
/** Screen cells of the label grid: at most one label per cell. */
const LABEL_CELL = { width: 90, height: 26 };
/** Room around a label's text in its canvas, for the halo. */
const LABEL_PAD = 4;
/** Label canvases kept for reuse. */
const LABEL_CACHE = 1200;

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
  #background: HTMLCanvasElement | undefined;
  #backgroundKey = '';
  /** Counts loaded tiles: a new one redraws the background. */
  #tilesLoaded = 0;
  /** Labels drawn once each (text, font and colour), copied onto the map. */
  #labels = new Map<string, HTMLCanvasElement>();
  #trailLayer: HTMLCanvasElement | undefined;
  #trailKey = '';
  #trailAt = 0;
  /** The newest fix of each trail in the layer. */
  #trailDrawn = new Map<string, number>();

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
    // A canvas of no size (a hidden map) cannot be copied from.
    if (!ctx || !scene || this.#canvas.width === 0 || this.#canvas.height === 0) return;
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = this.#view;
    // The background (tiles, graticule, geofence, rings) changes only with the view: drawn once into its own
    // canvas and copied each frame (bench:web: it was redrawn 10 times a second at 1,000 devices).
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.#backgroundFor(scene, ratio), 0, 0);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const at = screenProjector(this.#view);
    if (scene.track) this.#drawTrack(ctx, scene.track);
    this.#drawTrailLayer(ctx, scene, at, ratio);
    // Only what is in view, batched by class: one path per colour and shape (ok, warning, critical, their marks),
    // filled and stroked once each, then the selected device on top (alerting ones above the rest, as before).
    const margin = 24;
    const visible: { d: MapDevice; x: number; y: number }[] = [];
    const shapes = { ok: new Path2D(), warning: new Path2D(), critical: new Path2D() };
    const marks = new Path2D();
    let chosen: { d: MapDevice; x: number; y: number } | undefined;
    for (const d of scene.devices) {
      const x = at.x(d.longitude);
      const y = at.y(d.latitude);
      if (x < -margin || y < -margin || x > width + margin || y > height + margin) continue;
      const placed = { d, x, y };
      visible.push(placed);
      if (d.id === scene.selected) chosen = placed;
      else addMarker(shapes[d.severity], marks, d.severity, x, y, 8);
    }
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#ffffff';
    for (const severity of ['ok', 'warning', 'critical'] as const) {
      ctx.fillStyle = COLOURS[severity];
      ctx.fill(shapes[severity]);
      ctx.stroke(shapes[severity]);
    }
    ctx.fillStyle = '#000000';
    ctx.fill(marks);
    if (chosen) {
      const shape = new Path2D();
      const mark = new Path2D();
      addMarker(shape, mark, chosen.d.severity, chosen.x, chosen.y, 10);
      ctx.strokeStyle = COLOURS.text;
      ctx.beginPath();
      ctx.arc(chosen.x, chosen.y, 17, 0, Math.PI * 2);
      ctx.stroke();
      ctx.strokeStyle = '#ffffff';
      ctx.fillStyle = COLOURS[chosen.d.severity];
      ctx.fill(shape);
      ctx.stroke(shape);
      ctx.fillStyle = '#000000';
      ctx.fill(mark);
    }
    // Labels after every marker, selected then critical then warning first, each only where no other label is
    // yet: at 1,000 devices a label per marker is an unreadable pile. Each text is drawn once into a small canvas
    // and copied (canvas text with a halo was the largest part of a frame).
    visible.sort((a, b) => rank(b.d, scene.selected) - rank(a.d, scene.selected));
    const taken = new Set<number>();
    for (const { d, x, y } of visible) {
      const selected = d.id === scene.selected;
      if (x < -LABEL_CELL.width || y < -LABEL_CELL.height || x > width || y > height) continue;
      const cell = Math.floor(x / LABEL_CELL.width) * 4096 + Math.floor(y / LABEL_CELL.height);
      if (!selected && taken.has(cell)) continue;
      taken.add(cell);
      this.#drawLabel(ctx, d, x, y, selected, ratio);
    }
  }

  /** The background canvas for the current view, redrawn only when the view, the geofence or a tile changed. */
  #backgroundFor(scene: MapScene, ratio: number): HTMLCanvasElement {
    const { center, zoom, width, height } = this.#view;
    const g = scene.geofence;
    const key = [
      center.latitude,
      center.longitude,
      zoom,
      width,
      height,
      ratio,
      g ? `${g.minLatitude},${g.maxLatitude},${g.minLongitude},${g.maxLongitude}` : '',
      scene.reference.latitude,
      scene.reference.longitude,
      this.#options.tileUrl ?? '',
      this.#tilesLoaded,
    ].join('|');
    if (this.#background && this.#backgroundKey === key) return this.#background;
    const canvas = this.#background ?? document.createElement('canvas');
    this.#background = canvas;
    this.#backgroundKey = key;
    canvas.width = this.#canvas.width;
    canvas.height = this.#canvas.height;
    const ctx = canvas.getContext('2d');
    if (!ctx) return canvas;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = COLOURS.background;
    ctx.fillRect(0, 0, width, height);
    if (this.#options.tileUrl) this.#drawTiles(ctx, this.#options.tileUrl);
    this.#drawGraticule(ctx);
    if (g) this.#drawGeofence(ctx, g);
    this.#drawRings(ctx, scene.reference);
    return canvas;
  }

  #drawTiles(ctx: CanvasRenderingContext2D, template: string) {
    for (const slot of visibleTiles(this.#view)) {
      const url = tileUrl(template, slot);
      let image = this.#tiles.get(url);
      if (!image) {
        image = new Image();
        image.onload = () => {
          this.#tilesLoaded++;
          this.invalidate();
        };
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
   * The trails: every segment is drawn into a layer of its own at most every `TRAIL_LAYER_MS` (and when the view
   * or the selection changes), copied each frame; segments to fixes that arrived since are drawn on top at once.
   * A segment's opacity changes by under 2 % in that time (it fades over 2 minutes), while rasterising 60,000
   * segments was the largest part of the main thread's work at 1,000 devices (CPU profile: ~75 ms each time).
   */
  #drawTrailLayer(
    ctx: CanvasRenderingContext2D,
    scene: MapScene,
    at: ReturnType<typeof screenProjector>,
    ratio: number,
  ) {
    const { center, zoom, width, height } = this.#view;
    const key = `${center.latitude}|${center.longitude}|${zoom}|${width}|${height}|${ratio}|${scene.selected ?? ''}`;
    let layer = this.#trailLayer;
    if (!layer || this.#trailKey !== key || Math.abs(scene.now - this.#trailAt) >= TRAIL_LAYER_MS) {
      layer ??= document.createElement('canvas');
      this.#trailLayer = layer;
      this.#trailKey = key;
      this.#trailAt = scene.now;
      layer.width = this.#canvas.width;
      layer.height = this.#canvas.height;
      const c = layer.getContext('2d');
      if (!c) return;
      c.setTransform(ratio, 0, 0, ratio, 0, 0);
      this.#trailDrawn = this.#drawTrails(c, scene, at);
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(layer, 0, 0);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.#drawTrails(ctx, scene, at, this.#trailDrawn);
  }

  /**
   * Every trail segment, batched by opacity: one path and one stroke per opacity step (16 steps), instead of one
   * per segment (60 per device, 60,000 strokes a frame at 1,000 devices). Consecutive segments of the same step
   * form one polyline; segments wholly outside the view are left out. The selected trail is drawn on top.
   */
  #drawTrails(
    ctx: CanvasRenderingContext2D,
    scene: MapScene,
    at: ReturnType<typeof screenProjector>,
    /** Only the segments to fixes newer than these (per device), when given. */
    since?: Map<string, number>,
  ): Map<string, number> {
    const steps: Path2D[] = [];
    const selected: Path2D[] = [];
    const { width, height } = this.#view;
    const pad = 4;
    const drawn = new Map<string, number>();
    for (const [id, trail] of scene.trails) {
      const paths = id === scene.selected ? selected : steps;
      let previous = -1;
      const last = trail[trail.length - 1];
      if (!last) continue;
      drawn.set(id, last.at);
      let start = 1;
      if (since) {
        const after = since.get(id) ?? Number.NEGATIVE_INFINITY;
        if (last.at <= after) continue;
        start = Math.max(1, trail.length - 1);
        while (start > 1 && (trail[start - 1] as TrailPoint).at > after) start--;
      }
      const first = trail[start - 1] as TrailPoint;
      let ax = at.x(first.longitude);
      let ay = at.y(first.latitude);
      for (let i = start; i < trail.length; i++) {
        const to = trail[i] as TrailPoint;
        const bx = at.x(to.longitude);
        const by = at.y(to.latitude);
        const alpha = trailOpacity(scene.now - to.at, DEFAULT_TRAIL.maxAgeMs) * 0.8;
        const outside =
          (ax < -pad && bx < -pad) ||
          (ay < -pad && by < -pad) ||
          (ax > width + pad && bx > width + pad) ||
          (ay > height + pad && by > height + pad);
        if (alpha <= 0.02 || outside) {
          previous = -1;
        } else {
          const step = Math.max(1, Math.round(alpha * TRAIL_STEPS));
          let path = paths[step];
          if (!path) {
            path = new Path2D();
            paths[step] = path;
          }
          if (step !== previous) path.moveTo(ax, ay);
          path.lineTo(bx, by);
          previous = step;
        }
        ax = bx;
        ay = by;
      }
    }
    // Butt ends and bevel joins: at 2–3 px they look the same as round ones and are much cheaper to rasterise
    // (tens of thousands of short segments).
    ctx.lineCap = 'butt';
    ctx.lineJoin = 'bevel';
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
    return drawn;
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

  /** The device's name and, when it has alerts, their short text, beside its marker. */
  #drawLabel(ctx: CanvasRenderingContext2D, d: MapDevice, x: number, y: number, selected: boolean, ratio: number) {
    const left = x + (selected ? 10 : 8) + 7;
    this.#haloText(ctx, d.id, left, y + (d.alert ? 0 : 4), selected ? 700 : 600, 12, COLOURS.text, ratio);
    if (d.alert) {
      const text = `${severityMark(d.severity)} ${d.alert}`;
      this.#haloText(ctx, text, left, y + 13, 600, 11, d.severity === 'critical' ? '#9a3a00' : '#6b4a00', ratio);
    }
  }

  /** Text with a white halo, its baseline starting at (x, y): drawn once into a small canvas, then copied. */
  #haloText(
    ctx: CanvasRenderingContext2D,
    text: string,
    x: number,
    y: number,
    weight: number,
    px: number,
    colour: string,
    ratio: number,
  ) {
    const font = `${weight} ${px}px system-ui, sans-serif`;
    const key = `${ratio}|${font}|${colour}|${text}`;
    let sprite = this.#labels.get(key);
    if (sprite) {
      // Most recently used last: the first entry is the one to reuse when the cache is full.
      this.#labels.delete(key);
      this.#labels.set(key, sprite);
    } else {
      // Bounded: at most LABEL_CACHE canvases (a frame draws a few hundred labels); the least recently used one
      // is drawn over for the new text.
      const oldest = this.#labels.size >= LABEL_CACHE ? this.#labels.keys().next().value : undefined;
      if (oldest !== undefined) {
        sprite = this.#labels.get(oldest);
        this.#labels.delete(oldest);
      }
      sprite ??= document.createElement('canvas');
      const c = sprite.getContext('2d');
      if (!c) return;
      c.font = font;
      const width = Math.ceil(c.measureText(text).width) + 2 * LABEL_PAD;
      sprite.width = Math.ceil(width * ratio);
      sprite.height = Math.ceil((px * 1.5 + 2 * LABEL_PAD) * ratio);
      c.setTransform(ratio, 0, 0, ratio, 0, 0);
      c.font = font;
      c.lineWidth = 4;
      c.lineJoin = 'round';
      c.strokeStyle = 'rgba(255, 255, 255, 0.92)';
      c.strokeText(text, LABEL_PAD, LABEL_PAD + px);
      c.fillStyle = colour;
      c.fillText(text, LABEL_PAD, LABEL_PAD + px);
      this.#labels.set(key, sprite);
    }
    // Whole device pixels: a copy between pixels would blur the text.
    const left = Math.round((x - LABEL_PAD) * ratio) / ratio;
    const top = Math.round((y - LABEL_PAD - px) * ratio) / ratio;
    ctx.drawImage(sprite, left, top, sprite.width / ratio, sprite.height / ratio);
  }
}

/**
 * A marker added to its class's path: a circle, a triangle for an alert, a larger one for a critical alert (the
 * shape says it without colour), and for an alert its `!` or `!!` as bars and dots in the marks' path.
 */
function addMarker(shape: Path2D, marks: Path2D, severity: Severity, x: number, y: number, size: number) {
  if (severity === 'ok') {
    shape.moveTo(x + size, y);
    shape.arc(x, y, size, 0, Math.PI * 2);
    return;
  }
  const s = severity === 'critical' ? size + 5 : size + 3;
  shape.moveTo(x, y - s);
  shape.lineTo(x + s, y + s * 0.75);
  shape.lineTo(x - s, y + s * 0.75);
  shape.closePath();
  const bang = (cx: number) => {
    marks.rect(cx - 1, y - 4, 2, 6);
    marks.rect(cx - 1, y + 3.5, 2, 2);
  };
  if (severity === 'critical') {
    bang(x - 2.5);
    bang(x + 2.5);
  } else {
    bang(x);
  }
}

function rank(d: MapDevice, selected: string | undefined): number {
  if (d.id === selected) return 3;
  return d.severity === 'critical' ? 2 : d.severity === 'warning' ? 1 : 0;
}
