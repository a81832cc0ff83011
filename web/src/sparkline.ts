/**
 * A small hand-drawn canvas chart of one series (the 2-second window averages): the normal range as a band, the
 * line, the newest value as text. Drawn with the canvas API only, so the page bundles no chart library.
 */
import type { Range } from './types.js';

export interface Series {
  /** [time, value] in time order. */
  points: [number, number][];
  range?: Range | undefined;
  /** The time span shown, ending at the newest point (or `now`). */
  spanMs: number;
  now: number;
}

export interface SparklineStyle {
  line: string;
  band: string;
  text: string;
  out: string;
}

/** Vertical extent: the data and the normal range, with a little room. */
export function extent(values: number[], range?: Range): [number, number] {
  let lo = Math.min(...values, range?.min ?? Number.POSITIVE_INFINITY);
  let hi = Math.max(...values, range?.max ?? Number.NEGATIVE_INFINITY);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

export function drawSparkline(canvas: HTMLCanvasElement, series: Series, style: SparklineStyle) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const start = series.now - series.spanMs;
  const points = series.points.filter(([t]) => t >= start);
  canvas.dataset['points'] = String(width > 0 ? points.length : 0);
  const [lo, hi] = extent(
    points.map(([, v]) => v),
    series.range,
  );
  const x = (t: number) => ((t - start) / series.spanMs) * (width - 2) + 1;
  const y = (v: number) => height - 2 - ((v - lo) / (hi - lo)) * (height - 4);
  if (series.range) {
    ctx.fillStyle = style.band;
    const top = y(series.range.max);
    ctx.fillRect(0, top, width, y(series.range.min) - top);
  }
  if (points.length === 0) {
    ctx.fillStyle = style.text;
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillText('waiting for windows…', 6, height / 2 + 4);
    return;
  }
  ctx.strokeStyle = style.line;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  for (const [i, [t, v]] of points.entries()) {
    if (i === 0) ctx.moveTo(x(t), y(v));
    else ctx.lineTo(x(t), y(v));
  }
  ctx.stroke();
  // Windows outside the normal range get a hollow square: shape, not only colour.
  if (series.range) {
    ctx.strokeStyle = style.out;
    for (const [t, v] of points) {
      if (v < series.range.min || v > series.range.max) ctx.strokeRect(x(t) - 2.5, y(v) - 2.5, 5, 5);
    }
  }
}
