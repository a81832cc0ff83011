/**
 * The live operations map (docs/web.md): the page at `/`, on the app's own API only. Live positions from
 * `/stream/latest/events`, the selected device's 2-second windows from `/stream/raw/events`, alerts from
 * `/alerts/events`, ranges and geofence from `/alerts/rules`, history from `/devices/{id}/track`, simulator
 * control on `/simulate`. State lives here; drawing is in `map-view.ts` and the panels' modules.
 */
import './styles.css';
import {
  type ActiveAlerts,
  alertsByDevice,
  alertText,
  applyChange,
  applySnapshot,
  type Severity,
  severityOf,
  sortedAlerts,
} from './alerts-model.js';
import { type ConnectionState, describeState, worstStatus } from './connection.js';
import { CHART_SPAN_MS, createDevicePanel } from './device-panel.js';
import { byId, el, getJson, setData, setText, time } from './dom.js';
import { createHistoryView } from './history-view.js';
import { type LiveStream, openLiveStream } from './live-stream.js';
import { MapView } from './map-view.js';
import type { Bounds } from './projection.js';
import { createSimulatorView } from './simulator-view.js';
import type { Track, TrackPoint } from './track.js';
import { appendTrail, type TrailPoint } from './trail.js';
import type { Alert, AlertRules, DeviceLatest, WebConfig, WindowAggregate } from './types.js';

/** A stream with no event for this long shows "stale for N s" (the simulators send every 0.5–2 s). */
const STALE_AFTER_MS = 10_000;
const GEOFENCE: Bounds = { minLatitude: 8, maxLatitude: 10, minLongitude: 106, maxLongitude: 108 };
const REFERENCE = { latitude: 9.0, longitude: 107.0 };
const GLYPH: Record<Severity, string> = { ok: '●', warning: '▲', critical: '▲' };

const devices = new Map<string, DeviceLatest>();
const trails = new Map<string, TrailPoint[]>();
let alerts: ActiveAlerts = new Map();
let rules: AlertRules | undefined;
let selected: string | undefined;
let windows = new Map<string, WindowAggregate>();
let windowStream: LiveStream | undefined;
let history: { track: Track; head: TrackPoint | undefined } | undefined;
const streamStates = new Map<string, ConnectionState>();

const canvas = byId<HTMLCanvasElement>('map');
const map = new MapView(canvas, { onSelect: (id) => select(id), tileUrl: null }, GEOFENCE);
const panel = createDevicePanel();
const historyView = createHistoryView({
  onTrack(track, head) {
    const fresh = track !== undefined && track !== history?.track;
    history = track ? { track, head } : undefined;
    if (fresh && track) map.fit(trackBounds(track));
    invalidate();
  },
});

// ---- rendering: at most once per animation frame, lists at most 4 times a second ----
let listsDirty = true;
let listsTimer: ReturnType<typeof setTimeout> | undefined;
let lastLists = 0;
let frame = 0;
let waiting: ReturnType<typeof setTimeout> | undefined;
let lastRender = 0;
let lastFollow = 0;
/** The track whose line `data-track` holds. */
let shownTrack: Track | undefined;
/**
 * Live data redraws the map at most every 0.1 ms per device (10 times a second at 1,000 devices, every frame at
 * a few): each device moves every 2 s, and at 1,000 devices drawing every frame kept the main thread busy and
 * the updates queued for seconds (bench:web). Panning and zooming redraw on the next frame regardless.
 */
const renderIntervalMs = () => Math.min(200, devices.size * 0.1);
function invalidate(lists = true) {
  listsDirty ||= lists;
  if (frame || waiting) return;
  const wait = lastRender + renderIntervalMs() - performance.now();
  if (wait <= 0) {
    frame = requestAnimationFrame(render);
    return;
  }
  waiting = setTimeout(() => {
    waiting = undefined;
    frame = requestAnimationFrame(render);
  }, wait);
}

function render() {
  frame = 0;
  lastRender = performance.now();
  const now = Date.now();
  if (devices.size > 0 && now - lastFollow > 2000) {
    lastFollow = now;
    map.follow(devicesBounds());
  }
  const byDevice = alertsByDevice(alerts);
  map.setScene({
    devices: [...devices.values()].map((d) => {
      const own = byDevice.get(d.device_id);
      return {
        id: d.device_id,
        latitude: d.latitude,
        longitude: d.longitude,
        severity: severityOf(own),
        alert: own === undefined ? undefined : markerAlert(own),
      };
    }),
    trails,
    selected,
    geofence: rules
      ? {
          minLatitude: rules.geofence.min_latitude,
          maxLatitude: rules.geofence.max_latitude,
          minLongitude: rules.geofence.min_longitude,
          maxLongitude: rules.geofence.max_longitude,
        }
      : GEOFENCE,
    reference: REFERENCE,
    track: history ? { line: trackLine(history.track), head: history.head } : undefined,
    now,
  });
  // What the canvas shows, readable without pixels (browser tests, assistive checks).
  // Written only when they change: an attribute write costs a style recalculation even when unchanged.
  setData(canvas, 'markers', String(devices.size));
  setData(canvas, 'center', `${map.view.center.latitude},${map.view.center.longitude}`);
  if (history) {
    if (shownTrack !== history.track) canvas.dataset['track'] = JSON.stringify(trackLine(history.track));
    shownTrack = history.track;
  } else {
    delete canvas.dataset['track'];
    shownTrack = undefined;
  }
  if (history?.head) setData(canvas, 'head', `${history.head.latitude},${history.head.longitude}`);
  else delete canvas.dataset['head'];
  if (listsDirty && now - lastLists < 250) {
    // The lists' turn comes later; the map has just been drawn.
    if (listsTimer === undefined) {
      listsTimer = setTimeout(
        () => {
          listsTimer = undefined;
          invalidate();
        },
        250 - (now - lastLists),
      );
    }
    return;
  }
  if (listsDirty) {
    listsDirty = false;
    lastLists = now;
    renderDeviceList(byDevice);
    renderAlertList();
    panel.render(selected === undefined ? undefined : devices.get(selected), rules, alerts);
    // The panel may have just become visible: its canvases have a size only now.
    if (selected !== undefined) drawCharts();
  }
}

function trackBounds(track: Track): Bounds {
  const line = trackLine(track);
  const lats = line.map(([, lat]) => lat);
  const lons = line.map(([lon]) => lon);
  const grow = (lo: number, hi: number): [number, number] => {
    const g = Math.max(0, 0.005 - (hi - lo)) / 2;
    return [lo - g, hi + g];
  };
  const [minLatitude, maxLatitude] = grow(Math.min(...lats), Math.max(...lats));
  const [minLongitude, maxLongitude] = grow(Math.min(...lons), Math.max(...lons));
  return { minLatitude, maxLatitude, minLongitude, maxLongitude };
}

function trackLine(track: Track): [number, number][] {
  return track.line.length > 0 ? track.line : track.points.map((p) => [p.longitude, p.latitude]);
}

/** At most two alerts named beside a marker, then "+n". */
function markerAlert(own: Alert[]): string {
  const names = own.map(shortAlert);
  return names.length <= 2 ? names.join(', ') : `${names.slice(0, 2).join(', ')} +${names.length - 2}`;
}

/** Every device, padded to at least 0.02° (about 2 km) so a tight group is not zoomed in to the street. */
function devicesBounds(): Bounds {
  if (devices.size === 0) return GEOFENCE;
  let minLatitude = 90;
  let maxLatitude = -90;
  let minLongitude = 180;
  let maxLongitude = -180;
  for (const d of devices.values()) {
    minLatitude = Math.min(minLatitude, d.latitude);
    maxLatitude = Math.max(maxLatitude, d.latitude);
    minLongitude = Math.min(minLongitude, d.longitude);
    maxLongitude = Math.max(maxLongitude, d.longitude);
  }
  const pad = (lo: number, hi: number): [number, number] => {
    const grow = Math.max(0, 0.02 - (hi - lo)) / 2;
    return [lo - grow, hi + grow];
  };
  [minLatitude, maxLatitude] = pad(minLatitude, maxLatitude);
  [minLongitude, maxLongitude] = pad(minLongitude, maxLongitude);
  return { minLatitude, maxLatitude, minLongitude, maxLongitude };
}
map.setFitAll(devicesBounds);

function shortAlert(a: Alert): string {
  if (a.type === 'inactive') return 'inactive';
  if (a.type === 'outside_geofence') return 'outside';
  return `${a.metric} ${a.worst_value !== null && a.normal_max !== null && a.worst_value > a.normal_max ? 'high' : 'low'}`;
}

// ---- device list ----
const list = byId('device-list');
const filter = byId<HTMLInputElement>('device-filter');
const rows = new Map<string, Row>();
const byName = new Intl.Collator(undefined, { numeric: true }).compare;
filter.addEventListener('input', () => invalidate());
/** Devices are only ever added: sort again only when one was. */
let sortedIds: string[] = [];

/**
 * Rows whose text is kept up to date: those in (or near) the list's scrolled view. At 1,000 devices a row's time
 * changes every 2 s; rewriting the text of rows nobody can see cost style and layout work several times a
 * second (bench:web). A row is brought up to date when it scrolls into view; its data attributes (position,
 * time, severity) are kept current for every row.
 */
const shownRows = new Set<string>();
const rowObserver = new IntersectionObserver(
  (entries) => {
    let byDevice: Map<string, Alert[]> | undefined;
    for (const entry of entries) {
      const id = (entry.target as HTMLElement).dataset['device'] as string;
      if (!entry.isIntersecting) {
        shownRows.delete(id);
        continue;
      }
      shownRows.add(id);
      byDevice ??= alertsByDevice(alerts);
      const row = rows.get(id);
      const d = devices.get(id);
      if (row && d) updateRowText(row, id, d, byDevice.get(id) ?? []);
    }
  },
  { root: list, rootMargin: '120px 0px' },
);

type Row = { li: HTMLLIElement; glyph: HTMLElement; sub: HTMLElement; button: HTMLButtonElement };

function updateRowText(row: Row, id: string, d: DeviceLatest, own: Alert[]) {
  const severity = severityOf(own);
  setText(row.glyph, GLYPH[severity]);
  if (row.glyph.className !== `glyph ${severity}`) row.glyph.className = `glyph ${severity}`;
  setText(row.sub, own.length > 0 ? `${severityWord(severity)}: ${own.map(shortAlert).join(', ')}` : time(d.event_ts));
  const subClass = own.length > 0 ? 'alerting' : 'sub';
  if (row.sub.className !== subClass) row.sub.className = subClass;
  const pressed = String(id === selected);
  if (row.button.getAttribute('aria-pressed') !== pressed) row.button.setAttribute('aria-pressed', pressed);
}

/** Updates the rows in place, writing only what changed, the text only of rows in view (1,000 rows, 4 times a second). */
let shownFilter = '';
let shownSelected: string | undefined;
function renderDeviceList(byDevice: Map<string, Alert[]>) {
  if (sortedIds.length !== devices.size) sortedIds = [...devices.keys()].sort(byName);
  const ids = sortedIds;
  setText(byId('device-count'), String(ids.length));
  byId('no-devices').hidden = ids.length > 0;
  const wanted = filter.value.trim().toLowerCase();
  const refilter = wanted !== shownFilter;
  shownFilter = wanted;
  ids.forEach((id, index) => {
    let row = rows.get(id);
    const d = devices.get(id) as DeviceLatest;
    if (!row) {
      const glyph = el('span', { className: 'glyph', attrs: { 'aria-hidden': 'true' } });
      const sub = el('span', { className: 'sub' });
      const button = el('button', { attrs: { type: 'button', 'aria-pressed': 'false' } }, [
        glyph,
        el('span', { text: id }),
        sub,
      ]);
      button.addEventListener('click', () => select(id, true));
      const li = el('li', { attrs: { 'data-device': id } }, [button]);
      row = { li, glyph, sub, button };
      rows.set(id, row);
      const next = ids[index + 1];
      const before = next === undefined ? undefined : rows.get(next)?.li;
      list.insertBefore(li, before && before.parentElement === list ? before : null);
      li.hidden = wanted !== '' && !id.toLowerCase().includes(wanted);
      updateRowText(row, id, d, byDevice.get(id) ?? []);
      rowObserver.observe(li);
    }
    const own = byDevice.get(id) ?? [];
    if (shownRows.has(id) || id === selected || id === shownSelected) updateRowText(row, id, d, own);
    setData(row.li, 'latitude', String(d.latitude));
    setData(row.li, 'longitude', String(d.longitude));
    setData(row.li, 'eventTs', String(d.event_ts));
    setData(row.li, 'severity', severityOf(own));
    if (refilter) {
      const hidden = wanted !== '' && !id.toLowerCase().includes(wanted);
      if (row.li.hidden !== hidden) row.li.hidden = hidden;
    }
  });
  shownSelected = selected;
  historyView.setDevices(ids);
}

const severityWord = (s: Severity) => (s === 'critical' ? '!! critical' : s === 'warning' ? '! alert' : '');

// ---- alert list ----
const alertList = byId('alert-list');
/** One list item per active alert, rebuilt only when its revision changes. */
const alertItems = new Map<string, { revision: number; li: HTMLLIElement }>();
function renderAlertList() {
  const sorted = sortedAlerts(alerts);
  const count = byId('alert-count');
  setText(count, String(sorted.length));
  setData(count, 'some', String(sorted.length > 0));
  byId('no-alerts').hidden = sorted.length > 0;
  // A hidden tab's list is brought up to date when it is shown (showTab): at 1,000 devices alerts change hundreds
  // of times a second, work nobody sees while the map or another tab is in front.
  if (byId('panel-alerts').hidden) return;
  for (const [id, item] of alertItems) {
    if (alerts.has(id)) continue;
    item.li.remove();
    alertItems.delete(id);
  }
  // Keyed, in order: at 1,000 devices alerts change many times a second, and rebuilding the whole list each
  // time kept the main thread busy (bench:web). Items that keep their place are not touched.
  let cursor = alertList.firstElementChild;
  for (const a of sorted) {
    let item = alertItems.get(a.alert_id);
    if (!item || item.revision !== a.revision) {
      const li = alertItem(a);
      if (item) {
        if (cursor === item.li) cursor = li;
        item.li.replaceWith(li);
      }
      item = { revision: a.revision, li };
      alertItems.set(a.alert_id, item);
    }
    if (item.li === cursor) cursor = cursor.nextElementSibling;
    else alertList.insertBefore(item.li, cursor);
  }
}

function alertItem(a: Alert): HTMLLIElement {
  const button = el('button', { attrs: { type: 'button' } }, [
    el('span', {
      className: `glyph ${a.severity}`,
      text: a.severity === 'critical' ? '▲!!' : '▲!',
      attrs: { 'aria-hidden': 'true' },
    }),
    el('span', {}, [
      el('span', { className: 'what', text: `${a.device_id} · ${alertText(a)}` }),
      el('br'),
      el('span', {
        className: 'sub',
        text: `${a.severity} · ${a.type.replace('_', ' ')} · since ${time(a.opened_at)} · ${a.readings} readings`,
      }),
    ]),
  ]);
  button.addEventListener('click', () => select(a.device_id, true, a));
  return el('li', { attrs: { 'data-alert-id': a.alert_id, 'data-severity': a.severity, 'data-device': a.device_id } }, [
    button,
  ]);
}

// ---- selection and the selected device's windows ----
function select(id: string, centre = false, alert?: Alert) {
  const device = devices.get(id);
  if (centre) {
    const at =
      device ??
      (alert && alert.latitude !== null && alert.longitude !== null
        ? { latitude: alert.latitude, longitude: alert.longitude }
        : undefined);
    if (at) map.centreOn(at, 9);
  }
  historyView.preselect(id);
  if (selected === id) return invalidate();
  selected = id;
  windows = new Map();
  windowStream?.close();
  const addWindow = (w: WindowAggregate) => {
    if (w.device_id !== selected) return;
    windows.set(w.id, w);
  };
  // The last minutes at once from the stream layer, then live revisions.
  getJson<WindowAggregate[]>(`/stream/raw?device_id=${encodeURIComponent(id)}&limit=150`)
    .then((rows) => {
      for (const w of rows) addWindow(w);
      drawCharts();
    })
    .catch(() => undefined);
  windowStream = openLiveStream({
    url: `/stream/raw/events?device_id=${encodeURIComponent(id)}`,
    handlers: {
      snapshot: (data) => {
        for (const w of data as WindowAggregate[]) addWindow(w);
        drawCharts();
      },
      window: (data) => {
        addWindow(data as WindowAggregate);
        drawCharts();
      },
    },
    onState: (state) => streamState('windows', state),
  });
  invalidate();
}

let chartsFrame = 0;
function drawCharts() {
  if (chartsFrame) return;
  chartsFrame = requestAnimationFrame(() => {
    chartsFrame = 0;
    const now = Date.now();
    // Bounded memory: only what the charts show.
    for (const [key, w] of windows) if (w.window_start < now - CHART_SPAN_MS - 10_000) windows.delete(key);
    const sorted = [...windows.values()].sort((a, b) => a.window_start - b.window_start);
    panel.renderCharts(sorted, rules, now);
  });
}

// ---- connection state ----
/** What each stream showed last: every message reports a state, but the page is redrawn only when it reads differently. */
const shownStates = new Map<string, string>();
function streamState(name: string, state: ConnectionState) {
  streamStates.set(name, state);
  const shown = describeState(state, Date.now(), STALE_AFTER_MS).label;
  if (shownStates.get(name) === shown) return;
  shownStates.set(name, shown);
  showConnection();
}

function showConnection() {
  const now = Date.now();
  const statuses = [...streamStates.entries()].map(([name, state]) => {
    const status = describeState(state, now, STALE_AFTER_MS);
    const chip = document.querySelector<HTMLElement>(`.stream[data-stream="${name}"]`);
    if (chip) {
      setData(chip, 'state', status.shown);
      const title = `${chip.title.split(' · ')[0]} · ${status.label}`;
      if (chip.title !== title) chip.title = title;
    }
    return { name, status };
  });
  // The badge follows the positions stream (what the map shows); the chips show each stream.
  const positions = statuses.find((s) => s.name === 'latest')?.status;
  const shown = positions ?? worstStatus(statuses.map((s) => s.status));
  const badge = byId('connection');
  setData(badge, 'state', shown.shown);
  setText(byId('connection-label'), shown.label);
}
setInterval(showConnection, 1000);

// ---- live positions and alerts ----
function applyLatest(d: DeviceLatest) {
  const known = devices.get(d.device_id);
  if (known && known.event_ts > d.event_ts) return;
  devices.set(d.device_id, d);
  let trail = trails.get(d.device_id);
  if (!trail) {
    trail = [];
    trails.set(d.device_id, trail);
  }
  appendTrail(trail, { latitude: d.latitude, longitude: d.longitude, at: d.event_ts });
}

openLiveStream({
  url: '/stream/latest/events',
  handlers: {
    snapshot: (data) => {
      for (const d of data as DeviceLatest[]) applyLatest(d);
      invalidate();
    },
    latest: (data) => {
      applyLatest(data as DeviceLatest);
      invalidate();
    },
  },
  onState: (state) => streamState('latest', state),
});

openLiveStream({
  url: '/alerts/events',
  handlers: {
    snapshot: (data) => {
      alerts = applySnapshot(data as Alert[]);
      invalidate();
    },
    alert: (data) => {
      if (applyChange(alerts, data as Alert)) invalidate();
    },
  },
  onState: (state) => streamState('alerts', state),
});

// Trails fade with time even when nothing moves.
setInterval(() => invalidate(false), 1000);

// ---- tabs (arrow keys move between them, as the ARIA tabs pattern has it) ----
const tabs = [...document.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
function showTab(tab: HTMLButtonElement) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    byId(t.getAttribute('aria-controls') as string).hidden = !on;
  }
  if (tab.getAttribute('aria-controls') === 'panel-alerts') renderAlertList();
}
tabs.forEach((tab, i) => {
  tab.addEventListener('click', () => showTab(tab));
  tab.addEventListener('keydown', (e) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const next = tabs[(i + step + tabs.length) % tabs.length] as HTMLButtonElement;
    next.focus();
    showTab(next);
  });
});

// ---- map buttons ----
byId('zoom-in').addEventListener('click', () => canvas.dispatchEvent(new KeyboardEvent('keydown', { key: '+' })));
byId('zoom-out').addEventListener('click', () => canvas.dispatchEvent(new KeyboardEvent('keydown', { key: '-' })));
byId('zoom-fit').addEventListener('click', () => canvas.dispatchEvent(new KeyboardEvent('keydown', { key: '0' })));

// ---- settings: rules (ranges, geofence) and the page's config ----
getJson<AlertRules>('/alerts/rules')
  .then((r) => {
    rules = r;
    invalidate();
    drawCharts();
  })
  .catch(() => undefined);
getJson<WebConfig>('/web/config.json')
  .then((config) => {
    if (config.tile_url) map.setTiles(config.tile_url);
    const attribution = byId('attribution');
    attribution.hidden = !config.tile_attribution;
    attribution.textContent = config.tile_attribution ?? '';
    const simulator = createSimulatorView(config);
    if (!config.api_key_required) void simulator.refresh();
  })
  .catch(() => undefined);
invalidate();
