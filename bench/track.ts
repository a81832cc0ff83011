/**
 * Benchmark of `GET /devices/{device_id}/track` over a long range: the warehouse read (count, then index probes)
 * plus the GeoJSON body and its serialization, as the handler does them, next to reading every window of the
 * same range (what the endpoint would cost without server-side thinning), measured in the same run.
 *
 *   npm run bench:track -- [--days 7] [--runs 15]
 *
 * Seeds a unique schema with `--days` of 2-second windows for the measured device and as many for a second one
 * (the index then holds other devices' rows too), vacuumed as autovacuum leaves rows that are no longer written.
 * The schema is dropped at the end. Prints figures only.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { toTrackCollection } from '../src/api/schemas/track.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/sink/database.js';
import { migrate } from '../src/sink/migrate.js';
import { createWarehouseReader } from '../src/warehouse-reader/warehouse-reader.js';

const { values } = parseArgs({
  options: { days: { type: 'string', default: '7' }, runs: { type: 'string', default: '15' } },
});
const days = Math.min(Number(values.days), 31);
const runs = Math.min(Number(values.runs), 100);

const config = loadConfig(process.env);
const schema = `bench_track_${randomBytes(4).toString('hex')}`;
const sql = createDatabase({ url: config.DATABASE_URL, poolMax: 2, schema });
const from = 1_800_000_000_000;
const to = from + days * 86_400_000;
const windows = (to - from) / 2000;

async function seed() {
  await sql.unsafe(`create schema ${schema}`);
  await migrate(sql, { schema });
  await sql`
    insert into device_winagg_status_per2s
      (id, device_id, window_start, window_end, latitude, longitude, distance, event_ts, event_count,
       avg_temp, avg_sound, avg_alt)
    select d || '_' || ws || '_' || (ws + 2000), d, ws, ws + 2000,
           9 + sin(i / 5000.0) / 2, 107 + cos(i / 7000.0) / 2, 1.0, ws + 1500, 1, 25, 40, 1500
    from unnest(array['dev-1', 'dev-2']) as d,
         lateral (select i, ${from}::bigint + i * 2000 as ws from generate_series(0, ${windows - 1}) as i) as g`;
  await sql.unsafe('vacuum analyze device_winagg_status_per2s');
}

/** p50, min and max of `runs` timed calls of `fn`, in ms. */
async function time(fn: () => Promise<unknown>, count: number): Promise<string> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await fn();
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  const fmt = (v: number | undefined) => (v ?? 0).toFixed(0).padStart(6);
  return `p50 ${fmt(ms[Math.floor(ms.length / 2)])} ms   min ${fmt(ms[0])}   max ${fmt(ms[ms.length - 1])}`;
}

async function main() {
  const seeding = performance.now();
  await seed();
  console.log(`seeded ${2 * windows} windows (${days} days × 2 devices) in ${(performance.now() - seeding) / 1000} s`);
  const reader = createWarehouseReader({ sql, queryTimeoutMs: 30_000 });
  /** The handler's work for one range: the read, the GeoJSON body, its serialization; returns the body size. */
  const track = async (rangeFrom: number, limit: number) => {
    const range = { deviceId: 'dev-1', from: rangeFrom, to, limit };
    return JSON.stringify(toTrackCollection(range, await reader.readTrack(range))).length;
  };
  await track(from, 2000);
  console.log(`\ndev-1 over ${days} days: ${windows} windows`);
  const line = (label: string, figures: string) => console.log(`${label.padEnd(52)} ${figures}`);
  for (const limit of [2000, 10_000]) {
    const bytes = await track(from, limit);
    line(`track, limit ${limit} (${bytes} bytes)`, await time(() => track(from, limit), runs));
  }
  const count = () =>
    sql`select count(*), min(window_start), max(window_start) from device_winagg_status_per2s
        where device_id = 'dev-1' and window_start >= ${from} and window_start < ${to}`;
  line("  of which the count of the range's windows", await time(count, runs));
  line('track of the last hour (1800 windows, not thinned)', await time(() => track(to - 3_600_000, 2000), runs));
  const everyWindow = () =>
    sql`select * from device_winagg_status_per2s
        where device_id = 'dev-1' and window_start >= ${from} and window_start < ${to} order by window_start`;
  line('reference: every window of the range, no body', await time(everyWindow, Math.min(runs, 5)));
}

try {
  await main();
} finally {
  await sql.unsafe(`drop schema if exists ${schema} cascade`).catch(() => undefined);
  await sql.end({ timeout: 5 });
}
