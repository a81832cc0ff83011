import { describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../../src/sink/migrate.js';
import { createTestDatabase } from '../helpers/db.js';

const { sql, schema } = await createTestDatabase();

async function tables(): Promise<string[]> {
  const rows = await sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = ${schema} order by table_name`;
  return rows.map((r) => r.table_name);
}

async function columns(table: string): Promise<Record<string, { type: string; nullable: boolean }>> {
  const rows = await sql<{ column_name: string; data_type: string; is_nullable: string }[]>`
    select column_name, data_type, is_nullable from information_schema.columns
    where table_schema = ${schema} and table_name = ${table}`;
  return Object.fromEntries(rows.map((r) => [r.column_name, { type: r.data_type, nullable: r.is_nullable === 'YES' }]));
}

describe('migrations', () => {
  it('creates the warehouse tables in an empty schema and records every file', async () => {
    expect(await tables()).toEqual([]);
    const files = await loadMigrations();
    const result = await migrate(sql, { schema });
    expect(result.applied).toHaveLength(files.length);
    expect(await tables()).toEqual([
      'device_alerts',
      'device_winagg_status_per2s',
      'device_winagg_status_perdevice',
      'schema_migrations',
    ]);
    const recorded = await sql<{ version: number }[]>`select version from schema_migrations order by version`;
    expect(recorded.map((r) => r.version)).toEqual(files.map((f) => f.version));
  });

  it('gives the tables the column names and types of the result contract', async () => {
    const per2s = await columns('device_winagg_status_per2s');
    expect(per2s['id']).toEqual({ type: 'text', nullable: false });
    expect(per2s['window_start']?.type).toBe('bigint');
    expect(per2s['event_ts']?.type).toBe('bigint');
    expect(per2s['event_count']?.type).toBe('bigint');
    expect(per2s['latitude']?.type).toBe('double precision');
    expect(per2s['avg_temp']).toEqual({ type: 'double precision', nullable: true });
    expect(per2s['window_start_at']?.type).toBe('timestamp with time zone');
    const perdevice = await columns('device_winagg_status_perdevice');
    expect(perdevice['device_id']).toEqual({ type: 'text', nullable: false });
    expect(perdevice['temperature']).toEqual({ type: 'double precision', nullable: true });
    expect(perdevice['event_ts']?.type).toBe('bigint');
  });

  it('is a no-op when run again', async () => {
    const before = await sql`select version, applied_at from schema_migrations order by version`;
    const result = await migrate(sql, { schema });
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toBe(before.length);
    expect(await sql`select version, applied_at from schema_migrations order by version`).toEqual(before);
  });

  it('applies once when several instances start at the same time', async () => {
    const other = `${schema}_race`;
    try {
      const results = await Promise.all([1, 2, 3].map(() => migrate(sql, { schema: other })));
      const appliedCounts = results.map((r) => r.applied.length).sort();
      expect(appliedCounts).toEqual([0, 0, (await loadMigrations()).length]);
    } finally {
      await sql.unsafe(`drop schema if exists "${other}" cascade`);
    }
  });

  it('refuses to run when an applied migration was edited', async () => {
    await sql`update schema_migrations set checksum = 'edited' where version = 1`;
    await expect(migrate(sql, { schema })).rejects.toThrow(/changed after it was applied/);
  });
});
