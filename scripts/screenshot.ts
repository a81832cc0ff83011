/**
 * Regenerates README's picture of the map (docs/images/map.png) from a running app: `npm run screenshot
 * [-- <app URL> <file>]`, default http://127.0.0.1:8080 and docs/images/map.png. Starts the simulators (seed 42)
 * when none run and stops them afterwards, waits for the trails, selects dev-1 and shoots at 1280×800.
 */
import { launchBrowser } from './browser.js';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const file = process.argv[3] ?? new URL('../docs/images/map.png', import.meta.url).pathname;
const headers: Record<string, string> = { 'content-type': 'application/json' };
if (process.env['API_KEY']) headers['x-api-key'] = process.env['API_KEY'];

const status = (await (await fetch(`${base}/simulate`, { headers })).json()) as { state?: string };
const startedHere = status.state !== 'running';
if (startedHere) {
  const res = await fetch(`${base}/simulate`, { method: 'POST', headers, body: JSON.stringify({ seed: 42 }) });
  if (!res.ok) throw new Error(`POST /simulate: ${res.status} ${await res.text()}`);
  console.log('[screenshot] started the simulators (seed 42); waiting 60 s for trails');
}
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${base}/`);
  await page.waitForTimeout(startedHere ? 60_000 : 5000);
  await page.locator('#device-list li[data-device="dev-1"] button').click();
  await page.waitForTimeout(3000);
  await page.screenshot({ path: file });
  console.log(`[screenshot] wrote ${file}`);
} finally {
  await browser.close();
  if (startedHere) await fetch(`${base}/simulate`, { method: 'DELETE', headers });
}
