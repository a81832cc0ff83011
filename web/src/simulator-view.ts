/** Simulator control: `POST /simulate` with the form's device count, rates and seed, `DELETE` to stop it. */
import { byId, getJson } from './dom.js';
import type { WebConfig } from './types.js';

interface SimulationStatus {
  state: string;
  config?: {
    devices: string[];
    location_interval_ms: number;
    status_interval_ms: number;
    seed: number | string;
  } | null;
  topics?: { location: { sent: number }; status: { sent: number } } | null;
}

export function createSimulatorView(config: WebConfig) {
  const form = byId<HTMLFormElement>('simulator-form');
  const key = byId<HTMLInputElement>('sim-key');
  const line = byId('sim-status-line');
  byId('sim-key-hint').textContent = config.api_key_required
    ? 'This server requires an API key (API_KEY) for simulator control.'
    : 'This server needs no API key.';
  const headers = (): Record<string, string> => ({
    'content-type': 'application/json',
    ...(key.value ? { 'x-api-key': key.value } : {}),
  });
  const say = (text: string, error = false) => {
    line.textContent = text;
    line.dataset['error'] = String(error);
  };
  const report = (s: SimulationStatus) => {
    line.dataset['state'] = s.state;
    const c = s.config;
    const sent = s.topics ? ` · ${s.topics.location.sent + s.topics.status.sent} events sent` : '';
    say(
      c
        ? `${s.state}: ${c.devices.length} devices, location every ${c.location_interval_ms} ms, status every ${c.status_interval_ms} ms, seed ${c.seed}${sent}`
        : s.state,
    );
  };
  const run = (request: Promise<SimulationStatus>) =>
    request.then(report).catch((err: unknown) => say(err instanceof Error ? err.message : String(err), true));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const seed = byId<HTMLInputElement>('sim-seed').value.trim();
    const body: Record<string, unknown> = {
      device_count: Number(byId<HTMLInputElement>('sim-devices').value),
      location_interval_ms: Number(byId<HTMLInputElement>('sim-location').value),
      status_interval_ms: Number(byId<HTMLInputElement>('sim-status').value),
    };
    if (seed) body['seed'] = /^\d+$/.test(seed) ? Number(seed) : seed;
    void run(getJson('/simulate', { method: 'POST', headers: headers(), body: JSON.stringify(body) }));
  });
  byId('sim-stop').addEventListener('click', () => {
    void run(getJson('/simulate', { method: 'DELETE', headers: headers() }));
  });
  return {
    refresh: () => run(getJson('/simulate', { headers: headers() })),
  };
}
