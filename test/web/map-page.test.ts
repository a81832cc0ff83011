/**
 * The operations map in a real browser (headless Chromium, playwright-core) against the app as a user runs it: a
 * real process on a private broker and its own database. One app process serves every check, in the order a user
 * would go: the page loads (no console error, no request to another host, the Content-Security-Policy), the
 * simulator started from the page makes markers appear and move, a selected device shows the values of
 * `/stream/latest`, a scripted out-of-range reading (produced straight to `device_status`) shows in the alert
 * list and selecting it centres its device, the history view replays a track, and after the app is killed and
 * started again the page reconnects and moves on. Screenshots of each view go to a temporary folder (printed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { uuidv7 } from 'uuidv7';
import { describe, expect, it } from 'vitest';
import { createProducer } from '../../src/bus/producer.js';
import type { DeviceLatest as Latest } from '../../src/core/results.js';
import { TOPICS } from '../../src/core/topics.js';
import { json, waitFor, waitReady } from '../helpers/app-http.js';
import { type AppProcess, startApp } from '../helpers/app-process.js';
import { launchBrowser, recordPage } from '../helpers/browser.js';
import { createTestDatabaseUrl } from '../helpers/db.js';
import { freePort, startPrivateKafka } from '../helpers/private-kafka.js';

const DEVICES = ['dev-1', 'dev-2', 'dev-3'];

/** What the device list says about a device: its position and time (data attributes of its row). */
async function listed(page: Page, id: string) {
  const row = page.locator(`#device-list li[data-device="${id}"]`);
  if ((await row.count()) === 0) return undefined;
  return {
    latitude: Number(await row.getAttribute('data-latitude')),
    longitude: Number(await row.getAttribute('data-longitude')),
    eventTs: Number(await row.getAttribute('data-event-ts')),
  };
}

async function badge(page: Page): Promise<string> {
  return (await page.locator('#connection').getAttribute('data-state')) ?? '';
}

async function produceProbe(brokers: string[], deviceId: string, at: number) {
  const producer = createProducer({ clientId: 'web-test-probe', bootstrapBrokers: brokers, idempotent: true });
  const message = (topic: string, value: Record<string, unknown>) => ({
    topic,
    key: Buffer.from(deviceId),
    value: Buffer.from(JSON.stringify({ id: uuidv7(), device_id: deviceId, ...value })),
    timestamp: BigInt(value['event_ts'] as number),
  });
  try {
    await producer.send({
      messages: [
        message(TOPICS.DEVICE_LOCATION, { latitude: 8.6, longitude: 107.4, event_ts: at }),
        // Sound 99 against 30–50: far outside, a critical sensor_anomaly opened at this reading's time.
        message(TOPICS.DEVICE_STATUS, { sound: 99, temperature: 25, altitude: 1500, event_ts: at + 100 }),
      ],
    });
  } finally {
    await producer.close();
  }
}

describe('the operations map in a browser', () => {
  it('shows live devices, their values and alerts, replays a track, and resumes after a restart', async () => {
    execFileSync(process.execPath, ['scripts/ensure-build.mjs', '--web'], { stdio: 'inherit' });
    const shots = mkdtempSync(join(tmpdir(), 'web-screenshots-'));
    console.log(`[web] screenshots in ${shots}`);
    const kafka = await startPrivateKafka('web-kafka-');
    const port = await freePort();
    const env = {
      KAFKA_BROKERS: kafka.brokers.join(','),
      DATABASE_URL: await createTestDatabaseUrl(),
      PORT: String(port),
    };
    const origin = `http://127.0.0.1:${port}`;
    let app: AppProcess = startApp(env);
    const browser = await launchBrowser();
    try {
      await app.listening;
      await waitReady(port);
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const log = recordPage(page);

      // 1. The page: served with its policy, loads its bundle, opens its streams.
      const response = await page.goto(`${origin}/`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
      expect(response?.headers()['content-security-policy']).toContain("default-src 'self'");
      expect(response?.headers()['content-security-policy']).toContain("img-src 'self';");
      await waitFor('the badge to say live', 20_000, async () =>
        (await badge(page)) === 'stale' || (await badge(page)) === 'live' ? true : undefined,
      );

      // 2. Simulator control from the page: markers for dev-1..dev-3 appear, then move.
      await page.getByRole('tab', { name: /Simulator/ }).click();
      await page.locator('#sim-devices').fill('3');
      await page.locator('#sim-seed').fill('7');
      await page.getByRole('button', { name: 'Start' }).click();
      await waitFor('the run to be reported', 10_000, async () =>
        (await page.locator('#sim-status-line').getAttribute('data-state')) === 'running' ? true : undefined,
      );
      await page.getByRole('tab', { name: /Devices/ }).click();
      const first = await waitFor('markers for dev-1..dev-3', 60_000, async () => {
        const rows = await Promise.all(DEVICES.map((id) => listed(page, id)));
        const markers = Number(await page.locator('#map').getAttribute('data-markers'));
        return rows.every((r) => r !== undefined) && markers >= 3 ? rows : undefined;
      });
      await waitFor('every marker to move', 30_000, async () => {
        const now = await Promise.all(DEVICES.map((id) => listed(page, id)));
        return now.every(
          (r, i) =>
            r &&
            r.eventTs > (first[i]?.eventTs ?? 0) &&
            (r.latitude !== first[i]?.latitude || r.longitude !== first[i]?.longitude),
        )
          ? true
          : undefined;
      });
      expect(await badge(page)).toBe('live');
      await page.waitForTimeout(8000); // a few fixes more: trails to draw
      await page.screenshot({ path: join(shots, 'live.png') });

      // 3. Selecting a device shows what /stream/latest serves for it (compared once the run has stopped).
      await page.locator('#device-list li[data-device="dev-2"] button').click();
      await expect.poll(() => page.locator('#device-panel').getAttribute('data-device')).toBe('dev-2');
      await waitFor('charts of window averages', 20_000, async () =>
        Number(await page.locator('[data-chart="avg_temp"] canvas').getAttribute('data-points')) > 0 ? true : undefined,
      );
      await page.screenshot({ path: join(shots, 'device.png') });
      await page.getByRole('tab', { name: /Simulator/ }).click();
      await page.getByRole('button', { name: 'Stop' }).click();
      await waitFor('the run to stop', 15_000, async () =>
        (await page.locator('#sim-status-line').getAttribute('data-state')) === 'stopped' ? true : undefined,
      );
      await page.getByRole('tab', { name: /Devices/ }).click();
      await waitFor('the panel to equal /stream/latest', 20_000, async () => {
        const api = (await json<Latest[]>(port, '/stream/latest')).find((d) => d.device_id === 'dev-2');
        const meta = page.locator('#device-meta');
        const shown = {
          device_id: await page.locator('#device-panel').getAttribute('data-device'),
          latitude: Number(await meta.getAttribute('data-latitude')),
          longitude: Number(await meta.getAttribute('data-longitude')),
          distance: Number(await meta.getAttribute('data-distance')),
          event_ts: Number(await meta.getAttribute('data-event-ts')),
          ...Object.fromEntries(
            await Promise.all(
              ['temperature', 'sound', 'altitude'].map(async (f) => {
                const v = await page.locator(`[data-reading="${f}"] td[data-value]`).getAttribute('data-value');
                return [f, v === '' || v === null ? null : Number(v)];
              }),
            ),
          ),
        };
        return api && JSON.stringify(shown) === JSON.stringify(api) ? true : undefined;
      });

      // 4. A scripted out-of-range reading shows in the alert list; selecting it centres its device.
      const at = Date.now();
      await produceProbe(kafka.brokers, 'probe-web', at);
      await page.getByRole('tab', { name: /Alerts/ }).click();
      const alertId = `probe-web/sensor_anomaly/sound/${at + 100}`;
      const item = page.locator(`#alert-list li[data-alert-id="${alertId}"]`);
      await item.waitFor({ timeout: 30_000 });
      expect(await item.getAttribute('data-severity')).toBe('critical');
      expect(await item.textContent()).toContain('sound high: 99.0 dB (30–50)');
      await page.screenshot({ path: join(shots, 'alerts.png') });
      await item.locator('button').click();
      await expect.poll(() => page.locator('#device-panel').getAttribute('data-device')).toBe('probe-web');
      const centre = ((await page.locator('#map').getAttribute('data-center')) ?? '').split(',').map(Number);
      expect(centre[0]).toBeCloseTo(8.6, 4);
      expect(centre[1]).toBeCloseTo(107.4, 4);

      // 5. History: dev-1's track over its windows, replayed with the slider. The page draws what the endpoint
      // serves: the same LineString, one replay step per window.
      const track = await historyTrack(port);
      await page.getByRole('tab', { name: /History/ }).click();
      await page.locator('#history-device').fill('dev-1');
      const served = page.waitForResponse((r) => new URL(r.url()).pathname === '/devices/dev-1/track');
      await page.getByRole('button', { name: 'Show track' }).click();
      const pageResponse = await served;
      expect(pageResponse.status()).toBe(200);
      // What the page got is the endpoint's answer (the simulation stopped in step 3: no window since); only the
      // range's bounds in the LineString's properties move with the clock.
      const pageTrack = ((await pageResponse.json()) as { features: TrackFeature[] }).features;
      expect(pageTrack[0]?.geometry).toEqual(track.features[0]?.geometry);
      expect(pageTrack.slice(1)).toEqual(track.features.slice(1));
      const windowsCount = track.features.filter((f) => f.geometry.type === 'Point').length;
      await expect.poll(() => page.locator('#history-replay').getAttribute('data-points')).toBe(String(windowsCount));
      expect(windowsCount).toBeGreaterThan(5);
      const drawn = JSON.parse((await page.locator('#map').getAttribute('data-track')) ?? '[]');
      expect(drawn).toEqual(track.features[0]?.geometry.coordinates);
      await page.locator('#history-slider').fill('0');
      const firstWindow = track.features.find((f) => f.geometry.type === 'Point');
      await expect
        .poll(() => page.locator('#map').getAttribute('data-head'))
        .toBe(`${firstWindow?.geometry.coordinates[1]},${firstWindow?.geometry.coordinates[0]}`);
      await page.locator('#history-slider').fill(String(Math.floor(windowsCount / 2)));
      await page.screenshot({ path: join(shots, 'history.png') });
      await page.getByRole('button', { name: 'Clear' }).click();

      const foreign = log.requests.filter((url) => new URL(url).origin !== origin);
      expect(foreign, 'requests to another host').toEqual([]);
      expect(log.errors, 'console errors').toEqual([]);

      // 6. The app dies and comes back: the page says so, reconnects by itself and moves on.
      await page.getByRole('tab', { name: /Devices/ }).click();
      const before = await listed(page, 'dev-1');
      await app.crash();
      await waitFor('the badge to say reconnecting', 15_000, async () =>
        (await badge(page)) === 'reconnecting' ? true : undefined,
      );
      await page.screenshot({ path: join(shots, 'reconnecting.png') });
      app = startApp(env);
      await app.listening;
      await waitReady(port);
      await json(port, '/simulate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      await waitFor('dev-1 to move again after the restart', 60_000, async () => {
        const now = await listed(page, 'dev-1');
        return now && now.eventTs > (before?.eventTs ?? 0) && (await badge(page)) === 'live' ? true : undefined;
      });
      expect(log.requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);

      // 7. A narrow screen.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(shots, 'narrow.png'), fullPage: true });
      await page.close();
    } finally {
      await browser.close();
      await app.crash();
    }
  }, 300_000);
});

interface TrackFeature {
  type: 'Feature';
  geometry: { type: 'LineString' | 'Point'; coordinates: number[] & number[][] };
  properties: Record<string, unknown>;
}

/** dev-1's track as `GET /devices/dev-1/track` serves it (the server's default range: the last hour). */
async function historyTrack(port: number): Promise<{ features: TrackFeature[] }> {
  const res = await fetch(`http://127.0.0.1:${port}/devices/dev-1/track`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/geo+json');
  return (await res.json()) as { features: TrackFeature[] };
}
