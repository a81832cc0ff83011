/**
 * The Kafka Connect JDBC sink configs (connect/*.json) must give the same tables as the embedded sink: upsert by
 * window id and by device id into the migrated tables, every ksqlDB column renamed to an existing lower-case
 * column, no table creation, no secret in the files. Checked statically against a freshly migrated schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPICS } from '../../src/core/topics.js';
import { migrate } from '../../src/sink/migrate.js';
import { createTestDatabase } from '../helpers/db.js';
import { deviceRecord, windowRecord } from './fixtures.js';

const dir = join(import.meta.dirname, '..', '..', 'connect');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const connectors = files.map((file) => ({
  file,
  body: JSON.parse(readFileSync(join(dir, file), 'utf8')) as { name: string; config: Record<string, string> },
}));

const { sql, schema } = await createTestDatabase();
await migrate(sql, { schema });

async function tableShape(table: string) {
  const columns = await sql<{ column_name: string; is_generated: string }[]>`
    select column_name, is_generated from information_schema.columns
    where table_schema = ${schema} and table_name = ${table}`;
  const pk = await sql<{ column_name: string }[]>`
    select k.column_name from information_schema.table_constraints c
    join information_schema.key_column_usage k using (constraint_schema, constraint_name)
    where c.table_schema = ${schema} and c.table_name = ${table} and c.constraint_type = 'PRIMARY KEY'`;
  return {
    writable: new Set(columns.filter((c) => c.is_generated === 'NEVER').map((c) => c.column_name)),
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

/** ksqlDB's value columns per output topic (the per-device key column DEVICE_ID is not in the value). */
const VALUE_COLUMNS: Record<string, string[]> = {
  [TOPICS.DEVICE_WINAGG_STATUS_PER2S]: Object.keys(windowRecord('d', 0, 1)),
  [TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE]: Object.keys(deviceRecord(1)),
};

describe('connect/ JDBC sink configs', () => {
  it('cover both ksqlDB output topics, one connector each, with unique names', () => {
    expect(connectors.map((c) => c.body.config['topics']).sort()).toEqual([
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
      const renames = new Map(
        c[`transforms.${transform}.renames`]!.split(',').map((pair) => pair.split(':') as [string, string]),
      );
      const topic = c['topics']!;
      // Every ksqlDB value column lands in a real, writable, lower-case column.
      for (const column of VALUE_COLUMNS[topic]!) {
        const target = renames.get(column);
        expect(target, `${topic}.${column} is renamed`).toBeDefined();
        expect(target).toBe(target!.toLowerCase());
        expect(shape.writable.has(target!), `${table}.${target} exists`).toBe(true);
      }
      if (topic === TOPICS.DEVICE_WINAGG_STATUS_PER2S) {
        // One row per window: the PK is the window id from the value; the windowed key bytes are not decoded.
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
});
