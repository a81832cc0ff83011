import { describe, expect, it } from 'vitest';
import {
  destination,
  fitBounds,
  fromScreen,
  graticuleStep,
  project,
  ringSteps,
  screenProjector,
  TILE_SIZE,
  toScreen,
  unproject,
  visibleTiles,
  zoomAt,
} from './projection.js';

const view = { center: { latitude: 9, longitude: 107 }, zoom: 8, width: 800, height: 600 };

describe('Web Mercator', () => {
  it('puts (0, 0) in the middle of the world and round-trips positions', () => {
    expect(project({ latitude: 0, longitude: 0 }, 0)).toEqual({ x: TILE_SIZE / 2, y: TILE_SIZE / 2 });
    const p = unproject(project({ latitude: 9.5, longitude: 106.25 }, 11), 11);
    expect(p.latitude).toBeCloseTo(9.5, 9);
    expect(p.longitude).toBeCloseTo(106.25, 9);
  });

  it('projects to the screen the same way point by point (screenProjector)', () => {
    const at = screenProjector(view);
    for (const p of [view.center, { latitude: 8.2, longitude: 106.4 }, { latitude: 9.9, longitude: 107.7 }]) {
      const s = toScreen(view, p);
      expect(at.x(p.longitude)).toBeCloseTo(s.x, 6);
      expect(at.y(p.latitude)).toBeCloseTo(s.y, 6);
    }
  });

  it('draws the view centre in the middle of the canvas, north up and east right', () => {
    expect(toScreen(view, view.center)).toEqual({ x: 400, y: 300 });
    const ne = toScreen(view, { latitude: 9.1, longitude: 107.1 });
    expect(ne.x).toBeGreaterThan(400);
    expect(ne.y).toBeLessThan(300);
    const back = fromScreen(view, ne);
    expect(back.latitude).toBeCloseTo(9.1, 9);
    expect(back.longitude).toBeCloseTo(107.1, 9);
  });

  it('fits the geofence inside the canvas with its padding', () => {
    const fitted = fitBounds({ minLatitude: 8, maxLatitude: 10, minLongitude: 106, maxLongitude: 108 }, 800, 600, 40);
    const nw = toScreen(fitted, { latitude: 10, longitude: 106 });
    const se = toScreen(fitted, { latitude: 8, longitude: 108 });
    expect(nw.y).toBeCloseTo(40, 6); // the taller side fills the height less padding
    expect(se.y).toBeCloseTo(560, 6);
    expect(nw.x).toBeGreaterThanOrEqual(40);
    expect(se.x).toBeLessThanOrEqual(760);
  });

  it('keeps the position under the cursor in place when zooming', () => {
    const anchor = { x: 120, y: 450 };
    const before = fromScreen(view, anchor);
    const after = zoomAt(view, 1.5, anchor);
    const there = toScreen(after, before);
    expect(there.x).toBeCloseTo(anchor.x, 6);
    expect(there.y).toBeCloseTo(anchor.y, 6);
    expect(after.zoom).toBe(9.5);
  });
});

describe('rings, graticule and tiles', () => {
  it('places a ring point at the GEO_DISTANCE radius (haversine on 6371 km)', () => {
    const origin = { latitude: 9, longitude: 107 };
    const east = destination(origin, 90, 50);
    const toRad = Math.PI / 180;
    const dLat = (east.latitude - 9) * toRad;
    const dLon = (east.longitude - 107) * toRad;
    const a = Math.sin(dLat / 2) ** 2 + Math.cos(9 * toRad) * Math.cos(east.latitude * toRad) * Math.sin(dLon / 2) ** 2;
    expect(2 * 6371 * Math.asin(Math.sqrt(a))).toBeCloseTo(50, 9);
    expect(destination(origin, 0, 111.195).latitude).toBeCloseTo(10, 3);
  });

  it('chooses graticule lines and rings that stay readable as the zoom changes', () => {
    expect(graticuleStep({ ...view, zoom: 8 })).toBe(0.5);
    expect(graticuleStep({ ...view, zoom: 14 })).toBe(0.01);
    const wide = ringSteps({ ...view, zoom: 8 });
    const close = ringSteps({ ...view, zoom: 14 });
    expect(wide).toHaveLength(4);
    expect(close[0]).toBeLessThan(wide[0] as number);
  });

  it('covers the canvas with tiles of the integer zoom below the view', () => {
    const tiles = visibleTiles({ ...view, zoom: 8.5 });
    expect(new Set(tiles.map((t) => t.z))).toEqual(new Set([8]));
    const size = (tiles[0]?.size ?? 0) as number;
    expect(size).toBeCloseTo(256 * Math.SQRT2, 6);
    expect(Math.min(...tiles.map((t) => t.left))).toBeLessThanOrEqual(0);
    expect(Math.max(...tiles.map((t) => t.left + t.size))).toBeGreaterThanOrEqual(800);
    expect(Math.min(...tiles.map((t) => t.top))).toBeLessThanOrEqual(0);
    expect(Math.max(...tiles.map((t) => t.top + t.size))).toBeGreaterThanOrEqual(600);
  });
});
