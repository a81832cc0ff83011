/**
 * History: a device and a time range → its track from `GET /devices/{device_id}/track?from&to`, drawn on the map
 * with a slider (and a play button) that moves a head along the windows in time order.
 */
import { byId, dateTime, el, getJson, HttpError } from './dom.js';
import { parseTrack, type Track, type TrackPoint, trackQuery } from './track.js';

export interface HistoryCallbacks {
  /** The track to draw (undefined to clear) and the point at the replay head. */
  onTrack: (track: Track | undefined, head: TrackPoint | undefined) => void;
}

const PLAY_STEP_MS = 120;

export function createHistoryView({ onTrack }: HistoryCallbacks) {
  const form = byId<HTMLFormElement>('history-form');
  const device = byId<HTMLInputElement>('history-device');
  const from = byId<HTMLInputElement>('history-from');
  const to = byId<HTMLInputElement>('history-to');
  const status = byId('history-status');
  const replay = byId('history-replay');
  const slider = byId<HTMLInputElement>('history-slider');
  const play = byId<HTMLButtonElement>('history-play');
  const pointList = byId('history-point');
  let track: Track | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const say = (text: string, error = false) => {
    status.textContent = text;
    status.dataset['error'] = String(error);
  };
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
    play.textContent = '▶';
    play.setAttribute('aria-label', 'Play');
  };
  const show = (index: number) => {
    const point = track?.points[index];
    slider.value = String(index);
    slider.setAttribute('aria-valuetext', point ? dateTime(point.window_start) : '');
    const rows: [string, string][] = point
      ? [
          ['Window', `${dateTime(point.window_start)} (+2 s)`],
          ['Position', `${point.latitude.toFixed(5)}, ${point.longitude.toFixed(5)}`],
          ['Distance', `${point.distance.toFixed(2)} km`],
          ['avg_temp', point.avg_temp.toFixed(2)],
          ['avg_sound', point.avg_sound.toFixed(2)],
          ['avg_alt', point.avg_alt.toFixed(1)],
          ['event_count', String(point.event_count)],
        ]
      : [];
    pointList.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
    onTrack(track, point);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    stop();
    const id = device.value.trim();
    say(`Loading the track of ${id}…`);
    getJson<unknown>(`/devices/${encodeURIComponent(id)}/track${trackQuery(from.value, to.value)}`)
      .then((body) => {
        track = parseTrack(body, id);
        const n = track.points.length;
        replay.hidden = n === 0;
        replay.dataset['points'] = String(n);
        slider.max = String(Math.max(0, n - 1));
        const first = track.points[0];
        const last = track.points[n - 1];
        say(
          n === 0
            ? `No windows of ${id} in this range.`
            : `${n} windows of ${id}, ${dateTime((first as TrackPoint).window_start)} – ${dateTime((last as TrackPoint).window_end)}${track.thinned ? ` (thinned from ${track.windows} to the limit of ${track.limit})` : ''}.`,
        );
        show(Math.max(0, n - 1));
      })
      .catch((err: unknown) => {
        track = undefined;
        replay.hidden = true;
        onTrack(undefined, undefined);
        say(
          err instanceof HttpError && err.status === 404 && /no route/i.test(err.message)
            ? 'Track history is not available on this server.'
            : `Could not load the track: ${err instanceof Error ? err.message : String(err)}`,
          true,
        );
      });
  });
  slider.addEventListener('input', () => {
    stop();
    show(Number(slider.value));
  });
  play.addEventListener('click', () => {
    if (timer) return stop();
    if (!track || track.points.length === 0) return;
    if (Number(slider.value) >= track.points.length - 1) show(0);
    play.textContent = '❚❚';
    play.setAttribute('aria-label', 'Pause');
    timer = setInterval(() => {
      const next = Number(slider.value) + 1;
      if (!track || next >= track.points.length) return stop();
      show(next);
    }, PLAY_STEP_MS);
  });
  byId('history-clear').addEventListener('click', () => {
    stop();
    track = undefined;
    replay.hidden = true;
    say('');
    onTrack(undefined, undefined);
  });

  return {
    /** Suggests device ids in the device field. */
    setDevices(ids: string[]) {
      const list = byId('history-devices');
      if (list.childElementCount === ids.length) return;
      list.replaceChildren(...ids.map((id) => el('option', { attrs: { value: id } })));
    },
    preselect(id: string) {
      if (!device.value) device.value = id;
    },
  };
}
