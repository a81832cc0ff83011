/**
 * Writes one batch of warehouse rows atomically, as guarded upserts.
 *
 * Default (`unnest`): per table an `INSERT … SELECT FROM unnest($1::text[], …) ON CONFLICT … DO UPDATE … WHERE
 * <newer>`, both tables in one statement — one array parameter per column whatever the batch size, so the
 * statement is prepared once and the rows travel as a few array literals. The alternative (`copy`) COPYs into
 * session-temporary staging tables and upserts from them in a transaction. `bench/sink.ts` measures both on
 * the same rows (docs/warehouse.md): unnest was several times faster at our batch sizes.
 *
 * The `WHERE` clause is the guard: an older version (see `rows.ts` for what "older" means) never overwrites
 * a newer one, and an identical redelivery updates nothing. Rows are collapsed to their newest version per
 * key before writing, because one statement may not touch a row twice.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';
import type { Sql } from './database.js';
import {
  type AlertRow,
  type DeviceRow,
  isNewerAlert,
  isNewerDevice,
  isNewerWindow,
  newestByKey,
  type WindowRow,
} from './rows.js';

export const WINDOW_TABLE = 'device_winagg_status_per2s';
export const DEVICE_TABLE = 'device_winagg_status_perdevice';
export const ALERT_TABLE = 'device_alerts';

export interface WriteResult {
  /** Rows inserted or changed; versions the guard rejected are not counted. */
  windowRows: number;
  deviceRows: number;
  alertRows: number;
}

const WINDOW_COLUMNS = [
  ['id', 'text'],
  ['device_id', 'text'],
  ['window_start', 'int8'],
  ['window_end', 'int8'],
  ['latitude', 'float8'],
  ['longitude', 'float8'],
  ['distance', 'float8'],
  ['event_ts', 'int8'],
  ['event_count', 'int8'],
  ['avg_temp', 'float8'],
  ['avg_sound', 'float8'],
  ['avg_alt', 'float8'],
  ['kafka_partition', 'int4'],
  ['kafka_offset', 'int8'],
] as const satisfies readonly (readonly [keyof WindowRow, string])[];

const DEVICE_COLUMNS = [
  ['device_id', 'text'],
  ['latitude', 'float8'],
  ['longitude', 'float8'],
  ['distance', 'float8'],
  ['event_ts', 'int8'],
  ['temperature', 'float8'],
  ['sound', 'float8'],
  ['altitude', 'float8'],
  ['kafka_partition', 'int4'],
  ['kafka_offset', 'int8'],
] as const satisfies readonly (readonly [keyof DeviceRow, string])[];

const ALERT_COLUMNS = [
  ['alert_id', 'text'],
  ['device_id', 'text'],
  ['type', 'text'],
  ['metric', 'text'],
  ['status', 'text'],
  ['severity', 'text'],
  ['opened_at', 'int8'],
  ['cleared_at', 'int8'],
  ['updated_at', 'int8'],
  ['readings', 'int8'],
  ['worst_value', 'float8'],
  ['normal_min', 'float8'],
  ['normal_max', 'float8'],
  ['latitude', 'float8'],
  ['longitude', 'float8'],
  ['revision', 'int8'],
  ['kafka_partition', 'int4'],
  ['kafka_offset', 'int8'],
] as const satisfies readonly (readonly [keyof AlertRow, string])[];

/** An alert's revisions only grow (each change adds one), so the higher one is newer whatever the delivery order. */
const ALERT_GUARD = 'excluded.revision > t.revision';

const WINDOW_GUARD = `
  excluded.event_count > t.event_count
  or (excluded.event_count = t.event_count and excluded.event_ts > t.event_ts)
  or (excluded.event_count = t.event_count and excluded.event_ts = t.event_ts
      and excluded.kafka_partition = t.kafka_partition and excluded.kafka_offset > t.kafka_offset)`;

const DEVICE_GUARD = `
  case
    when t.kafka_partition is null then true
    when excluded.kafka_partition = t.kafka_partition then excluded.kafka_offset > t.kafka_offset
    else coalesce(excluded.event_ts, -1) >= coalesce(t.event_ts, -1)
  end`;

function qualified(schema: string | undefined, table: string): string {
  const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
  return schema ? `${ident(schema)}.${ident(table)}` : ident(table);
}

function upsertStatement(
  table: string,
  columns: readonly (readonly [string, string])[],
  key: string,
  guard: string,
  firstParameter = 1,
): string {
  const names = columns.map(([c]) => c);
  const arrays = columns.map(([, type], i) => `$${i + firstParameter}::${type}[]`);
  const updates = names.filter((c) => c !== key).map((c) => `${c} = excluded.${c}`);
  return `insert into ${table} as t (${names.join(', ')})
    select * from unnest(${arrays.join(', ')})
    on conflict (${key}) do update set ${updates.join(', ')}
    where ${guard}`;
}

/** Column-wise arrays; int8 values go as strings so nothing depends on how the driver types a bigint. */
function toColumnArrays<R>(rows: readonly R[], columns: readonly (readonly [string, string])[]): unknown[][] {
  return columns.map(([name, type]) =>
    rows.map((row) => {
      const v = (row as Record<string, unknown>)[name];
      if (v === null || v === undefined) return null;
      return type === 'int8' ? String(v) : v;
    }),
  );
}

/** COPY text format: `\N` for null, backslash escapes for the characters that delimit rows and fields. */
function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value !== 'string') return String(value);
  return value.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c] ?? c);
}

type Tx = postgres.TransactionSql;

interface TableSpec {
  target: string;
  stage: string;
  columns: readonly (readonly [string, string])[];
  key: string;
  guard: string;
}

function tableSpec(
  schema: string | undefined,
  table: string,
  columns: TableSpec['columns'],
  key: string,
  guard: string,
): TableSpec {
  return { target: qualified(schema, table), stage: `${table}_stage`, columns, key, guard };
}

/**
 * Both upserts as one statement (data-modifying CTEs): atomic without BEGIN/COMMIT, one round trip. Being a
 * single statement also keeps the sink off postgres.js 3.4.9's crash when a connection drops inside
 * `sql.begin` (its ROLLBACK is written to a closed socket from a timer; porsager/postgres#1208).
 */
function combinedUpsert(windows: TableSpec, devices: TableSpec, alerts: TableSpec): string {
  const w = upsertStatement(windows.target, windows.columns, windows.key, windows.guard);
  const d = upsertStatement(devices.target, devices.columns, devices.key, devices.guard, windows.columns.length + 1);
  const aFirst = windows.columns.length + devices.columns.length + 1;
  const a = upsertStatement(alerts.target, alerts.columns, alerts.key, alerts.guard, aFirst);
  return `with w as (${w} returning 1), d as (${d} returning 1), a as (${a} returning 1)
    select (select count(*) from w)::int as windows, (select count(*) from d)::int as devices,
      (select count(*) from a)::int as alerts`;
}

/** COPY into a per-session temporary table, then the same guarded upsert from it. */
async function copyUpsert(tx: Tx, spec: TableSpec, rows: readonly object[]): Promise<number> {
  const names = spec.columns.map(([c]) => c).join(', ');
  const types = spec.columns.map(([c, t]) => `${c} ${t}`).join(', ');
  await tx.unsafe(`create temp table if not exists ${spec.stage} (${types}) on commit delete rows`);
  const writable = await tx.unsafe(`copy ${spec.stage} (${names}) from stdin`).writable();
  const lines = function* () {
    for (const row of rows) {
      const r = row as Record<string, unknown>;
      yield `${spec.columns.map(([c]) => copyText(r[c])).join('\t')}\n`;
    }
  };
  await pipeline(Readable.from(lines()), writable);
  const updates = spec.columns.filter(([c]) => c !== spec.key).map(([c]) => `${c} = excluded.${c}`);
  const result = await tx.unsafe(`insert into ${spec.target} as t (${names}) select ${names} from ${spec.stage}
    on conflict (${spec.key}) do update set ${updates.join(', ')} where ${spec.guard}`);
  return result.count;
}

export interface WarehouseWriter {
  write(
    windows: readonly WindowRow[],
    devices: readonly DeviceRow[],
    alerts?: readonly AlertRow[],
  ): Promise<WriteResult>;
}

export interface WarehouseWriterOptions {
  schema?: string;
  /** How rows reach PostgreSQL; both apply the same guard. `unnest` is the default (see the module comment). */
  method?: 'unnest' | 'copy';
}

export function createWarehouseWriter(sql: Sql, options: WarehouseWriterOptions = {}): WarehouseWriter {
  const windowSpec = tableSpec(options.schema, WINDOW_TABLE, WINDOW_COLUMNS, 'id', WINDOW_GUARD);
  const deviceSpec = tableSpec(options.schema, DEVICE_TABLE, DEVICE_COLUMNS, 'device_id', DEVICE_GUARD);
  const alertSpec = tableSpec(options.schema, ALERT_TABLE, ALERT_COLUMNS, 'alert_id', ALERT_GUARD);
  const statement = combinedUpsert(windowSpec, deviceSpec, alertSpec);
  return {
    async write(windows, devices, alerts = []) {
      const w = newestByKey(windows, (r) => r.id, isNewerWindow);
      const d = newestByKey(devices, (r) => r.device_id, isNewerDevice);
      const a = newestByKey(alerts, (r) => r.alert_id, isNewerAlert);
      if (w.length === 0 && d.length === 0 && a.length === 0) return { windowRows: 0, deviceRows: 0, alertRows: 0 };
      if (options.method === 'copy') {
        return sql.begin(async (tx) => ({
          windowRows: w.length > 0 ? await copyUpsert(tx, windowSpec, w) : 0,
          deviceRows: d.length > 0 ? await copyUpsert(tx, deviceSpec, d) : 0,
          alertRows: a.length > 0 ? await copyUpsert(tx, alertSpec, a) : 0,
        }));
      }
      const params = [
        ...toColumnArrays(w, WINDOW_COLUMNS),
        ...toColumnArrays(d, DEVICE_COLUMNS),
        ...toColumnArrays(a, ALERT_COLUMNS),
      ];
      type Counts = { windows: number; devices: number; alerts: number }[];
      // biome-ignore lint/suspicious/noExplicitAny: postgres.js types unsafe() parameters loosely
      const [counts] = await sql.unsafe<Counts>(statement, params as any[]);
      return { windowRows: counts?.windows ?? 0, deviceRows: counts?.devices ?? 0, alertRows: counts?.alerts ?? 0 };
    },
  };
}
