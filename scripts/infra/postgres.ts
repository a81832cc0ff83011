/**
 * A PostgreSQL cluster from the system's binaries (`initdb`, `pg_ctl`), on 127.0.0.1, with data and log under
 * `<INFRA_DIR>/postgres`; as root it runs as the `postgres` user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import postgres from 'postgres';
import { InfraError, type InfraSettings, log, portOpen, waitFor, which } from './common.js';

/**
 * PostgreSQL's folder: `<INFRA_DIR>/postgres`, unless we are root and the `postgres` user (which the server must
 * run as) cannot reach INFRA_DIR, e.g. a clone under a private temporary folder. Then a folder under /var/tmp
 * named after INFRA_DIR is used, so every command of the same checkout finds the same cluster.
 */
export function pgDir(s: InfraSettings): string {
  const local = join(s.INFRA_DIR, 'postgres');
  if (!isRoot()) return local;
  mkdirSync(s.INFRA_DIR, { recursive: true });
  if (pgRun('test', ['-x', s.INFRA_DIR]).status === 0) return local;
  const id = createHash('sha256').update(resolve(s.INFRA_DIR)).digest('hex').slice(0, 12);
  return join('/var/tmp/telemetry-pipeline', id, 'postgres');
}

/**
 * Finds initdb/pg_ctl: on PATH first, else in Debian's versioned folders (`/usr/lib/postgresql/<v>/bin`,
 * not on PATH), newest version first.
 */
export function postgresBinDir(base = '/usr/lib/postgresql'): string {
  const initdb = which('initdb');
  if (initdb && which('pg_ctl')) return dirname(initdb);
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin/initdb')));
    versions.sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  throw new InfraError(
    'PostgreSQL server binaries (initdb, pg_ctl) were not found. ' +
      'Install them with: apt-get update && apt-get install -y postgresql',
  );
}

const isRoot = () => process.getuid?.() === 0;

/** PostgreSQL refuses to run as root; as root we run its binaries as the `postgres` system user. */
function pgRun(bin: string, args: string[], opts: { stdio?: 'inherit' | 'ignore' } = {}) {
  const cmd = isRoot() ? (existsSync('/usr/sbin/runuser') ? '/usr/sbin/runuser' : 'runuser') : bin;
  const argv = isRoot() ? ['-u', 'postgres', '--', bin, ...args] : args;
  return spawnSync(cmd, argv, { encoding: 'utf8', stdio: opts.stdio === 'inherit' ? 'inherit' : 'pipe' });
}

export async function pgAnswers(s: InfraSettings, database = 'postgres'): Promise<boolean> {
  if (!(await portOpen(s.INFRA_PG_PORT))) return false;
  const sql = postgres({
    host: '127.0.0.1',
    port: s.INFRA_PG_PORT,
    user: s.INFRA_PG_USER,
    database,
    connect_timeout: 2,
    max: 1,
    onnotice: () => undefined,
  });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false; // starting up, or not ours yet
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export async function postgresUp(s: InfraSettings): Promise<void> {
  const dir = pgDir(s);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  if (await pgAnswers(s, s.INFRA_PG_DATABASE)) {
    log(`PostgreSQL already answers on 127.0.0.1:${s.INFRA_PG_PORT}`);
    return;
  }
  const bin = postgresBinDir();
  if (isRoot() && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    throw new InfraError(
      'running as root needs the "postgres" system user to run PostgreSQL; ' +
        'install it with: apt-get install -y postgresql',
    );
  }
  mkdirSync(dir, { recursive: true });
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    if (pgRun('test', ['-w', dir]).status !== 0) {
      throw new InfraError(`the postgres user cannot write ${dir}; set INFRA_DIR to a folder it can reach`);
    }
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const r = pgRun(join(bin, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      s.INFRA_PG_USER,
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    if (r.status !== 0) throw new InfraError(`initdb failed:\n${r.stderr}`);
  }
  const started = Date.now();
  if (!(await portOpen(s.INFRA_PG_PORT))) {
    const options = `-h 127.0.0.1 -p ${s.INFRA_PG_PORT} -k ${dir} -c max_connections=300 -c shared_buffers=256MB`;
    const r = pgRun(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options, 'start']);
    if (r.status !== 0) throw new InfraError(`pg_ctl start failed (see ${logFile}):\n${r.stderr}${r.stdout}`);
  }
  await waitFor('PostgreSQL', s.INFRA_READY_TIMEOUT_MS, () => pgAnswers(s), logFile);
  const sql = postgres({
    host: '127.0.0.1',
    port: s.INFRA_PG_PORT,
    user: s.INFRA_PG_USER,
    database: 'postgres',
    max: 1,
    onnotice: () => undefined,
  });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${s.INFRA_PG_DATABASE}`;
    if (rows.length === 0) await sql.unsafe(`create database ${s.INFRA_PG_DATABASE}`);
  } finally {
    await sql.end({ timeout: 1 });
  }
  log(`PostgreSQL ready on 127.0.0.1:${s.INFRA_PG_PORT} in ${Date.now() - started} ms (data in ${dataDir})`);
}

export async function postgresDown(s: InfraSettings): Promise<void> {
  const dataDir = join(pgDir(s), 'data');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log('PostgreSQL has no cluster here');
    return;
  }
  const r = pgRun(join(postgresBinDir(), 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  log(r.status === 0 ? 'PostgreSQL stopped' : 'PostgreSQL is not running');
}
