/**
 * The selected device's panel: its latest readings against the normal ranges (words and arrows as well as
 * colour), its active alerts, and sparklines of its 2-second window averages over the last minutes.
 */
import { type ActiveAlerts, alertsOf, alertText, type RangeStatus, rangeStatus } from './alerts-model.js';
import { byId, el, time } from './dom.js';
import { drawSparkline } from './sparkline.js';
import type { AlertRules, DeviceLatest, Metric, WindowAggregate } from './types.js';

export const CHART_SPAN_MS = 5 * 60_000;

const READINGS: { field: Metric; label: string; unit: string; digits: number }[] = [
  { field: 'temperature', label: 'Temperature', unit: '°C', digits: 2 },
  { field: 'sound', label: 'Sound', unit: 'dB', digits: 2 },
  { field: 'altitude', label: 'Altitude', unit: 'm', digits: 1 },
];

const CHARTS: { field: keyof WindowAggregate; label: string; metric?: Metric; digits: number }[] = [
  { field: 'avg_temp', label: 'avg_temp (°C)', metric: 'temperature', digits: 2 },
  { field: 'avg_sound', label: 'avg_sound (dB)', metric: 'sound', digits: 2 },
  { field: 'avg_alt', label: 'avg_alt (m)', metric: 'altitude', digits: 1 },
  { field: 'event_count', label: 'event_count', digits: 0 },
];

const STATE_TEXT: Record<RangeStatus, string> = { low: '▼ low', high: '▲ high', normal: '✓ normal', unknown: '–' };

export function createDevicePanel() {
  const panel = byId('device-panel');
  const title = byId('device-title');
  const meta = byId('device-meta');
  const readings = byId('readings');
  const alertList = byId('device-alerts');
  const charts = byId('charts');
  const canvases = new Map<string, { canvas: HTMLCanvasElement; value: HTMLElement }>();
  for (const chart of CHARTS) {
    const canvas = el('canvas', { attrs: { 'aria-hidden': 'true' } });
    const value = el('span', { className: 'value', attrs: { 'data-chart-value': chart.field } });
    charts.append(
      el('div', { className: 'chart', attrs: { 'data-chart': chart.field } }, [
        el('span', { className: 'name', text: chart.label }),
        value,
        canvas,
      ]),
    );
    canvases.set(chart.field, { canvas, value });
  }

  return {
    render(device: DeviceLatest | undefined, rules: AlertRules | undefined, alerts: ActiveAlerts) {
      panel.hidden = device === undefined;
      if (!device) return;
      panel.dataset['device'] = device.device_id;
      title.textContent = device.device_id;
      meta.textContent = `${device.latitude.toFixed(5)}, ${device.longitude.toFixed(5)} · ${device.distance.toFixed(2)} km from 9.0, 107.0 · at ${time(device.event_ts)}`;
      meta.dataset['latitude'] = String(device.latitude);
      meta.dataset['longitude'] = String(device.longitude);
      meta.dataset['distance'] = String(device.distance);
      meta.dataset['eventTs'] = String(device.event_ts);
      readings.replaceChildren(
        ...READINGS.map(({ field, label, unit, digits }) => {
          const value = device[field];
          const range = rules?.ranges[field];
          const state = rangeStatus(value, range);
          return el('tr', { attrs: { 'data-reading': field } }, [
            el('th', { text: label, attrs: { scope: 'row' } }),
            el('td', {
              text: value === null ? 'no reading' : `${value.toFixed(digits)} ${unit}`,
              attrs: { 'data-value': value === null ? '' : String(value) },
            }),
            el('td', { text: range ? `${range.min}–${range.max}` : '…' }),
            el('td', { className: 'state', text: STATE_TEXT[state], attrs: { 'data-state': state } }),
          ]);
        }),
      );
      alertList.replaceChildren(
        ...alertsOf(alerts, device.device_id).map((a) =>
          el('li', {
            text: `${a.severity === 'critical' ? '!! critical' : '! warning'} · ${alertText(a)} · since ${time(a.opened_at)}`,
            attrs: { 'data-severity': a.severity },
          }),
        ),
      );
    },

    renderCharts(windows: WindowAggregate[], rules: AlertRules | undefined, now: number) {
      const style = { line: '#0072B2', band: 'rgba(0, 158, 115, 0.14)', text: '#5b6876', out: '#D55E00' };
      for (const chart of CHARTS) {
        const slot = canvases.get(chart.field);
        if (!slot) continue;
        const points = windows.map((w) => [w.window_start, Number(w[chart.field])] as [number, number]);
        const newest = points[points.length - 1];
        slot.value.textContent = newest ? newest[1].toFixed(chart.digits) : '';
        // The span grows with the data from one minute up to CHART_SPAN_MS, so a fresh run fills the chart.
        const oldest = points[0]?.[0] ?? now;
        const spanMs = Math.min(CHART_SPAN_MS, Math.max(60_000, now - oldest + 4000));
        drawSparkline(
          slot.canvas,
          { points, range: chart.metric ? rules?.ranges[chart.metric] : undefined, spanMs, now },
          style,
        );
      }
    },
  };
}
