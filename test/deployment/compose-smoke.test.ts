/**
 * scripts/compose-smoke.sh run for real with bash, against stand-ins, since this machine has no Docker engine:
 *   - two loopback HTTP servers in place of the stack's app (ENGINE=ksqldb) and of the embedded app, answering the
 *     routes the script calls in the API's formats (docs/api.md, docs/simulators.md);
 *   - a `docker` on PATH that accepts the compose commands the script sends and runs `exec postgres psql -c SQL`
 *     with the real psql against the real PostgreSQL, in one migrated schema per compose project.
 * So the script's own logic runs: its waits, its SQL against the real warehouse tables, its jq comparison with
 * the stated tolerances, and its failure messages. What it cannot show is how the real engines behave.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../src/sink/database.js';
import { migrate } from '../../src/sink/migrate.js';
import { createTestDatabase, databaseUrl } from '../helpers/db.js';

const root = join(import.meta.dirname, '..', '..');
const DEVICES = ['dev-1', 'dev-2', 'dev-3'];
const STARTED_AT = Date.parse('2026-01-05T10:00:00.000Z');
const EVENTS = 450; // the script's default: 90 location fixes and 360 status readings over 3 devices

interface Engine {
  sql: Sql;
  schema: string;
  /** Per device, the join rows (EVENT_COUNT) of each of its windows; averages are in range. */
  windows: Record<string, number[]>;
  latest: Record<string, { latitude: number; longitude: number }>;
  /** Whether /stream/latest/events sends a `latest` event after the snapshot. */
  sseChanges: boolean;
  /** Whether the warehouse holds alerts (one sound episode per device). */
  alerts: boolean;
}

function findPsql(): string {
  for (const dir of (process.env['PATH'] ?? '').split(':')) if (existsSync(join(dir, 'psql'))) return join(dir, 'psql');
  const base = '/usr/lib/postgresql';
  const version = existsSync(base) ? readdirSync(base).find((v) => existsSync(join(base, v, 'bin/psql'))) : undefined;
  if (!version) throw new Error('psql not found (PostgreSQL client binaries are needed, as for the test database)');
  return join(base, version, 'bin/psql');
}

const FAKE_DOCKER = `#!/usr/bin/env bash
# docker stand-in: records each compose call; up, down, logs and version succeed; exec ... psql -c SQL runs the
# SQL with the real psql in the schema of the project (-p; none = the stack under test).
[ "$1" = compose ] || exit 64
shift
project=main
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -p) project=$2; shift 2 ;;
    --profile) shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
echo "$project: \${args[*]}" >> "$FAKE_LOG"
case "\${args[0]}" in
  version | up | down | logs) exit 0 ;;
  exec)
    for ((i = 0; i < \${#args[@]}; i++)); do [ "\${args[i]}" = -c ] && query=\${args[i + 1]}; done
    if [ "$project" = main ]; then schema=$FAKE_SCHEMA_MAIN; else schema=$FAKE_SCHEMA_EMBEDDED; fi
    PGOPTIONS="-c search_path=$schema" exec "$FAKE_PSQL" "$FAKE_DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "$query" ;;
esac
exit 64
`;

async function fill(engine: Engine) {
  const { sql } = engine;
  await sql`delete from device_winagg_status_per2s`;
  await sql`delete from device_winagg_status_perdevice`;
  await sql`delete from device_alerts`;
  for (const device of DEVICES) {
    if (engine.alerts) {
      await sql`insert into device_alerts
        (alert_id, device_id, type, metric, status, severity, opened_at, updated_at, readings, worst_value,
         normal_min, normal_max, revision)
        values (${`${device}/sensor_anomaly/sound/${STARTED_AT + 500}`}, ${device}, 'sensor_anomaly', 'sound',
                'active', 'warning', ${STARTED_AT + 500}, ${STARTED_AT + 500}, 1, 51.5, 30, 50, 1)`;
    }
    for (const [i, count] of engine.windows[device]!.entries()) {
      const start = STARTED_AT - (STARTED_AT % 2000) + i * 2000;
      await sql`insert into device_winagg_status_per2s
        (id, device_id, window_start, window_end, latitude, longitude, distance, event_ts, event_count,
         avg_temp, avg_sound, avg_alt)
        values (${`${device}_${start}_${start + 2000}`}, ${device}, ${start}, ${start + 2000}, 9.0, 107.0, 0.1,
                ${start + 1000}, ${count}, ${24 + i / 100}, 40.5, 1500.25)`;
    }
    const { latitude, longitude } = engine.latest[device]!;
    await sql`insert into device_winagg_status_perdevice
      (device_id, latitude, longitude, distance, event_ts, temperature, sound, altitude)
      values (${device}, ${latitude}, ${longitude}, 0.1, ${STARTED_AT + 60_000}, 25.5, 41.0, 1499.0)`;
  }
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The app's routes the script calls, answered from the engine's data. */
async function startApp(engine: Engine): Promise<{ server: Server; port: number; posts: unknown[] }> {
  const posts: unknown[] = [];
  const latestRows = () =>
    DEVICES.map((device_id) => ({
      device_id,
      ...engine.latest[device_id]!,
      temperature: 25.5,
      sound: 41,
      altitude: 1499,
    }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (url.pathname === '/health') return json(res, 200, { status: 'ok' });
      if (url.pathname === '/simulate' && req.method === 'POST') {
        posts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        return json(res, 202, { state: 'running' });
      }
      if (url.pathname === '/simulate') {
        const topic = (sent: number) => ({ sent, generated: sent, skipped_late: 0, skipped_backpressure: 0 });
        return json(res, 200, {
          state: 'completed',
          started_at: new Date(STARTED_AT).toISOString(),
          topics: { location: topic(EVENTS / 5), status: topic((EVENTS * 4) / 5) },
        });
      }
      if (url.pathname === '/stream/latest/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: snapshot\nid: 1\ndata: ${JSON.stringify(latestRows())}\n\n`);
        if (!engine.sseChanges) return res.end();
        const timer = setInterval(
          () => res.write(`event: latest\nid: 2\ndata: ${JSON.stringify(latestRows()[0])}\n\n`),
          50,
        );
        res.on('close', () => clearInterval(timer));
        return;
      }
      if (url.pathname === '/stream/latest' || url.pathname === '/stream/postgresql/latest') {
        return json(res, 200, latestRows());
      }
      if (url.pathname === '/stream/raw' || url.pathname === '/stream/postgresql/raw') {
        return json(res, 200, [{ id: 'dev-1_0_2000', device_id: url.searchParams.get('device_id') }]);
      }
      return json(res, 404, { error: { code: 'NOT_FOUND' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, posts };
}

const windows = (n: number, rows = 8) => Array.from({ length: n }, () => rows);
const agreeing = () => ({
  windows: { 'dev-1': windows(30), 'dev-2': windows(30), 'dev-3': windows(30) },
  latest: {
    'dev-1': { latitude: 9.0012, longitude: 107.0031 },
    'dev-2': { latitude: 8.9987, longitude: 106.9954 },
    'dev-3': { latitude: 9.0101, longitude: 107.0002 },
  },
  sseChanges: true,
  alerts: true,
});

describe('scripts/compose-smoke.sh against stand-ins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compose-smoke-'));
  const log = join(dir, 'docker.log');
  let distributed: Engine;
  let embedded: Engine;
  let apps: Awaited<ReturnType<typeof startApp>>[];

  beforeAll(async () => {
    writeFileSync(join(dir, 'docker'), FAKE_DOCKER);
    chmodSync(join(dir, 'docker'), 0o755);
    const [a, b] = [await createTestDatabase(), await createTestDatabase()];
    for (const db of [a, b]) await migrate(db.sql, { schema: db.schema });
    distributed = { ...a, ...agreeing() };
    embedded = { ...b, ...agreeing() };
    apps = [await startApp(distributed), await startApp(embedded)];
  });
  afterAll(async () => {
    for (const app of apps ?? []) await new Promise((resolve) => app.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  async function smoke(env: Record<string, string> = {}) {
    await fill(distributed);
    await fill(embedded);
    writeFileSync(log, '');
    const child = spawn('bash', [join(root, 'scripts/compose-smoke.sh')], {
      env: {
        PATH: `${dir}:${process.env['PATH']}`,
        APP_URL: `http://127.0.0.1:${apps[0]!.port}`,
        SMOKE_EMBEDDED_PORT_BASE: String(apps[1]!.port - 80),
        SMOKE_WAIT_S: '20',
        SMOKE_POLL_S: '1',
        FAKE_LOG: log,
        FAKE_PSQL: findPsql(),
        FAKE_DATABASE_URL: databaseUrl(),
        FAKE_SCHEMA_MAIN: distributed.schema,
        FAKE_SCHEMA_EMBEDDED: embedded.schema,
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { status, stdout, stderr, docker: readFileSync(log, 'utf8') };
  }

  it('passes when the engines agree within the tolerances, and starts and removes its private embedded project', async () => {
    // One window more for dev-2 on the embedded engine (the trailing window), with the same join rows: within.
    embedded.windows = { ...agreeing().windows, 'dev-2': [...windows(29), 4, 4] };
    const run = await smoke();
    embedded.windows = agreeing().windows;
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // Only the script's own lines: no response body leaks onto stdout.
    for (const line of run.stdout.trim().split('\n')) expect(line).toMatch(/^(compose-smoke: | {2}dev-\d: )/);
    expect(run.stdout).toMatch(/OK: endpoints, SSE, Kafka Connect, and ksqlDB agrees with the embedded engine/);
    expect(run.stdout).toContain('dev-1: 30 | 30, 240 | 240');
    expect(run.stdout).toContain('dev-2: 30 | 31, 240 | 240');
    // Both apps got the same bounded, seeded run.
    expect(apps[0]!.posts.at(-1)).toEqual({ seed: 424242, devices: DEVICES, max_events: EVENTS });
    expect(apps[1]!.posts.at(-1)).toEqual(apps[0]!.posts.at(-1));
    expect(run.docker).toContain('telemetry-smoke-embedded: up -d --wait --wait-timeout 20 --no-build app-embedded');
    expect(run.docker).toMatch(/telemetry-smoke-embedded: down -v --remove-orphans\n$/);
    expect(run.docker).toMatch(/^main: exec -T postgres psql -U telemetry -d telemetry /m);
  });

  it('fails naming the windows when an engine has fewer windows for a device than the tolerance allows', async () => {
    embedded.windows = { ...agreeing().windows, 'dev-2': windows(28) };
    const run = await smoke();
    embedded.windows = agreeing().windows;
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'FAIL [compare windows] dev-2 has 30 windows on ksqlDB, 28 on the embedded engine (tolerance 1)',
    );
    expect(run.stderr).toContain('FAIL [embedded windows] 88 windows for 90 location fixes (expected 90..93)');
    expect(run.stderr).toContain(
      'FAIL [compare join rows] dev-2 has 240 on ksqlDB, 224 on the embedded engine (tolerance 4.8)',
    );
  });

  it('fails naming the latest position when the engines disagree on where a device is', async () => {
    embedded.latest = { ...agreeing().latest, 'dev-3': { latitude: 9.0102, longitude: 107.0002 } };
    const run = await smoke();
    embedded.latest = agreeing().latest;
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/FAIL \[compare latest position\] dev-3 at 9\.0101, 107\.0002 on ksqlDB, 9\.0102/);
  });

  it('fails naming SSE when the stream sends no latest event after the snapshot', async () => {
    distributed.sseChanges = false;
    const run = await smoke();
    distributed.sseChanges = true;
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('FAIL [sse] /stream/latest/events sent no snapshot followed by a latest event');
  });

  it('fails naming the warehouse table Kafka Connect did not fill, after its bounded wait', async () => {
    distributed.windows = { 'dev-1': [], 'dev-2': [], 'dev-3': [] };
    const run = await smoke({ SMOKE_WAIT_S: '3' });
    distributed.windows = agreeing().windows;
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'FAIL [warehouse device_winagg_status_per2s] rows in device_winagg_status_per2s (written by Kafka Connect): not within 3 s',
    );
    expect(run.stderr).toContain('logs of the embedded comparison project');
  });

  it('fails naming device_alerts when Kafka Connect wrote no alert', async () => {
    distributed.alerts = false;
    const run = await smoke({ SMOKE_WAIT_S: '3' });
    distributed.alerts = true;
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'FAIL [warehouse device_alerts] rows in device_alerts (written by Kafka Connect): not within 3 s',
    );
  });
});
