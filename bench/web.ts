/**
 * `npm run bench:web`: the operations map in headless Chromium against the app as a user runs it, at the
 * reference load (3 devices) and at the target load (1,000 devices, a fix every 2 s and a status every 0.5 s per
 * device), one after the other in the same run, printed side by side. Loopback only, bounded in time.
 *
 *   npm run bench:web -- [--duration-s 60] [--reference-duration-s N] [--target-duration-s N]
 *                        [--devices 1000] [--reference-devices 3] [--sample-s 10] [--warmup-s 10] [--seed 42]
 *
 * The ten-minute run of the issue: `npm run bench:web -- --reference-duration-s 60 --target-duration-s 600`.
 *
 * Per phase: `POST /simulate` with the device count and the specification's rates, a fresh browser context on
 * `/` with the probe of `bench/web-probe.ts` (a wrapped EventSource; the page's code is unchanged), a plain SSE
 * client on `/stream/latest/events` in this process for the receipt times, then after the warm-up:
 * - update latency of `/stream/latest/events` messages: receipt (this process's socket) → drawn (the page's
 *   frame that painted it), and within the page dispatch → handled (state updated) and dispatch → drawn;
 *   event_ts → drawn for the whole pipeline; the `/alerts/events` messages' dispatch → drawn;
 * - every `--sample-s`: a forced garbage collection, then the JS heap in use (CDP `Runtime.getHeapUsage`) and
 *   the DOM node count (`Performance.getMetrics`); first, last, largest and the slope over the second half.
 * The app runs on a private broker and a fresh database (`bench/web-stack.ts`), removed at the end.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../scripts/browser.js';
import { followReceipts, PROBE_SCRIPT, type ProbeTake } from './web-probe.js';
import { startWebStack, type WebStack } from './web-stack.js';

const { values } = parseArgs({
  options: {
    'duration-s': { type: 'string', default: '60' },
    'reference-duration-s': { type: 'string' },
    'target-duration-s': { type: 'string' },
    devices: { type: 'string', default: '1000' },
    'reference-devices': { type: 'string', default: '3' },
    'sample-s': { type: 'string', default: '10' },
    'warmup-s': { type: 'string', default: '10' },
    seed: { type: 'string', default: '42' },
  },
});
const seconds = (v: string | undefined, fallback: string, max: number) =>
  Math.min(Math.max(Number(v ?? fallback), 1), max);
const referenceS = seconds(values['reference-duration-s'], values['duration-s'], 3600);
const targetS = seconds(values['target-duration-s'], values['duration-s'], 3600);
const sampleS = seconds(values['sample-s'], '10', 600);
const warmupS = seconds(values['warmup-s'], '10', 600);
const seed = Number(values.seed);
const LATEST = '/stream/latest/events latest';
const ALERT = '/alerts/events alert';

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stack: WebStack | undefined;
let browser: Browser | undefined;
async function shutdown() {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
}
// Bounded: whatever happens, the bench stops (and takes the app, the broker and the browser with it).
const budgetMs = (referenceS + targetS + 2 * warmupS + 8 * 60) * 1000;
const hardStop = setTimeout(() => {
  process.stderr.write('bench:web exceeded its time budget; stopping\n');
  void Promise.race([shutdown(), sleep(30_000)]).then(() => process.exit(1));
}, budgetMs);
hardStop.unref();
process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));

const histogram = () =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
type Histogram = ReturnType<typeof histogram>;
/** Records a duration in ms with µs resolution. */
const record = (h: Histogram, ms: number) => h.recordValue(Math.min(3_600_000_000, Math.max(1, Math.round(ms * 1000))));
const ms = (h: Histogram, p: number) => (h.totalCount === 0 ? Number.NaN : h.getValueAtPercentile(p) / 1000);
const fmt = (v: number) => (Number.isNaN(v) ? '–' : v < 10 ? v.toFixed(1) : v.toFixed(0));
const triple = (h: Histogram) => `${fmt(ms(h, 50))} / ${fmt(ms(h, 99))} / ${fmt(h.maxValue / 1000)}`;

interface MemorySample {
  atS: number;
  heapMb: number;
  nodes: number;
  listeners: number;
}
interface Interval {
  atS: number;
  perS: number;
  receiptP99: number;
  receiptMax: number;
  heapMb: number;
  nodes: number;
  longTaskMsPerS: number;
}
interface PhaseResult {
  devices: number;
  durationS: number;
  latest: number;
  referenceReceived: number;
  unmatched: number;
  withinBudget: number;
  receiptToDrawn: Histogram;
  handled: Histogram;
  drawn: Histogram;
  eventToDrawn: Histogram;
  alertDrawn: Histogram;
  alerts: number;
  longTaskMs: number;
  memory: MemorySample[];
  intervals: Interval[];
  markers: number;
  /** The machine's 1-minute load average at the end (2 cores here: other work competes with the page). */
  load: number;
  errors: string[];
}

async function simulate(port: number, body: Record<string, unknown> | undefined) {
  const url = `http://127.0.0.1:${port}/simulate`;
  if (!body) {
    await fetch(url, { method: 'DELETE' });
    return;
  }
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201 && res.status !== 200 && res.status !== 202) {
    throw new Error(`POST /simulate answered ${res.status}: ${await res.text()}`);
  }
}

/** Least-squares slope of heap (MB) per minute over the samples. */
function slopePerMinute(samples: MemorySample[]): number {
  if (samples.length < 2) return Number.NaN;
  const xs = samples.map((s) => s.atS / 60);
  const ys = samples.map((s) => s.heapMb);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * ((ys[i] as number) - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

async function runPhase(s: WebStack, b: Browser, devices: number, durationS: number): Promise<PhaseResult> {
  log(`\n== ${devices} devices: simulating, opening the page, ${warmupS} s warm-up, ${durationS} s measured`);
  await simulate(s.port, undefined);
  await sleep(1000);
  await simulate(s.port, {
    device_count: devices,
    location_interval_ms: 2000,
    status_interval_ms: 500,
    seed,
    duration_ms: (warmupS + durationS + 120) * 1000,
  });
  const receipts = await followReceipts(`${s.origin}/stream/latest/events`);
  const context = await b.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(PROBE_SCRIPT);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const result: PhaseResult = {
    devices,
    durationS,
    latest: 0,
    referenceReceived: 0,
    unmatched: 0,
    withinBudget: 0,
    receiptToDrawn: histogram(),
    handled: histogram(),
    drawn: histogram(),
    eventToDrawn: histogram(),
    alertDrawn: histogram(),
    alerts: 0,
    longTaskMs: 0,
    memory: [],
    intervals: [],
    markers: 0,
    load: 0,
    errors,
  };
  try {
    await page.goto(`${s.origin}/`);
    const origin = (await page.evaluate('window.__webBench.origin')) as number;
    const markers = async () => Number(await page.locator('#map').getAttribute('data-markers'));
    const until = Date.now() + 120_000;
    while ((await markers()) < devices) {
      if (Date.now() > until) throw new Error(`the page showed ${await markers()} of ${devices} markers after 120 s`);
      await sleep(500);
    }
    await sleep(warmupS * 1000);
    await page.evaluate('window.__webBench.take()');
    const receivedAtStart = receipts.received();

    let interval = histogram();
    let intervalCount = 0;
    let intervalLongTasks = 0;
    const take = async () => {
      const t = (await page.evaluate('window.__webBench.take()')) as ProbeTake;
      result.longTaskMs += t.longTaskMs;
      intervalLongTasks += t.longTaskMs;
      for (const [kind, id, eventTs, dispatched, handled, drawn] of t.samples) {
        if (kind === ALERT) {
          result.alerts++;
          record(result.alertDrawn, drawn - dispatched);
        }
        if (kind !== LATEST) continue;
        result.latest++;
        intervalCount++;
        record(result.handled, handled - dispatched);
        record(result.drawn, drawn - dispatched);
        if (eventTs > 0) record(result.eventToDrawn, origin + drawn - eventTs);
        const receivedAt = receipts.take(id);
        if (receivedAt === undefined) {
          result.unmatched++;
          continue;
        }
        const latency = origin + drawn - receivedAt;
        record(result.receiptToDrawn, latency);
        record(interval, latency);
        if (latency <= 1000) result.withinBudget++;
      }
    };
    const started = Date.now();
    let nextSample = started;
    while (Date.now() - started < durationS * 1000) {
      await take();
      if (Date.now() >= nextSample) {
        nextSample += sampleS * 1000;
        // After the take, so the probe's own buffer is empty; after a full collection, so only live objects count.
        await cdp.send('HeapProfiler.collectGarbage');
        const heap = await cdp.send('Runtime.getHeapUsage');
        const metrics = (await cdp.send('Performance.getMetrics')).metrics;
        const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? Number.NaN;
        const atS = (Date.now() - started) / 1000;
        const sample = {
          atS,
          heapMb: heap.usedSize / 1024 / 1024,
          nodes: metric('Nodes'),
          listeners: metric('JSEventListeners'),
        };
        result.memory.push(sample);
        if (result.memory.length > 1) {
          const spanS = atS - (result.intervals.at(-1)?.atS ?? 0);
          result.intervals.push({
            atS,
            perS: intervalCount / spanS,
            receiptP99: ms(interval, 99),
            receiptMax: interval.maxValue / 1000,
            heapMb: sample.heapMb,
            nodes: sample.nodes,
            longTaskMsPerS: intervalLongTasks / spanS,
          });
        }
        interval = histogram();
        intervalCount = 0;
        intervalLongTasks = 0;
      }
      await sleep(1000);
    }
    await take();
    result.durationS = (Date.now() - started) / 1000;
    result.referenceReceived = receipts.received() - receivedAtStart;
    result.markers = await markers();
    result.load = loadavg()[0] ?? Number.NaN;
  } finally {
    receipts.close();
    await context.close();
    await simulate(s.port, undefined);
  }
  return result;
}

function report(phases: PhaseResult[]) {
  const row = (label: string, cell: (p: PhaseResult) => string) =>
    log(`| ${label} | ${phases.map(cell).join(' | ')} |`);
  const mem = (p: PhaseResult, pick: (m: MemorySample) => number, digits = 1) => {
    const v = p.memory.map(pick);
    return v.length === 0
      ? '–'
      : `${(v[0] as number).toFixed(digits)} / ${(v.at(-1) as number).toFixed(digits)} / ${Math.max(...v).toFixed(digits)}`;
  };
  const secondHalf = (p: PhaseResult) => p.memory.filter((m) => m.atS >= p.durationS / 2);
  log(`\n| | ${phases.map((p) => `${p.devices} devices`).join(' | ')} |`);
  log(`|---|${phases.map(() => '---').join('|')}|`);
  row('measured', (p) => `${p.durationS.toFixed(0)} s`);
  row('markers on the map', (p) => String(p.markers));
  row('`latest` messages applied by the page (per s)', (p) => `${p.latest} (${(p.latest / p.durationS).toFixed(0)})`);
  row('`latest` messages sent to the reference client', (p) => String(p.referenceReceived));
  row('page messages without a reference receipt', (p) => String(p.unmatched));
  row('receipt → drawn, p50 / p99 / max ms', (p) => `${triple(p.receiptToDrawn)}`);
  row('drawn within 1 s of receipt', (p) =>
    p.receiptToDrawn.totalCount === 0 ? '–' : `${((100 * p.withinBudget) / p.receiptToDrawn.totalCount).toFixed(2)} %`,
  );
  row('in the page: dispatch → handled, p50 / p99 / max ms', (p) => triple(p.handled));
  row('in the page: dispatch → drawn, p50 / p99 / max ms', (p) => triple(p.drawn));
  row('event_ts → drawn (whole pipeline), p50 / p99 / max ms', (p) => triple(p.eventToDrawn));
  row('`alert` messages: count, dispatch → drawn p99 ms', (p) => `${p.alerts}, ${fmt(ms(p.alertDrawn, 99))}`);
  row('main thread in long tasks (ms per s)', (p) => (p.longTaskMs / p.durationS).toFixed(0));
  row('JS heap after GC, first / last / max MB', (p) => mem(p, (m) => m.heapMb));
  row('JS heap slope over the second half (MB/min)', (p) => slopePerMinute(secondHalf(p)).toFixed(3));
  row('DOM nodes, first / last / max', (p) => mem(p, (m) => m.nodes, 0));
  row('JS event listeners, first / last / max', (p) => mem(p, (m) => m.listeners, 0));
  row('console errors', (p) => String(p.errors.length));
  row('load average (1 min) at the end', (p) => p.load.toFixed(1));
  for (const p of phases) {
    log(
      `\n${p.devices} devices, every ${sampleS} s: t s | latest/s | receipt→drawn p99 / max ms | heap MB | nodes | long tasks ms/s`,
    );
    for (const i of p.intervals) {
      log(
        `  ${i.atS.toFixed(0).padStart(5)} | ${i.perS.toFixed(0).padStart(6)} | ${fmt(i.receiptP99).padStart(6)} / ${fmt(i.receiptMax).padStart(6)} | ${i.heapMb.toFixed(1).padStart(6)} | ${String(i.nodes).padStart(6)} | ${i.longTaskMsPerS.toFixed(0)}`,
      );
    }
    for (const e of p.errors.slice(0, 5)) log(`  console error: ${e}`);
  }
  log(
    '\n(receipt = arrival of the same SSE id at a plain client in the bench process; drawn = the page frame that painted it; heap after a forced GC)',
  );
}

try {
  stack = await startWebStack(log);
  browser = await launchBrowser();
  log(`Chromium ${browser.version()}, headless; page ${stack.origin}/`);
  const reference = await runPhase(stack, browser, Number(values['reference-devices']), referenceS);
  const target = await runPhase(stack, browser, Number(values.devices), targetS);
  report([reference, target]);
} finally {
  await shutdown();
  clearTimeout(hardStop);
}
