/**
 * Versioned SQL migrations: the files `migrations/NNNN_name.sql` at the repository root, applied in version
 * order and recorded in `schema_migrations`. Used at start-up (`DATABASE_MIGRATE=true`) and by
 * `npm run migrate`.
 *
 * Safety: everything runs in one transaction that first takes a transaction-scoped advisory lock keyed by the
 * target schema, so two instances starting at once serialize — the second waits, then finds nothing pending.
 * A failing file rolls the whole run back. An applied file whose content changed is refused (checksum), so a
 * database never silently diverges from the repository. Statements that cannot run inside a transaction
 * (`CREATE INDEX CONCURRENTLY`) are therefore not supported.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../observability/logger.js';
import type { Sql } from './database.js';

/** `migrations/` sits two levels above both `src/sink/` and `dist/sink/`, so one path serves tsx and node. */
export const DEFAULT_MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateOptions {
  /** Schema the tables go into; created if missing. Defaults to the connection's current schema. */
  schema?: string;
  dir?: string;
  logger?: Logger;
}

export interface MigrateResult {
  schema: string;
  applied: string[];
  alreadyApplied: number;
}

export async function loadMigrations(dir = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match?.[1] || !match[2]) throw new Error(`migration file ${file} does not match NNNN_name.sql`);
    const sql = await readFile(join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2],
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  const versions = migrations.map((m) => m.version);
  if (new Set(versions).size !== versions.length) throw new Error(`duplicate migration versions in ${dir}`);
  return migrations;
}

export async function migrate(sql: Sql, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = await loadMigrations(options.dir);
  return sql.begin(async (tx) => {
    const [row] = await tx<{ schema: string | null }[]>`select current_schema() as schema`;
    const schema = options.schema ?? row?.schema ?? 'public';
    // Lock first: even `create schema if not exists` races when two instances run it at once.
    await tx`select pg_advisory_xact_lock(hashtext(${`telemetry-pipeline:migrations:${schema}`}))`;
    await tx`create schema if not exists ${tx(schema)}`;
    await tx.unsafe(`set local search_path to ${quoteIdent(schema)}`);
    await tx`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`;
    const done = await tx<{ version: number; name: string; checksum: string }[]>`
      select version, name, checksum from schema_migrations order by version`;
    const byVersion = new Map(done.map((d) => [d.version, d]));
    const applied: string[] = [];
    for (const m of migrations) {
      const previous = byVersion.get(m.version);
      if (previous) {
        if (previous.checksum !== m.checksum) {
          throw new Error(
            `migration ${m.version}_${m.name} was changed after it was applied to schema ${schema}; ` +
              'add a new migration instead of editing an applied one',
          );
        }
        continue;
      }
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
      applied.push(`${String(m.version).padStart(4, '0')}_${m.name}`);
    }
    options.logger?.info({ schema, applied, alreadyApplied: done.length }, 'migrations_applied');
    return { schema, applied, alreadyApplied: done.length };
  });
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
