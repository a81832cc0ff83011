/**
 * `npm run bench:api`: HTTP API throughput and SSE fan-out, loopback only, bounded in time.
 *
 * 1. For each documented endpoint: autocannon against the API, then against a bare node:http server that
 *    returns the same bytes (measured in the same run), reporting requests/s and p50/p99 latency.
 * 2. SSE fan-out: BENCH_SSE_CLIENTS clients (default 10,000) on `/stream/latest/events`; live records are
 *    produced to Kafka with EVENT_TS = now; each client measures event_ts → receipt. Reports p50/p99, the
 *    delivered/expected count and the API process's memory before and with the clients.
 *
 * Settings: BENCH_DURATION_S (default 5 per target), BENCH_CONNECTIONS (default 50), BENCH_SSE_CLIENTS,
 * BENCH_SSE_EVENTS (default 60, 10 per second), KAFKA_BROKERS / DATABASE_URL (default: the local infrastructure).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { ask, children, start } from './child-process.js';

const duration = Number(process.env['BENCH_DURATION_S'] ?? 5);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const sseEvents = Number(process.env['BENCH_SSE_EVENTS'] ?? 60);

// Bounded: whatever happens, the bench stops.
const hardStop = setTimeout(() => {
  process.stderr.write('bench:api exceeded its time budget; stopping\n');
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
}, 15 * 60_000);
hardStop.unref();

async function cannon(url: string) {
  // One second of warm-up (JIT, connection pools) before the measured run.
  await autocannon({ url, connections, duration: 1 });
  const result = await autocannon({ url, connections, duration, pipelining: 1 });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

process.stdout.write('starting the API (seeding 3 devices × 1000 windows)…\n');
const api = await start('api-server.ts');
const apiUrl = `http://127.0.0.1:${api.port}`;
const paths = [
  '/stream/raw',
  '/stream/latest',
  '/stream/postgresql/raw',
  '/stream/postgresql/latest',
  '/stream/raw?device_id=dev-2&limit=1000',
];
const bodies: Record<string, { type: string; body: string }> = {};
for (const path of paths) {
  const res = await fetch(`${apiUrl}${path}`);
  bodies[path] = { type: res.headers.get('content-type') ?? 'application/json', body: await res.text() };
}
const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
writeFileSync(join(dir, 'bodies.json'), JSON.stringify(bodies));
const bare = await start('bare-server.ts', [join(dir, 'bodies.json')]);

process.stdout.write(`\nHTTP: ${connections} connections, ${duration} s per target, loopback\n`);
process.stdout.write(
  '| endpoint | bytes | API req/s | API p50 / p99 ms | bare node:http req/s | bare p50 / p99 ms |\n|---|---|---|---|---|---|\n',
);
for (const path of paths) {
  const a = await cannon(`${apiUrl}${path}`);
  const b = await cannon(`http://127.0.0.1:${bare.port}${path}`);
  const errors = a.errors + b.errors > 0 ? ` (errors: ${a.errors}/${b.errors})` : '';
  process.stdout.write(
    `| \`${path}\` | ${bodies[path]?.body.length} | ${a.rps.toFixed(0)} | ${a.p50} / ${a.p99} | ${b.rps.toFixed(0)} | ${b.p50} / ${b.p99} |${errors}\n`,
  );
}
bare.child.send({ type: 'stop' });

// SSE fan-out. Each client is one socket here and one in the API process: stay under the open-files limit.
const wanted = Number(process.env['BENCH_SSE_CLIENTS'] ?? 10_000);
const openFiles = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim()) || Number.POSITIVE_INFINITY;
const limit = Math.min(wanted, openFiles - 1000);
if (limit < wanted) {
  process.stdout.write(
    `note: ulimit -n is ${openFiles}; using ${limit} SSE clients (raise it with \`ulimit -n 65536\` first)\n`,
  );
}
const before = await ask<{ rss: number; heapUsed: number }>(api.child, 'memory', 'memory');
const histogram = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000,
  numberOfSignificantValueDigits: 3,
});
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
let connected = 0;
let delivered = 0;
let failed = 0;
const sockets: { destroy(): void }[] = [];
const openClient = () =>
  new Promise<void>((resolve) => {
    const req = get(`${apiUrl}/stream/latest/events`, { agent }, (res) => {
      if (res.statusCode !== 200) {
        failed++;
        res.resume();
        resolve();
        return;
      }
      let buffer = '';
      let snapshot = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.includes('event: snapshot')) {
            if (!snapshot) {
              snapshot = true;
              connected++;
              resolve();
            }
          } else if (block.includes('event: latest')) {
            const ts = /"event_ts":(\d+)/.exec(block)?.[1];
            if (ts) {
              histogram.recordValue(Math.max(1, Date.now() - Number(ts)));
              delivered++;
            }
          }
          end = buffer.indexOf('\n\n');
        }
      });
    });
    req.on('error', () => {
      failed++;
      resolve();
    });
    sockets.push(req);
  });

const connectStarted = Date.now();
for (let i = 0; i < limit; i += 250) {
  await Promise.all(Array.from({ length: Math.min(250, limit - i) }, openClient));
}
const connectMs = Date.now() - connectStarted;
type Usage = { rss: number; heapUsed: number; clients: number; cpuMs: number; at: number };
const withClients = await ask<Usage>(api.child, 'memory', 'memory');
await ask(api.child, 'produce', 'produced', { count: sseEvents, intervalMs: 100 });
// Let the last events arrive (bounded).
const expected = sseEvents * connected;
for (let i = 0; i < 100 && delivered < expected; i++) await new Promise((r) => setTimeout(r, 100));
const during = await ask<Usage>(api.child, 'memory', 'memory');
// Share of one core the API process used while it fanned the events out.
const apiCpu = ((during.cpuMs - withClients.cpuMs) / (during.at - withClients.at)) * 100;

process.stdout.write(
  `\nSSE fan-out on /stream/latest/events: ${connected} clients connected in ${connectMs} ms (${failed} failed), ${sseEvents} events at 10/s\n`,
);
process.stdout.write(
  `| delivered / expected | latency p50 ms | p99 ms | max ms | API RSS idle | API RSS with clients | API heap with clients |\n|---|---|---|---|---|---|---|\n`,
);
process.stdout.write(
  `| ${delivered} / ${expected} | ${histogram.getValueAtPercentile(50)} | ${histogram.getValueAtPercentile(99)} | ${histogram.maxValue} | ${mb(before.rss)} | ${mb(Math.max(withClients.rss, during.rss))} | ${mb(during.heapUsed)} |\n`,
);
process.stdout.write(`API process CPU during the fan-out: ${apiCpu.toFixed(0)} % of one core\n`);
process.stdout.write(
  '(latency = receipt time in the bench process − event_ts stamped when the record was produced to Kafka)\n',
);

for (const s of sockets) s.destroy();
agent.destroy();
const exited = new Promise((resolve) => api.child.once('exit', resolve));
api.child.send({ type: 'stop' });
await exited;
rmSync(dir, { recursive: true, force: true });
clearTimeout(hardStop);
