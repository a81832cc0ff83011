/**
 * The PostgreSQL connection pool (postgres.js). Connections are made lazily, so creating the pool never
 * fails; `pingDatabase` is the readiness probe.
 */
import postgres from 'postgres';
import { UnavailableError } from '../errors.js';

export type Sql = postgres.Sql;

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  /** Schema put first on the search path; tests use one schema per file. */
  schema?: string;
  applicationName?: string;
}

export function createDatabase(options: DatabaseOptions): Sql {
  return postgres(options.url, {
    max: options.poolMax,
    connect_timeout: 5,
    idle_timeout: 30,
    onnotice: () => undefined,
    connection: {
      application_name: options.applicationName ?? 'telemetry-pipeline',
      ...(options.schema ? { search_path: `${options.schema},public` } : {}),
    },
    // int8 columns hold epoch milliseconds and counts, all far below 2^53: plain numbers serialize to JSON.
    types: {
      bigint: { to: 20, from: [20], serialize: (v: number | bigint) => String(v), parse: (v: string) => Number(v) },
    },
  });
}

export async function pingDatabase(sql: Sql): Promise<void> {
  try {
    await sql`select 1`;
  } catch (err) {
    throw new UnavailableError('postgresql', 'PostgreSQL is unreachable', err);
  }
}
