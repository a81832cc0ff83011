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
  /** Bound on opening a connection. @default 5000 */
  connectTimeoutMs?: number;
  /** Server-side `statement_timeout` of every statement on this pool; none when absent. */
  statementTimeoutMs?: number;
}

export function createDatabase(options: DatabaseOptions): Sql {
  return postgres(options.url, {
    max: options.poolMax,
    // postgres.js takes seconds; fractions work.
    connect_timeout: (options.connectTimeoutMs ?? 5000) / 1000,
    idle_timeout: 30,
    // postgres.js waits before each new connection attempt, growing to 20 s after repeated failures (3^n / 100 s):
    // every query of the pool then waited that long during an outage, and the API answered 504 instead of 503.
    // The callers retry with backoff of their own (sink, start-up), so attempts here wait at most 250 ms.
    backoff: (retries: number) => Math.min(retries, 5) * 0.05,
    onnotice: () => undefined,
    connection: {
      application_name: options.applicationName ?? 'telemetry-pipeline',
      ...(options.schema ? { search_path: `${options.schema},public` } : {}),
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
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
