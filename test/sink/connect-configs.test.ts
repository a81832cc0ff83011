/**
 * The Kafka Connect JDBC sink configs (connect/*.json) must give the same tables as the embedded sink: upsert by
 * window id, by device id and by alert id into the migrated tables, every ksqlDB column renamed to an existing
 * lower-case column (of a compatible type where ksqlDB declares the type), no table creation, no secret in the
 * files. Checked statically against a freshly migrated schema; the alert sink's upsert, in the statement shape of
 * the JDBC sink's PostgreSQL dialect, also runs against it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AlertRecord, AlertRecordSchema } from '../../src/core/alerts/alert-record.js';
import { TOPICS } from '../../src/core/topics.js';
import { migrate } from '../../src/sink/migrate.js';
import { formatCopySource, readKsqlObjects } from '../deployment/ksql-model.js';
import { createTestDatabase } from '../helpers/db.js';
import { alertRow, deviceRecord, windowRecord } from './fixtures.js';

const dir = join(import.meta.dirname, '..', '..', 'connect');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const connectors = files.map((file) => ({
  file,
  body: JSON.parse(readFileSync(join(dir, file), 'utf8')) as { name: string; config: Record<string, string> },
}));

const { sql, schema } = await createTestDatabase();
await migrate(sql, { schema });

async function tableShape(table: string) {
  const columns = await sql<{ column_name: string; is_generated: string; data_type: string; is_nullable: string }[]>`
    select column_name, is_generated, data_type, is_nullable from information_schema.columns
    where table_schema = ${schema} and table_name = ${table}`;
  const pk = await sql<{ column_name: string }[]>`
    select k.column_name from information_schema.table_constraints c
    join information_schema.key_column_usage k using (constraint_schema, constraint_name)
    where c.table_schema = ${schema} and c.table_name = ${table} and c.constraint_type = 'PRIMARY KEY'`;
  return {
    writable: new Set(columns.filter((c) => c.is_generated === 'NEVER').map((c) => c.column_name)),
    types: new Map(columns.map((c) => [c.column_name, c.data_type])),
    notNull: new Set(columns.filter((c) => c.is_nullable === 'NO').map((c) => c.column_name)),
    pk: pk.map((p) => p.column_name),
  };
}

const REQUIRED = [
  'connector.class',
  'tasks.max',
  'topics',
  'table.name.format',
  'connection.url',
  'connection.user',
  'connection.password',
  'key.converter',
  'value.converter',
  'value.converter.schema.registry.url',
  'insert.mode',
  'pk.mode',
  'pk.fields',
  'auto.create',
  'auto.evolve',
  'quote.sql.identifiers',
  'transforms',
];

const ksql = readKsqlObjects(join(import.meta.dirname, '..', '..', 'ksql'));
const alertCopy = ksql.find((o) => o.topic === TOPICS.DEVICE_ALERTS_AVRO)!;
/** The stream it copies: ksqlDB's declared column types, which the Avro copy keeps. */
const alertSource = formatCopySource(alertCopy, ksql)!;
const alertKeys = alertCopy.keyColumns();

/** ksqlDB's value columns per output topic (key columns such as the per-device DEVICE_ID are not in the value). */
const VALUE_COLUMNS: Record<string, string[]> = {
  [TOPICS.DEVICE_WINAGG_STATUS_PER2S]: Object.keys(windowRecord('d', 0, 1)),
  [TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE]: Object.keys(deviceRecord(1)),
  [TOPICS.DEVICE_ALERTS_AVRO]: alertCopy.columns().filter((c) => !alertKeys.includes(c)),
};

/** What a JDBC sink column of each ksqlDB type may be (Avro string, long, double through Connect's schema types). */
const COMPATIBLE: Record<string, string[]> = {
  VARCHAR: ['text', 'character varying'],
  STRING: ['text', 'character varying'],
  BIGINT: ['bigint'],
  INTEGER: ['integer', 'bigint'],
  INT: ['integer', 'bigint'],
  DOUBLE: ['double precision'],
  BOOLEAN: ['boolean'],
};

const renamesOf = (c: Record<string, string>) =>
  new Map(c[`transforms.${c['transforms']}.renames`]!.split(',').map((pair) => pair.split(':') as [string, string]));

describe('connect/ JDBC sink configs', () => {
  it("cover both ksqlDB tables and ksqlDB's copy of the alerts, one connector each, with unique names", () => {
    expect(connectors.map((c) => c.body.config['topics']).sort()).toEqual([
      TOPICS.DEVICE_ALERTS_AVRO,
      TOPICS.DEVICE_WINAGG_STATUS_PER2S,
      TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE,
    ]);
    expect(new Set(connectors.map((c) => c.body.name)).size).toBe(connectors.length);
  });

  it.each(connectors)('$file has every required key and no secret', ({ body }) => {
    expect(body.name).toMatch(/^[a-z0-9-]+$/);
    for (const key of REQUIRED) expect(body.config, key).toHaveProperty(key);
    for (const value of Object.values(body.config)) expect(typeof value).toBe('string');
    const c = body.config;
    expect(c['connector.class']).toBe('io.confluent.connect.jdbc.JdbcSinkConnector');
    expect(c['connection.password']).toMatch(/^\$\{env:[A-Z_]+\}$/);
    expect(c['connection.user']).toMatch(/^\$\{env:[A-Z_]+\}$/);
    expect(c['connection.url']).toMatch(/^jdbc:postgresql:\/\//);
    expect(c['connection.url']).not.toMatch(/password=/i);
    expect(c['value.converter']).toBe('io.confluent.connect.avro.AvroConverter');
    expect(c['value.converter.schema.registry.url']).toBe('http://redpanda:8081');
    expect(c['insert.mode']).toBe('upsert');
    expect(c['auto.create']).toBe('false');
    expect(c['auto.evolve']).toBe('false');
    expect(c['quote.sql.identifiers']).toBe('never');
    // Every value field is written: none of them is a generated or a source-position column, so no field list
    // (`fields.whitelist`) has to keep anything out.
    expect(c).not.toHaveProperty('fields.whitelist');
  });

  it.each(connectors)(
    '$file upserts into a migrated table by its primary key, every column renamed to one of its columns',
    async ({ body }) => {
      const c = body.config;
      const table = c['table.name.format']!;
      const shape = await tableShape(table);
      expect(shape.writable.size, `${table} exists after the migrations`).toBeGreaterThan(0);
      expect(c['pk.fields']!.split(',')).toEqual(shape.pk);

      const transform = c['transforms']!;
      expect(c[`transforms.${transform}.type`]).toBe('org.apache.kafka.connect.transforms.ReplaceField$Value');
      const renames = renamesOf(c);
      const topic = c['topics']!;
      // Every ksqlDB value column lands in a real, writable, lower-case column.
      for (const column of VALUE_COLUMNS[topic]!) {
        const target = renames.get(column);
        expect(target, `${topic}.${column} is renamed`).toBeDefined();
        expect(target).toBe(target!.toLowerCase());
        expect(shape.writable.has(target!), `${table}.${target} exists`).toBe(true);
      }
      // The embedded sink's source position stays NULL when Connect writes the row.
      for (const target of renames.values()) expect(['kafka_partition', 'kafka_offset']).not.toContain(target);
      if (topic === TOPICS.DEVICE_WINAGG_STATUS_PER2S || topic === TOPICS.DEVICE_ALERTS_AVRO) {
        // One row per window id / alert id, from the value; the key bytes (the windowed key, the device id) are
        // not decoded.
        expect(c['pk.mode']).toBe('record_value');
        expect(c['key.converter']).toBe('org.apache.kafka.connect.converters.ByteArrayConverter');
      } else {
        // One row per device: the PK is the AVRO string key.
        expect(c['pk.mode']).toBe('record_key');
        expect(c['key.converter']).toBe('io.confluent.connect.avro.AvroConverter');
        expect(c['key.converter.schema.registry.url']).toBe('http://redpanda:8081');
      }
    },
  );

  it('device-alerts.json: every column of the Avro copy lands in a column of its type; NOT NULL only where the alert record never has null', async () => {
    const c = connectors.find((x) => x.body.config['topics'] === TOPICS.DEVICE_ALERTS_AVRO)!.body.config;
    const shape = await tableShape('device_alerts');
    const renames = renamesOf(c);
    for (const column of alertSource.declared.filter((d) => !d.key)) {
      const target = renames.get(column.name)!;
      expect(COMPATIBLE[column.type], `${column.name} ${column.type}`).toContain(shape.types.get(target));
    }
    // ksqlDB writes every Avro field as optional: a NOT NULL column must get a field the record always fills.
    const nullable = (name: string) => AlertRecordSchema.shape[name as keyof AlertRecord].safeParse(null).success;
    for (const target of renames.values()) {
      if (shape.notNull.has(target)) expect(nullable(target), `${target} is NOT NULL`).toBe(false);
    }
  });

  it('device-alerts.json: the upsert the JDBC sink sends is accepted, and the last record written wins (no revision guard)', async () => {
    const c = connectors.find((x) => x.body.config['topics'] === TOPICS.DEVICE_ALERTS_AVRO)!.body.config;
    const renames = renamesOf(c);
    const key = c['pk.fields']!.split(',');
    const columns = VALUE_COLUMNS[TOPICS.DEVICE_ALERTS_AVRO]!.map((col) => renames.get(col)!);
    const rest = columns.filter((col) => !key.includes(col));
    // The statement shape of the Confluent JDBC sink's PostgreSQL dialect (buildUpsertQueryStatement): key
    // columns first, ON CONFLICT on them, every other record column set from EXCLUDED, nothing else.
    const ordered = [...key, ...rest];
    const statement =
      `INSERT INTO device_alerts (${ordered.join(',')}) VALUES (${ordered.map((_, i) => `$${i + 1}`).join(',')}) ` +
      `ON CONFLICT (${key.join(',')}) DO UPDATE SET ${rest.map((col) => `${col}=EXCLUDED.${col}`).join(',')}`;
    const write = (revision: number, cleared: boolean) => {
      const row = alertRow('dev-connect', revision, cleared) as unknown as Record<string, unknown>;
      return sql.unsafe(
        statement,
        ordered.map((col) => row[col] as string | number | null),
      );
    };
    type Stored = { revision: number; status: string; cleared_at_time: Date | null; opened_at_time: Date };
    const stored = async () =>
      (
        await sql<(Stored & { kafka_offset: null })[]>`
          select revision, status, cleared_at_time, opened_at_time, kafka_offset from device_alerts
          where device_id = 'dev-connect'`
      )[0];
    await write(1, false);
    await write(3, true);
    // The generated columns follow what Connect wrote; the embedded sink's source position stays NULL.
    expect(await stored()).toMatchObject({ revision: 3, cleared_at_time: new Date(1_700_000_009_000) });
    await write(2, false); // a replay's older revision, read after the newer one: it overwrites
    expect(await stored()).toEqual({
      revision: 2,
      status: 'active',
      cleared_at_time: null,
      opened_at_time: new Date(1_700_000_000_000),
      kafka_offset: null,
    });
  });
});
