/**
 * The static sink model the deployment test relies on: it must see what a JDBC sink config would get wrong.
 */
import { describe, expect, it } from 'vitest';
import { parseTables, targetTable, writtenRecord } from './sink-model.js';

const TABLES = parseTables(`
-- a comment with an apostrophe: ksqlDB's ID
CREATE TABLE device_x (
  id text PRIMARY KEY,
  device_id text NOT NULL,           -- not null, must be written
  avg_temp double precision,
  window_start bigint NOT NULL,
  window_start_at timestamptz GENERATED ALWAYS AS (to_timestamp(window_start / 1000.0)) STORED,
  CONSTRAINT bounds CHECK (window_start >= 0)
);
CREATE TABLE IF NOT EXISTS public.Latest (device_id text, v double precision, PRIMARY KEY (device_id));
`);

const sink = (config: Record<string, string>) => ({
  name: 'c',
  config: { 'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector', ...config },
});

describe('parseTables', () => {
  it('reads columns, NOT NULL, generated columns and primary keys', () => {
    const x = TABLES.get('device_x')!;
    expect([...x.columns.keys()]).toEqual(['id', 'device_id', 'avg_temp', 'window_start', 'window_start_at']);
    expect(x.primaryKey).toEqual(['id']);
    expect(x.columns.get('device_id')).toMatchObject({ notNull: true, filledByDatabase: false });
    expect(x.columns.get('window_start_at')).toMatchObject({ filledByDatabase: true });
    expect(TABLES.get('latest')?.primaryKey).toEqual(['device_id']);
  });
});

describe('targetTable and writtenRecord', () => {
  it('resolves the table name as PostgreSQL will, quoted or folded', () => {
    expect(targetTable(sink({ 'quote.sql.identifiers': 'never' }), 'DEVICE_X')).toBe('device_x');
    expect(targetTable(sink({}), 'DEVICE_X')).toBe('DEVICE_X'); // quoted by default: a different table
    expect(targetTable(sink({ 'table.name.format': 'public.device_x' }), 'T')).toBe('device_x');
  });

  it('applies renames and excludes, folds case, and adds the key columns', () => {
    const written = writtenRecord(
      sink({
        'quote.sql.identifiers': 'never',
        'pk.mode': 'record_key',
        'pk.fields': 'DEVICE_ID',
        transforms: 'r',
        'transforms.r.type': 'org.apache.kafka.connect.transforms.ReplaceField$Value',
        'transforms.r.renames': 'dev_id:device_id,AVG_TMP:avg_temp',
        'transforms.r.exclude': 'DI_',
      }),
      ['ID', 'dev_id', 'AVG_TEMP', 'DI_'],
    );
    expect(written.valueColumns).toEqual(['id', 'device_id', 'avg_temp']);
    expect(written.keyColumns).toEqual(['device_id']);
    expect(written.unknownRenames).toEqual(['AVG_TMP']); // the typo is reported
  });

  it('refuses transforms it does not model', () => {
    const config = sink({ transforms: 'x', 'transforms.x.type': 'org.apache.kafka.connect.transforms.Cast$Value' });
    expect(() => writtenRecord(config, ['A'])).toThrow(/not modelled/);
  });
});
