/**
 * Local infrastructure without Docker: a single-node Apache Kafka (KRaft) from Maven Central jars and a
 * PostgreSQL cluster from the system's binaries, both on 127.0.0.1, with data and logs under `.local/`.
 *
 * Used by `npm run infra:*`, by the test suite's global setup and by CI, so all three run the same services
 * the same way. Every command is idempotent. Usage: `tsx scripts/infra.ts up|down|status|wipe|env`.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Admin } from '@platformatic/kafka';
import postgres from 'postgres';
import { z } from 'zod';
import { Backoff } from '../src/core/backoff.js';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const port = z.coerce.number().int().min(1).max(65535);

/** Settings of the local services; every one has a default, so `npm run infra:up` needs no environment. */
export const InfraSettingsSchema = z.object({
  INFRA_DIR: z.string().default(join(projectRoot, '.local')).describe('Where data, logs and pid files live'),
  INFRA_KAFKA_PORT: port.default(9092).describe('Kafka client listener on 127.0.0.1'),
  INFRA_KAFKA_CONTROLLER_PORT: port.default(9093).describe('KRaft controller listener on 127.0.0.1'),
  INFRA_KAFKA_HEAP: z
    .string()
    .regex(/^\d+[mg]$/)
    .default('768m')
    .describe('Broker JVM heap (-Xmx)'),
  INFRA_PG_PORT: port.default(5433).describe('PostgreSQL port on 127.0.0.1'),
  INFRA_PG_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('telemetry'),
  INFRA_PG_DATABASE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('telemetry'),
  INFRA_READY_TIMEOUT_MS: z.coerce.number().int().positive().default(90_000),
});
export type InfraSettings = z.infer<typeof InfraSettingsSchema>;

export function loadInfraSettings(env: Record<string, string | undefined>): InfraSettings {
  const parsed = InfraSettingsSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new InfraError(`invalid infrastructure settings:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export class InfraError extends Error {
  override name = 'InfraError';
}

/** The connection settings the app and the tests read (`KEY=value`). */
export function connectionSettings(s: InfraSettings): Record<string, string> {
  return {
    KAFKA_BROKERS: `127.0.0.1:${s.INFRA_KAFKA_PORT}`,
    DATABASE_URL: `postgres://${s.INFRA_PG_USER}@127.0.0.1:${s.INFRA_PG_PORT}/${s.INFRA_PG_DATABASE}`,
  };
}

const log = (msg: string) => process.stderr.write(`[infra] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function which(cmd: string): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function requireTool(cmd: string, install: string): string {
  const found = which(cmd);
  if (!found) throw new InfraError(`'${cmd}' was not found on PATH. Install it with: ${install}`);
  return found;
}

function portOpen(p: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = createConnection({ host: '127.0.0.1', port: p });
    sock.once('connect', () => {
      sock.destroy();
      res(true);
    });
    sock.once('error', () => res(false));
    sock.setTimeout(1000, () => {
      sock.destroy();
      res(false);
    });
  });
}

function pidAlive(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined; // the process is gone; the stale pid file is overwritten on the next start
  }
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>, logFile: string) {
  const deadline = Date.now() + timeoutMs;
  const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 'none' });
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(backoff.next());
  }
  throw new InfraError(`${what} did not become ready within ${timeoutMs} ms; see ${logFile}`);
}

// ---------------------------------------------------------------------------------------------- Kafka

const kafkaDir = (s: InfraSettings) => join(s.INFRA_DIR, 'kafka');
const pomFile = join(projectRoot, 'infra/kafka/kafka-deps.pom');

/** Resolves the broker classpath with Maven (cached in ~/.m2 and in `.local/kafka/classpath.txt`). */
export function kafkaClasspath(s: InfraSettings): string {
  requireTool('java', 'apt-get install -y openjdk-17-jre-headless');
  const dir = kafkaDir(s);
  mkdirSync(dir, { recursive: true });
  const pomHash = createHash('sha256').update(readFileSync(pomFile)).digest('hex').slice(0, 16);
  const cpFile = join(dir, `classpath-${pomHash}.txt`);
  if (existsSync(cpFile)) {
    const cp = readFileSync(cpFile, 'utf8').trim();
    if (cp.split(':').every((jar) => existsSync(jar))) return cp;
  }
  requireTool('mvn', 'apt-get install -y maven');
  log('resolving Kafka jars from Maven Central (first run only)');
  execFileSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pomFile,
      'org.apache.maven.plugins:maven-dependency-plugin:3.11.0:build-classpath',
      `-Dmdep.outputFile=${cpFile}`,
      '-DincludeScope=runtime',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return readFileSync(cpFile, 'utf8').trim();
}

export function kafkaVersion(): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomFile, 'utf8'));
  if (!m?.[1]) throw new InfraError(`no <kafka.version> in ${pomFile}`);
  return m[1];
}

async function kafkaAnswers(s: InfraSettings): Promise<boolean> {
  if (!(await portOpen(s.INFRA_KAFKA_PORT))) return false;
  const admin = new Admin({
    clientId: 'infra-probe',
    bootstrapBrokers: [`127.0.0.1:${s.INFRA_KAFKA_PORT}`],
    connectTimeout: 2000,
    requestTimeout: 3000,
    retries: 0,
  });
  try {
    const md = await admin.metadata({ topics: [] });
    return md.brokers.size > 0;
  } catch {
    return false; // not ready yet: the caller polls again
  } finally {
    await admin.close().catch(() => undefined);
  }
}

function writeKafkaProperties(s: InfraSettings): string {
  const dir = kafkaDir(s);
  const template = readFileSync(join(projectRoot, 'infra/kafka/server.properties'), 'utf8');
  const file = join(dir, 'server.properties');
  writeFileSync(
    file,
    `${template}
# --- written by scripts/infra.ts
controller.quorum.voters=1@127.0.0.1:${s.INFRA_KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${s.INFRA_KAFKA_PORT},CONTROLLER://127.0.0.1:${s.INFRA_KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${s.INFRA_KAFKA_PORT}
log.dirs=${join(dir, 'data')}
`,
  );
  return file;
}

const jvmFlags = (heap: string) => [
  `-Xms256m`,
  `-Xmx${heap}`,
  '-XX:+UseSerialGC',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
  '-Djava.net.preferIPv4Stack=true',
];

export async function kafkaUp(s: InfraSettings): Promise<void> {
  const dir = kafkaDir(s);
  const pidFile = join(dir, 'kafka.pid');
  const logFile = join(dir, 'kafka.log');
  if (await kafkaAnswers(s)) {
    log(`Kafka already answers on 127.0.0.1:${s.INFRA_KAFKA_PORT}`);
    return;
  }
  if (pidAlive(pidFile)) {
    log('Kafka is starting; waiting for it');
    await waitFor('Kafka', s.INFRA_READY_TIMEOUT_MS, () => kafkaAnswers(s), logFile);
    return;
  }
  if (await portOpen(s.INFRA_KAFKA_PORT)) {
    throw new InfraError(`port ${s.INFRA_KAFKA_PORT} is taken by something that is not Kafka; set INFRA_KAFKA_PORT`);
  }
  const cp = kafkaClasspath(s);
  const props = writeKafkaProperties(s);
  const dataDir = join(dir, 'data');
  const versionFile = join(dir, 'formatted-version');
  const version = kafkaVersion();
  if (existsSync(versionFile) && readFileSync(versionFile, 'utf8').trim() !== version) {
    log(`Kafka version changed to ${version}: wiping the old data directory`);
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    let clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
    mkdirSync(dataDir, { recursive: true });
    const r = spawnSync(
      'java',
      [
        '-Xmx256m',
        '-XX:TieredStopAtLevel=1',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        cp,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        props,
        '--ignore-formatted',
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new InfraError(`formatting Kafka storage failed:\n${r.stderr}`);
    writeFileSync(versionFile, version);
  }
  const out = openSync(logFile, 'a');
  const child = spawn(
    'java',
    [
      ...jvmFlags(s.INFRA_KAFKA_HEAP),
      `-Dkafka.logs.dir=${dir}`,
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      cp,
      'kafka.Kafka',
      props,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  writeFileSync(pidFile, String(child.pid));
  const started = Date.now();
  await waitFor(
    'Kafka',
    s.INFRA_READY_TIMEOUT_MS,
    async () => {
      if (!pidAlive(pidFile)) throw new InfraError(`Kafka exited during start-up; see ${logFile}`);
      return kafkaAnswers(s);
    },
    logFile,
  );
  log(`Kafka ${version} ready on 127.0.0.1:${s.INFRA_KAFKA_PORT} in ${Date.now() - started} ms`);
}

async function stopPid(pidFile: string, what: string, graceMs: number): Promise<void> {
  const pid = pidAlive(pidFile);
  if (!pid) {
    log(`${what} is not running`);
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pidAlive(pidFile)) await sleep(200);
  if (pidAlive(pidFile)) {
    log(`${what} did not stop within ${graceMs} ms; killing it`);
    process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
  log(`${what} stopped`);
}

export async function kafkaDown(s: InfraSettings): Promise<void> {
  await stopPid(join(kafkaDir(s), 'kafka.pid'), 'Kafka', 30_000);
}

// ------------------------------------------------------------------------------------------ PostgreSQL

/**
 * PostgreSQL's folder: `<INFRA_DIR>/postgres`, unless we are root and the `postgres` user (which the server must
 * run as) cannot reach INFRA_DIR, e.g. a clone under a private temporary folder. Then a folder under /var/tmp
 * named after INFRA_DIR is used, so every command of the same checkout finds the same cluster.
 */
function pgDir(s: InfraSettings): string {
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

async function pgAnswers(s: InfraSettings, database = 'postgres'): Promise<boolean> {
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

// ---------------------------------------------------------------------------------------------- CLI

export function writeEnvFile(s: InfraSettings): string {
  mkdirSync(s.INFRA_DIR, { recursive: true });
  const file = join(s.INFRA_DIR, 'infra.env');
  const lines = Object.entries(connectionSettings(s)).map(([k, v]) => `${k}=${v}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return lines.join('\n');
}

/** Starts both services (idempotent) and returns their connection settings. */
export async function infraUp(s: InfraSettings): Promise<Record<string, string>> {
  await Promise.all([postgresUp(s), kafkaUp(s)]);
  writeEnvFile(s);
  return connectionSettings(s);
}

async function status(s: InfraSettings): Promise<boolean> {
  const [k, p] = await Promise.all([kafkaAnswers(s), pgAnswers(s, s.INFRA_PG_DATABASE)]);
  process.stdout.write(`kafka      ${k ? 'running' : 'stopped'}  127.0.0.1:${s.INFRA_KAFKA_PORT}\n`);
  process.stdout.write(`postgresql ${p ? 'running' : 'stopped'}  127.0.0.1:${s.INFRA_PG_PORT}\n`);
  return k && p;
}

async function cli(argv: string[]): Promise<number> {
  const s = loadInfraSettings(process.env);
  switch (argv[0]) {
    case 'up':
      await infraUp(s);
      process.stdout.write(`${writeEnvFile(s)}\n`);
      return 0;
    case 'down':
      await Promise.all([kafkaDown(s), postgresDown(s)]);
      return 0;
    case 'status':
      return (await status(s)) ? 0 : 1;
    case 'wipe':
      await Promise.all([kafkaDown(s), postgresDown(s)]);
      rmSync(kafkaDir(s), { recursive: true, force: true });
      rmSync(pgDir(s), { recursive: true, force: true });
      log(`wiped ${s.INFRA_DIR}`);
      return 0;
    case 'env':
      process.stdout.write(`${writeEnvFile(s)}\n`);
      return 0;
    case 'classpath':
      process.stdout.write(`${kafkaClasspath(s)}\n`);
      return 0;
    default:
      process.stderr.write('usage: tsx scripts/infra.ts up|down|status|wipe|env|classpath\n');
      return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`[infra] ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
