/**
 * `npx tsx bench/http-metrics.ts`: what the HTTP metrics middleware costs per request, measured against the
 * same app without it in the same run.
 *
 * The app is the API's real middleware chain (`installHttpGuards`) and its real `/health` route; the only
 * difference between the two variants is the metrics middleware (`reference` passes straight through).
 *
 * 1. In process: `app.fetch` in a loop, variants interleaved, reporting the CPU time (user + system) per
 *    request: no sockets, and CPU time rather than wall time, so other work on a shared machine moves it least.
 * 2. Over loopback: each variant served by @hono/node-server in its own child process and driven by autocannon
 *    from this one, rounds interleaved, reporting the median requests/s, p50/p99 latency and the server
 *    process's CPU time per request.
 *
 * Settings: BENCH_DURATION_S (default 5 per loopback round), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS
 * (default 3 loopback rounds), BENCH_MICRO_ROUNDS (default 10), BENCH_ITERATIONS (default 20,000 in-process
 * requests per round).
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import autocannon from 'autocannon';
import { Hono, type MiddlewareHandler } from 'hono';
import { Registry } from 'prom-client';
import { type GuardConfig, installHttpGuards } from '../src/api/middleware/http-guards.js';
import { createHttpMetrics } from '../src/api/middleware/http-metrics.js';
import { registerHealthRoutes } from '../src/api/routes/health/health.routes.js';

type Variant = 'reference' | 'metrics';
const VARIANTS: Variant[] = ['reference', 'metrics'];

const duration = Number(process.env['BENCH_DURATION_S'] ?? 5);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const microRounds = Number(process.env['BENCH_MICRO_ROUNDS'] ?? 10);
const iterations = Number(process.env['BENCH_ITERATIONS'] ?? 20_000);

/** CPU time (user + system) this process has used, in µs. */
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const guardConfig: GuardConfig = { CORS_ORIGINS: '', BODY_LIMIT_BYTES: 1_048_576, REQUEST_TIMEOUT_MS: 10_000 };

const metricsMiddleware = () => createHttpMetrics(new Registry()).middleware;

function buildApp(variant: Variant) {
  const passThrough: MiddlewareHandler = (_c, next) => next();
  const middleware = variant === 'metrics' ? metricsMiddleware() : passThrough;
  const app = new OpenAPIHono();
  installHttpGuards(app, guardConfig, middleware);
  registerHealthRoutes(app, { readiness: [] });
  return app;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

if (process.argv[2] === 'serve') {
  const app = buildApp(process.argv[3] as Variant);
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  server.once('listening', () => process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port }));
  process.on('message', (m: { type: string }) => {
    if (m.type === 'cpu') process.send?.({ type: 'cpu', micros: cpuMicros() });
    if (m.type === 'stop') server.close(() => process.exit(0));
  });
} else {
  const hardStop = setTimeout(() => {
    process.stderr.write('bench exceeded its time budget; stopping\n');
    process.exit(1);
  }, 10 * 60_000);
  hardStop.unref();

  // The same pair twice: on the API's middleware chain, and on a Hono app with nothing but the metrics
  // middleware and one route, where the middleware's share of the request is larger and easier to see.
  const minimal = (withMetrics: boolean) => {
    const app = new Hono();
    if (withMetrics) app.use('*', metricsMiddleware());
    return app.get('/health', (c) => c.json({ status: 'ok' }));
  };
  const microApps: [string, { fetch: (req: Request) => Response | Promise<Response> }][] = [
    ['api chain, reference', buildApp('reference')],
    ['api chain, metrics', buildApp('metrics')],
    ['minimal, reference', minimal(false)],
    ['minimal, metrics', minimal(true)],
  ];
  process.stdout.write(`in process: app.fetch('/health') × ${iterations}, ${microRounds} interleaved rounds\n`);
  const micro = new Map<string, number[]>(microApps.map(([name]) => [name, []]));
  for (let round = 0; round <= microRounds; round++) {
    for (const [name, app] of microApps) {
      const started = cpuMicros();
      for (let i = 0; i < iterations; i++) {
        const res = await app.fetch(new Request('http://127.0.0.1/health'));
        if (res.status !== 200) throw new Error(`unexpected status ${res.status}`);
      }
      // Round 0 warms the JIT and is not counted.
      if (round > 0) micro.get(name)?.push((cpuMicros() - started) / iterations);
    }
  }
  const microMedian = (name: string) => median(micro.get(name) ?? []);
  for (const [name, rounds] of micro) {
    const each = rounds.map((x) => x.toFixed(1)).join(', ');
    process.stdout.write(`  ${name.padEnd(20)} ${microMedian(name).toFixed(2)} µs CPU/request (median of ${each})\n`);
  }
  for (const chain of ['api chain', 'minimal']) {
    const delta = microMedian(`${chain}, metrics`) - microMedian(`${chain}, reference`);
    process.stdout.write(
      `  metrics middleware on the ${chain}: ${delta >= 0 ? '+' : ''}${delta.toFixed(2)} µs CPU/request\n`,
    );
  }

  const here = fileURLToPath(import.meta.url);
  const servers = {} as Record<Variant, { child: ChildProcess; port: number }>;
  for (const variant of VARIANTS) {
    const child = fork(here, ['serve', variant], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server ${variant} exited with ${code}`)));
      child.on('message', (m: { type: string; port: number }) => {
        if (m.type === 'ready') resolve(m.port);
      });
    });
    servers[variant] = { child, port };
  }
  process.stdout.write(
    `\nloopback: autocannon GET /health, ${connections} connections, ${duration} s, ${rounds} interleaved rounds\n`,
  );
  const serverCpu = (child: ChildProcess) =>
    new Promise<number>((resolve) => {
      const onMessage = (m: { type: string; micros: number }) => {
        if (m.type !== 'cpu') return;
        child.off('message', onMessage);
        resolve(m.micros);
      };
      child.on('message', onMessage);
      child.send({ type: 'cpu' });
    });
  const results: Record<Variant, { rps: number; p50: number; p99: number; errors: number; cpu: number }[]> = {
    reference: [],
    metrics: [],
  };
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS) {
      const url = `http://127.0.0.1:${servers[variant].port}/health`;
      // One second of warm-up (JIT, connections) before each measured run.
      await autocannon({ url, connections, duration: 1 });
      const cpuBefore = await serverCpu(servers[variant].child);
      const r = await autocannon({ url, connections, duration });
      const cpu = (await serverCpu(servers[variant].child)) - cpuBefore;
      results[variant].push({
        cpu: cpu / r.requests.total,
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: r.errors + r.non2xx,
      });
    }
  }
  process.stdout.write(
    '| variant | req/s (median) | p50 ms | p99 ms | server µs CPU/request | errors | req/s per round |\n' +
      '|---|---|---|---|---|---|---|\n',
  );
  for (const variant of VARIANTS) {
    const rs = results[variant];
    process.stdout.write(
      `| ${variant} | ${median(rs.map((r) => r.rps)).toFixed(0)} | ${median(rs.map((r) => r.p50))} | ${median(
        rs.map((r) => r.p99),
      )} | ${median(rs.map((r) => r.cpu)).toFixed(1)} | ${rs.reduce((n, r) => n + r.errors, 0)} | ${rs.map((r) => r.rps.toFixed(0)).join(', ')} |\n`,
    );
  }
  for (const { child } of Object.values(servers)) child.send({ type: 'stop' });
}
