/**
 * Per-file PostgreSQL isolation: a fresh schema, first on the search path, dropped after the file.
 */
import { afterAll, inject } from 'vitest';
import { createDatabase, type Sql } from '../../src/sink/database.js';
import { uniqueName } from './kafka.js';

export const databaseUrl = () => inject('databaseUrl');

export async function createTestDatabase(): Promise<{ sql: Sql; schema: string }> {
  const schema = uniqueName('test');
  const admin = createDatabase({ url: databaseUrl(), poolMax: 1 });
  await admin.unsafe(`create schema ${schema}`);
  const sql = createDatabase({ url: databaseUrl(), poolMax: 4, schema });
  afterAll(async () => {
    await sql.end({ timeout: 5 });
    await admin.unsafe(`drop schema if exists ${schema} cascade`);
    await admin.end({ timeout: 5 });
  });
  return { sql, schema };
}
