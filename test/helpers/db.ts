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

/**
 * A fresh database on the shared server, dropped after the file: for a whole app process, which migrates into
 * its own database and cannot be pointed at a schema. Returns its URL.
 */
export async function createTestDatabaseUrl(): Promise<string> {
  const name = uniqueName('test_db');
  const admin = createDatabase({ url: databaseUrl(), poolMax: 1 });
  await admin.unsafe(`create database ${name}`);
  afterAll(async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end({ timeout: 5 });
  });
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}
